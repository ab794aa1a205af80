// An image under construction: the step that writes it, to which later plugins append in-place edits
// (BTFIDS, SORTTAB, BTF [M]) and readers (System.map). All of them run on the temporary file before it
// is renamed into place, so a rerun always starts from the original inputs (principle 1).
import type { Command, Step } from './step.js';
import type { ImageBuilder } from '../plugin-api.js';

export function imageBuilder(step: Step, image: string): ImageBuilder {
  const addInputs = (extra: readonly string[] | undefined) => {
    for (const i of extra ?? []) if (!step.inputs.includes(i) && !step.outputs.includes(i)) step.inputs.push(i);
  };
  return {
    path: image,
    stage: step.stage,
    step,
    edit(plugin, command, extraInputs) {
      const action = command.action.kind === 'exec' ? { ...command.action, inPlace: image } : command.action;
      step.commands.push({ ...command, action, plugin } as Command);
      addInputs(extraInputs);
    },
    produce(plugin, command, outputs, extraInputs, scratch) {
      step.commands.push({ ...command, plugin } as Command);
      for (const o of outputs) if (!step.outputs.includes(o)) step.outputs.push(o);
      if (scratch && scratch.length > 0) step.scratch = [...(step.scratch ?? []), ...scratch];
      addInputs(extraInputs);
    },
  };
}
