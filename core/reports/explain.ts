// `kpipe explain`: the plan in words. Stages in build order with every ordering (active or not, and
// why), plugins on or off (and why), then the steps in run order in kbuild's quiet format, each
// attributed to its plugin. JSON (documented in the README, `version` bumped on any change of shape)
// for tools; DOT for a picture.
import path from 'node:path';
import type { Session } from '../loading/session.js';
import type { Step, Command } from '../planning/step.js';
import { quietLine, stepLabel } from '../planning/step.js';
import { TOOLCHAIN_VARIABLES } from '../planning/toolchain.js';
import { shellJoin, shellQuote } from '../shell-quote.js';

export interface ExplainOptions {
  verbose: boolean;
  /** Per step id: why it would run (from core/state/up-to-date.ts), for --why. */
  why?: ReadonlyMap<string, string>;
  /** Only the steps these targets need (already applied to `steps`). */
  steps: readonly Step[];
  cwd: string;
}

export function explainText(session: Session, opts: ExplainOptions): string {
  const out: string[] = [];
  const rel = (f: string) => (f.startsWith(opts.cwd + path.sep) ? path.relative(opts.cwd, f) : f);
  out.push(`pipeline: ${rel(session.pipelineFile)} (${session.pipelineSource})`);
  out.push(`kconfig:  ${session.kconfigSource}`);
  const arch = session.kconfig.origin('ARCH');
  out.push(`arch:     ${session.kconfig.get('ARCH') ?? 'unknown'}${arch ? ` (${arch.where})` : ''}`);
  // KERNELVERSION, the symbol kbuild.pipeline's version conditions read, and where it came from.
  const kernel = session.kconfig.origin('KERNELVERSION');
  const release = session.kconfig.get('KERNELRELEASE');
  out.push(`kernel:   ${session.kconfig.get('KERNELVERSION') ?? 'unknown'}${release ? `, release ${release}` : ''}${kernel ? ` (KERNELVERSION from ${kernel.where.split(opts.cwd + path.sep).join('')})` : ''}`);
  if (opts.verbose) {
    out.push(`toolchain: ${session.toolchain.origin}`);
    for (const v of TOOLCHAIN_VARIABLES) out.push(`  ${v.padEnd(22)} ${session.toolchain.value(v)}`);
  }
  out.push('', 'stages, in build order:');
  for (const name of session.stageGraph.order) {
    const stage = session.stageGraph.stages.find((s) => s.name === name)!;
    out.push(`  ${name}${stage.description ? `  -- ${stage.description}` : ''}`);
    if (stage.when) out.push(`    stage ${stage.active ? 'on ' : 'off'} (when ${stage.when}: ${stage.because.join(', ')})`);
    for (const e of session.stageGraph.edges.filter((x) => x.target === name)) {
      const where = `${rel(e.range.file)}:${e.range.start.line}`;
      const cond = e.when ? `when ${e.when}: ${e.because.join(', ')}` : 'always';
      out.push(`    ${e.active ? 'after    ' : 'not after'} ${e.prerequisite.padEnd(20)} (${cond})  ${where}`);
    }
    for (const use of stage.uses) {
      const cond = use.when ? `when ${use.when}: ${use.because.join(', ')}` : 'always';
      // A use replaced by a later variant of it says which one (kbuild.pipeline's version variants).
      const replaced = !use.active && use.because[0]?.startsWith('replaced by') ? `; ${use.because[0]}` : '';
      const options = Object.entries(use.options).map(([k, v]) => `${k}=${String(v)}`).join(', ');
      out.push(`    plugin ${use.plugin.padEnd(14)} ${use.active ? 'on ' : 'off'} (${use.when && replaced ? `when ${use.when}${replaced}` : replaced ? replaced.slice(2) : cond})${options ? `  options: ${options}` : ''}`);
    }
  }
  out.push('', 'steps, in run order:');
  let stage = '';
  for (const step of opts.steps) {
    if (step.stage !== stage) {
      stage = step.stage;
      out.push(`  [${stage}]`);
    }
    const why = opts.why?.get(step.id);
    const first = step.commands.findIndex((c) => c.label);
    const own = stepLabel(step);
    // A step with no quiet line of its own (kbuild-mtime's) is still a step: shown by its id, as
    // `kpipe graph` and last-run.json show it.
    if (first < 0) out.push(`${`  -       ${step.id}`.padEnd(44)} ${[step.plugin, step.commands[0]?.note, 'no quiet line, as in kbuild', why ? `why: ${why}` : undefined].filter(Boolean).join('; ')}`);
    step.commands.forEach((command, i) => {
      if (!command.label && !opts.verbose) return;
      const line = command.label ? quietLine(command.label) : '          ...';
      // On-request steps (bzImage) are made only when named: `kpipe run bzImage`.
      const onRequest = i === first && step.onRequest ? `only on request: kpipe run ${step.stage}` : undefined;
      // Every quiet line gets its reason; a later command of a step runs exactly when its first does.
      const because = !why || !command.label ? undefined : command.label === own ? `why: ${why}` : `why: with ${own.tag} ${own.target}: ${why}`;
      // What follows it starts while it runs (the executor's prediction): say so where the step is.
      const early = i === first ? step.likelyUnchanged : undefined;
      const notes = [command.plugin, command.note, onRequest, early, because].filter(Boolean).join('; ');
      out.push(`${line.padEnd(44)} ${notes}`);
      if (opts.verbose) out.push(`      ${renderAction(command)}`);
    });
  }
  // The plan's warnings are printed once, on stderr, by the command line (core/cli/main.ts).
  return out.join('\n') + '\n';
}

