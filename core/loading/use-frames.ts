// Every plan error points at a place in a pipeline file (issue 15). The step graph's checks (an input
// no step produces, an output outside the tree, two writers of one file, a cycle) know the steps and
// the plugins that made them, not the pipeline; the plugin's `use` line is where a user turns it off
// or changes its options, so that is the frame, as a plugin's exception already has.
import type { Diagnostic } from '../diagnostic.js';
import type { Step } from '../planning/step.js';
import type { StageGraph } from '../planning/stage-graph.js';

/** The diagnostics, each one that names a plugin and has no range given that plugin's `use` line. */
export function attachUseFrames(diagnostics: readonly Diagnostic[], steps: readonly Step[], graph: StageGraph): Diagnostic[] {
  return diagnostics.map((d) => {
    if (d.range || !d.plugin) return d;
    // The stage of the step the message names (the longest id that fits), else the plugin's first use.
    const named = steps
      .filter((s) => s.plugin === d.plugin && d.message.includes(s.id))
      .sort((a, b) => b.id.length - a.id.length)[0];
    const uses = graph.stages.flatMap((s) => s.uses).filter((u) => u.plugin === d.plugin && u.active);
    const use = uses.find((u) => u.stage === named?.stage) ?? uses[0];
    return use ? { ...d, range: use.range } : d;
  });
}
