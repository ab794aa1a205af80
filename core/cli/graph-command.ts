// `kpipe graph`: the picture of `kpipe explain --format dot` (the stage graph and the step graph, one
// cluster per stage, edges by files), rendered to SVG by Graphviz's `dot` when it is installed.
// Without `dot` the DOT text is written instead, with one line on stderr saying why, so the command
// still gives something any Graphviz viewer (or `dot` elsewhere) can draw.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CliArgs } from './args.js';
import type { Session } from '../loading/session.js';
import { explainDot } from '../reports/explain.js';
import { subgraphFor } from '../planning/step-graph.js';
import { error, KpipeError } from '../diagnostic.js';
import { targetsOf } from './session-options.js';

export function graphCommand(session: Session, args: CliArgs): number {
  if (args.format !== 'text' && args.format !== 'dot' && args.format !== 'svg') {
    throw new KpipeError([error('usage', `kpipe graph --format must be dot or svg, not '${args.format}'`)]);
  }
  let steps = session.stepGraph.steps;
  if (args.positionals.length > 0) {
    const sub = subgraphFor(session.stepGraph, targetsOf(session, args.positionals));
    if (sub.diagnostics.length > 0) throw new KpipeError(sub.diagnostics);
    steps = sub.graph.steps;
  }
  const dot = explainDot(session, { verbose: false, steps, cwd: process.cwd() });
  let output = args.output !== undefined ? path.resolve(process.cwd(), args.output) : undefined;
  let text = dot;
  if (args.format !== 'dot') {
    const svg = renderSvg(dot);
    if (typeof svg === 'string') {
      text = svg;
    } else {
      // Keep a name that says what the file holds: graph.svg would hold DOT.
      if (output?.endsWith('.svg')) output = `${output.slice(0, -'.svg'.length)}.dot`;
      process.stderr.write(`kpipe graph: ${svg.why}; writing DOT instead of SVG${output ? ` to ${output}` : ''}\n`);
    }
  }
  if (output === undefined) {
    process.stdout.write(text);
    return 0;
  }
  const tmp = `${output}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, output);
  process.stdout.write(`  GEN     ${output}\n`);
  return 0;
}

/** `dot -Tsvg` on the text: the SVG, or why there is none (no Graphviz). A failing `dot` is an error. */
function renderSvg(dot: string): string | { why: string } {
  const r = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    return { why: missing ? 'Graphviz `dot` is not installed (Debian: apt-get install graphviz)' : `cannot run Graphviz \`dot\`: ${r.error.message}` };
  }
  if (r.status !== 0) {
    throw new KpipeError([error('graphviz', `dot -Tsvg failed (exit ${r.status ?? r.signal})`, { hint: r.stderr.trim() || undefined })], 1);
  }
  return r.stdout;
}