function renderAction(command: Command): string {
  const a = command.action;
  if (a.kind === 'builtin') return `(kpipe builtin) ${a.name} ${shellJoin(a.args)}`;
  const parts = [a.inPlace ? `[edits ${shellQuote(a.inPlace)} in place] ` : '', shellJoin(a.argv), a.stdout ? ` > ${shellQuote(a.stdout)}` : ''];
  return parts.join('');
}

/** Version 1 of the JSON shape; documented in the README. */
export function explainJson(session: Session, opts: ExplainOptions): string {
  return JSON.stringify({
    version: 1,
    pipeline: { file: session.pipelineFile, source: session.pipelineSource },
    kconfig: {
      source: session.kconfigSource,
      arch: session.kconfig.get('ARCH') ?? null,
      kernel: session.kconfig.get('KERNELVERSION') ?? null,
      kernelOrigin: session.kconfig.origin('KERNELVERSION')?.where ?? null,
    },
    stages: session.stageGraph.order.map((name) => {
      const s = session.stageGraph.stages.find((x) => x.name === name)!;
      return {
        name,
        description: s.description ?? null,
        active: s.active,
        when: s.when ?? null,
        plugins: s.uses.map((u) => ({ plugin: u.plugin, active: u.active, when: u.when ?? null, because: u.because, options: u.options })),
        after: session.stageGraph.edges.filter((e) => e.target === name).map((e) => ({
          stage: e.prerequisite, active: e.active, when: e.when ?? null, because: e.because, file: e.range.file, line: e.range.start.line,
        })),
      };
    }),
    steps: opts.steps.map((s) => ({
      id: s.id,
      stage: s.stage,
      plugin: s.plugin,
      inputs: s.inputs,
      outputs: s.outputs,
      scratch: s.scratch ?? [],
      delegated: s.delegated === true,
      onRequest: s.onRequest === true,
      likelyUnchanged: s.likelyUnchanged ?? null,
      why: opts.why?.get(s.id) ?? null,
      commands: s.commands.map((c) => ({
        label: c.label ? quietLine(c.label).trim() : null,
        plugin: c.plugin,
        note: c.note ?? null,
        ...(c.action.kind === 'exec'
          ? { argv: c.action.argv, stdout: c.action.stdout ?? null, inPlace: c.action.inPlace ?? null }
          : { builtin: c.action.name, args: c.action.args }),
      })),
    })),
  }, null, 2) + '\n';
}

/**
 * The stage graph and the step graph in one picture: a cluster per stage holding a header node (the
 * stage) and its steps; solid edges from the step that writes a file to each step that reads it
 * (one edge per pair, the files in its tooltip); dashed edges between stage headers for the
 * orderings of the pipeline, dotted and grey when their `when` is false. `kpipe graph` renders it.
 */
export function explainDot(session: Session, opts: ExplainOptions): string {
  const q = (s: string) => JSON.stringify(s);
  const out = ['digraph kpipe {', '  rankdir=LR;', '  node [shape=box, fontname="monospace"];'];
  const ids = new Map(opts.steps.map((s, i) => [s.id, `s${i}`]));
  const stageIds = new Map(session.stageGraph.order.map((name, i) => [name, `t${i}`]));
  for (const name of session.stageGraph.order) {
    const stage = session.stageGraph.stages.find((s) => s.name === name);
    out.push(`  subgraph ${q(`cluster_${name}`)} {`, `    label=${q(name)};`);
    out.push(`    ${stageIds.get(name)} [shape=folder, style=bold, label=${q(name)}${stage?.description ? `, tooltip=${q(stage.description)}` : ''}];`);
    opts.steps.filter((s) => s.stage === name).forEach((s) => {
      const labels = s.commands.filter((c) => c.label).map((c) => quietLine(c.label!).trim());
      // A step with no quiet line of its own (kbuild-mtime's) is drawn by its id, never as a blank box.
      out.push(`    ${ids.get(s.id)} [label=${q(labels.length > 0 ? labels.join('\n') : s.id)}, tooltip=${q(`${s.id} (${s.plugin})`)}];`);
    });
    out.push('  }');
  }
  const producer = new Map<string, string>();
  for (const s of opts.steps) for (const o of s.outputs) producer.set(o, s.id);
  for (const s of opts.steps) {
    const files = new Map<string, string[]>();
    for (const i of s.inputs) {
      const p = producer.get(i);
      if (p && ids.has(p)) files.set(p, [...(files.get(p) ?? []), i]);
    }
    for (const [p, read] of files) out.push(`  ${ids.get(p)} -> ${ids.get(s.id)} [tooltip=${q(read.join('\n'))}];`);
  }
  for (const e of session.stageGraph.edges) {
    const from = stageIds.get(e.prerequisite);
    const to = stageIds.get(e.target);
    if (!from || !to) continue;
    const when = e.when ? `when ${e.when}` : '';
    const style = e.active ? 'style=dashed' : 'style=dotted, color=gray, fontcolor=gray';
    out.push(`  ${from} -> ${to} [${style}${when ? `, label=${q(when)}` : ''}, tooltip=${q(`${e.target}: ${e.prerequisite}${when ? ` ${when}` : ''} (${e.active ? 'active' : 'inactive'})`)}];`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}
