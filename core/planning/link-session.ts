// The vmlinux link of one stage, as `scripts/link-vmlinux.sh` does it, but with the sequence derived
// from what plugins ask for instead of written out by hand:
//   1. plugins tap `beforeLinks` and request temporary links (kallsyms pass 1, BTF);
//   2. all requests of a round are served by ONE link (they see the same inputs and differ only in
//      whether they need debug info): seed 004's merge of the BTF and kallsyms links falls out here instead of being special-cased;
//      `--strip-debug` only when no request needs debug info;
//   3. each request's `onLinked` adds the steps that read that link and may request the next round;
//   4. when no request is left, the final link, then `afterLink` taps edit or read the image.
import type { Command, Step } from './step.js';
import type { KpipeHooks } from '../hooks.js';
import type { LinkSession, LinkSpec, StageBuilder, TemporaryLinkRequest, LinkedImage } from '../plugin-api.js';
import { imageBuilder } from './image-builder.js';

export interface LinkBase {
  /** The plugin that owns the link command (`link`). */
  plugin: string;
  /** Objects every link starts from (before plugins add theirs). */
  wholeArchive: string[];
  libraries: string[];
  /** Inputs that are not on the command line but change the result (the linker script). */
  implicitInputs: string[];
  /** Builds the command for a spec: the `vmlinux_link` of link-vmlinux.sh. */
  command(spec: LinkSpec): Command;
  /**
   * kbuild compiles the first link's command runs before linking, and only when that link runs
   * (link-vmlinux.sh's `make -f scripts/Makefile.build obj=init init/version-timestamp.o`): what they
   * write (ExecCommand.kbuildWrites) is an output of the first link, never an input that could make
   * it rerun, so a timestamp that changes on every compile cannot relink vmlinux by itself.
   */
  prelude?: Command[];
}

/** The link plan for explain: which requests each temporary link served. */
export interface LinkRecord {
  image: LinkedImage;
  stripDebug: boolean;
  step: Step;
}

export function runLinkSession(hooks: KpipeHooks, builder: StageBuilder, base: LinkBase): { final: Step; links: LinkRecord[] } {
  const stage = builder.stage;
  const objects = new Map<string, { path: string; order: number }>();
  let pending: TemporaryLinkRequest[] = [];
  const links: LinkRecord[] = [];

  const specFor = (output: string, number: number, stripDebug: boolean): LinkSpec => {
    const current = [...objects.values()].sort((a, b) => a.order - b.order).map((o) => o.path);
    const spec: LinkSpec = {
      output,
      wholeArchive: [...base.wholeArchive],
      libraries: [...base.libraries],
      objects: current,
      flags: [],
      stripDebug,
      temporary: number > 0,
      number,
    };
    return hooks.linkSpec.for(stage).call(spec);
  };
  const inputsOf = (spec: LinkSpec) => [...spec.wholeArchive, ...spec.libraries, ...spec.objects, ...base.implicitInputs];
  // The first link of the session carries the prelude: its compiles, then the link itself.
  let prelude = base.prelude ?? [];
  const addLink = (spec: LinkSpec): Step => {
    const written = prelude.flatMap((c) => (c.action.kind === 'exec' ? c.action.kbuildWrites ?? [] : []));
    const step = builder.addStep(base.plugin, {
      commands: [...prelude, base.command(spec)],
      inputs: inputsOf(spec).filter((p) => !written.includes(p)),
      outputs: [spec.output, ...written],
    });
    prelude = [];
    return step;
  };

  const session: LinkSession = {
    stage,
    builder,
    requestTemporaryLink(request) {
      pending.push(request);
    },
    setLinkObject(key, path, order) {
      objects.set(key, { path, order });
    },
    describeLink(output, stripDebug) {
      const spec = specFor(output, -1, stripDebug);
      return { command: base.command(spec), inputs: inputsOf(spec) };
    },
  };

  hooks.beforeLinks.for(stage).call(session);

  let number = 0;
  while (pending.length > 0) {
    const requests = [...pending].sort((a, b) => a.order - b.order);
    pending = [];
    // Every request of a round sees the same objects, and debug info is the only flag a request
    // sets (stripping is allowed only when nobody needs it), so one link serves the whole round;
    // a request that names its own link gets one, in its place in the order.
    const groups: TemporaryLinkRequest[][] = [];
    let shared: TemporaryLinkRequest[] | undefined;
    for (const r of requests) {
      if (r.name !== undefined) groups.push([r]);
      else if (shared) shared.push(r);
      else groups.push((shared = [r]));
    }
    for (const group of groups) {
      number += 1;
      const output = group[0]!.name ?? `.tmp_vmlinux${number}`;
      const stripDebug = group.every((r) => r.debugInfo === 'not-needed');
      const spec = specFor(output, number, stripDebug);
      const step = addLink(spec);
      const image: LinkedImage = { path: output, number, purposes: group.map((r) => r.purpose) };
      step.commands.at(-1)!.note = `temporary link for ${image.purposes.join(' and ')}`;
      links.push({ image, stripDebug, step });
      for (const r of group) r.onLinked(image, session);
    }
  }

  const spec = specFor(stage, 0, false);
  const final = addLink(spec);
  hooks.afterLink.for(stage).call(imageBuilder(final, spec.output));
  return { final, links };
}
