// A seeded fuzzer for the whole front end of a pipeline file, as `kpipe explain --pipeline FILE` runs
// it: load (parse, includes, validation), stage graph under a Kconfig profile, plan with the built-in
// plugins, step graph, and the CLI's diagnostic formatter. Inputs are the shipped and fixture pipeline
// files with random edits, and random token soup. For every input it checks the promises of the DSL:
//   - nothing throws, and no diagnostic is an internal error or carries a stack trace;
//   - every error of the file itself (syntax, include, semantic, stage graph) has a file:line:col inside
//     the text, and the formatted report shows it as `file:line:col`;
//   - every error of the plan names a plugin or has a location.
// Used by test/fuzz/dsl.test.ts (a short run) and test/fuzz/run-dsl.ts (the long one, BENCHMARKS.md).
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadPipeline } from '../../dsl/load.js';
import { buildStageGraph } from '../../core/planning/stage-graph.js';
import { createPlan } from '../../core/planning/planner.js';
import { buildStepGraph } from '../../core/planning/step-graph.js';
import { builtinRegistry } from '../../core/loading/plugin-registry.js';
import { loadKconfig, type Kconfig } from '../../core/planning/kconfig.js';
import { placeholderToolchain } from '../../core/planning/toolchain.js';
import { displayPath, formatDiagnostics } from '../../core/cli/format-diagnostic.js';
import type { Diagnostic } from '../../core/diagnostic.js';
import { random } from '../helpers/random.js';

/** The repository root: this file is compiled to dist/test/fuzz/. */
const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
/** Every pipeline file the repository ships or tests with, under this virtual root. */
const ROOT = '/fuzz';

export interface FuzzStats {
  inputs: number;
  /** Inputs that planned without an error. */
  clean: number;
  /** Error diagnostics by code, over all inputs. */
  errorsByCode: Record<string, number>;
  /** Broken promises, each with the input that broke it (JSON-quoted, cut to 300 characters). */
  violations: string[];
  maxMs: number;
  /** The input that took longest, by size and kind. */
  slowest: string;
  totalMs: number;
  /**
   * The ten slowest inputs timed again, five times each, keeping each one's fastest: the worst of those
   * is the parse time without the pauses of a shared machine (a first timing includes GC and preemption).
   */
  retimedMaxMs: number;
}

const VOCABULARY = [
  'stage', 'extend', 'use', 'when', 'include', 'vmlinux', 'vmlinux.unstripped', 'modules', 'compile', 'link', 'btf',
  'kallsyms', 'modfinal', 'objcopy', 'module-hashes', 'arch.x86', 'KALLSYMS', 'MODULES', 'ARCH=x86', 'y', 'm', 'n',
  '0x1f', '12', '-1', '"s"', '"open', '"esc\\q"', '"kbuild.pipeline"', '"../x"', '{', '}', '(', ')', ',', ':', '=', '!=',
  '!', '&&', '||', '&', '|', '\n', '\n', '\n', '\t', ' ', '#c\n', '@', "'", '\\', '\r\n', '\r', 'stgae', 'usee', 'whne',
  '\u00e9', '\uFEFF', '\u0000', '\uD800', '\u{1F600}', 'extra_pass', 'jobs', 'true', 'false',
];

/** The pipeline files of the repository: kbuild.pipeline and the fixtures, keyed by virtual path. */
export function corpus(): Map<string, string> {
  const files = new Map<string, string>();
  files.set(`${ROOT}/kbuild.pipeline`, fs.readFileSync(path.join(REPO, 'kbuild.pipeline'), 'utf8'));
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.pipeline')) files.set(`${ROOT}/${path.relative(REPO, p)}`, fs.readFileSync(p, 'utf8'));
    }
  };
  walk(path.join(REPO, 'test'));
  return files;
}

function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)]!;
}

/** One random edit of a text. */
function mutate(next: () => number, text: string): string {
  const at = Math.floor(next() * (text.length + 1));
  const lines = text.split('\n');
  const line = Math.floor(next() * lines.length);
  switch (Math.floor(next() * 10)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 20));
    case 1:
      return text.slice(0, at) + pick(next, VOCABULARY) + text.slice(at);
    case 2:
      lines.splice(line, 0, lines[line]!);
      return lines.join('\n');
    case 3: {
      const other = Math.floor(next() * lines.length);
      [lines[line], lines[other]] = [lines[other]!, lines[line]!];
      return lines.join('\n');
    }
    case 4:
      return text.slice(0, at) + String.fromCharCode(Math.floor(next() * 0x3000)) + text.slice(at + 1);
    case 5:
      return text.slice(0, at);
    case 6: {
      const depth = 1 + Math.floor(next() * 400);
      return `${text.slice(0, at)}${'('.repeat(depth)}A${')'.repeat(Math.floor(next() * (depth + 2)))}${text.slice(at)}`;
    }
    case 7:
      return text.slice(0, at) + 'x'.repeat(1 + Math.floor(next() * 5000)) + text.slice(at);
    case 8:
      // A long repeated line: the error-dense case (every line an error). Bounded, so edits do not compound.
      if (text.length > 100_000) return text;
      lines.splice(line, 0, ...Array.from({ length: 1 + Math.floor(next() * 300) }, () => lines[line]!.slice(0, 200)));
      return lines.join('\n');
    default:
      return text.slice(0, at) + pick(next, ['{', '}', '\n', '"', ':', 'when ', 'use ', 'stage ']) + text.slice(at);
  }
}

function soup(next: () => number): string {
  let text = '';
  for (let i = Math.floor(next() * 80); i > 0; i--) text += pick(next, VOCABULARY) + (next() < 0.5 ? ' ' : '');
  return text;
}

export interface FuzzOptions {
  seed: number;
  count: number;
}

interface Fixed {
  files: Map<string, string>;
  paths: string[];
  kconfigs: Kconfig[];
  registry: ReturnType<typeof builtinRegistry>;
}

let fixed: Fixed | undefined;
function setUp(): Fixed {
  if (fixed) return fixed;
  const files = corpus();
  const kconfigs = ['x86_64-reference', 'x86_64-nobtf', 'x86_64-reference-hashes'].map((p) =>
    loadKconfig({ profileFile: path.join(REPO, 'configs', `${p}.config`), sets: p.endsWith('hashes') ? ['MODULE_HASHES=y'] : [] }),
  );
  return (fixed = { files, paths: [...files.keys()], kconfigs, registry: builtinRegistry() });
}

/** Runs `count` inputs from `seed`; deterministic. */
export function fuzzPipelines(opts: FuzzOptions): FuzzStats {
  const { files, paths, kconfigs, registry } = setUp();
  const next = random(opts.seed);
  const stats: FuzzStats = { inputs: 0, clean: 0, errorsByCode: {}, violations: [], maxMs: 0, slowest: '', totalMs: 0, retimedMaxMs: 0 };
  const slow: { ms: number; entry: string; text: string; kconfig: Kconfig }[] = [];
  for (let round = 0; round < opts.count; round++) {
    // Half the time the shipped file: most fixtures are wrong on purpose, so their mutants never plan.
    const entry = next() < 0.5 ? `${ROOT}/kbuild.pipeline` : pick(next, paths);
    let text: string;
    let kind: string;
    if (round % 4 === 3) {
      text = soup(next);
      kind = 'soup';
    } else {
      text = files.get(entry)!;
      for (let edits = 1 + Math.floor(next() * next() * 5); edits > 0; edits--) text = mutate(next, text);
      kind = `mutated ${entry.slice(ROOT.length + 1)}`;
    }
    const kconfig = pick(next, kconfigs);
    const t0 = performance.now();
    const problems = check(entry, text, files, kconfig, registry, stats);
    const ms = performance.now() - t0;
    stats.inputs++;
    stats.totalMs += ms;
    if (ms > stats.maxMs) {
      stats.maxMs = ms;
      stats.slowest = `${kind}, ${text.length} characters`;
    }
    slow.push({ ms, entry, text, kconfig });
    if (slow.length > 20) slow.sort((a, b) => b.ms - a.ms).splice(10);
    for (const p of problems) stats.violations.push(`${p} (round ${round}, seed ${opts.seed}, ${kind}): ${JSON.stringify(text).slice(0, 300)}`);
  }
  for (const input of slow.sort((a, b) => b.ms - a.ms).slice(0, 10)) {
    let best = Infinity;
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      check(input.entry, input.text, files, input.kconfig, registry, { ...stats, errorsByCode: {} });
      best = Math.min(best, performance.now() - t0);
    }
    stats.retimedMaxMs = Math.max(stats.retimedMaxMs, best);
  }
  return stats;
}

function check(entry: string, text: string, files: Map<string, string>, kconfig: Kconfig, registry: Fixed['registry'], stats: FuzzStats): string[] {
  const problems: string[] = [];
  const readFile = (file: string) => {
    const t = file === entry ? text : files.get(file);
    if (t === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT' });
    return t;
  };
  let located: Diagnostic[] = [];
  let planned: Diagnostic[] = [];
  let sources = new Map<string, string>();
  try {
    const loaded = loadPipeline(entry, { knownPlugins: registry.names(), readFile });
    sources = loaded.sources;
    located = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (located.length === 0) {
      const stages = buildStageGraph(loaded.statements, kconfig);
      located = stages.diagnostics.filter((d) => d.severity === 'error');
      if (located.length === 0) {
        const make = { make: 'make', env: {} };
        const { plan, diagnostics } = createPlan({ stageGraph: stages.graph, registry, kconfig, toolchain: placeholderToolchain('fuzz'), make });
        planned = diagnostics.filter((d) => d.severity === 'error');
        if (planned.length === 0) planned = buildStepGraph(plan.steps, { objtree: '/objtree', isSource: () => true }).diagnostics;
      }
    }
  } catch (e) {
    return [`threw ${(e as Error).stack ?? String(e)}`];
  }
  const all = [...located, ...planned];
  if (all.length === 0) stats.clean++;
  for (const d of all) stats.errorsByCode[d.code] = (stats.errorsByCode[d.code] ?? 0) + 1;
  for (const d of all) {
    if (d.code === 'internal-error') problems.push(`internal error: ${d.message}`);
    if (/\n\s+at .+:\d+:\d+\)?$/m.test(`${d.message}\n${d.hint ?? ''}`)) problems.push(`stack trace in ${d.code}`);
  }
  for (const d of located) {
    const r = d.range;
    const source = r ? sources.get(r.file) : undefined;
    if (!r || source === undefined) problems.push(`${d.code} without a file:line:col: ${d.message}`);
    else if (r.start.line < 1 || r.start.column < 1 || r.start.offset < 0 || r.start.offset > r.end.offset || r.end.offset > source.length) {
      problems.push(`${d.code} with a range outside its file: ${JSON.stringify(r)}`);
    }
  }
  for (const d of planned) if (!d.plugin && !d.range) problems.push(`plan error ${d.code} names no plugin and no place: ${d.message}`);
  let report = '';
  try {
    report = formatDiagnostics(all, sources, { color: false, cwd: ROOT });
  } catch (e) {
    problems.push(`the formatter threw ${(e as Error).message}`);
  }
  for (const d of located) {
    const where = `${displayPath(d.range!.file, ROOT)}:${d.range!.start.line}:${d.range!.start.column}`;
    if (d.range && !report.includes(where)) problems.push(`the report does not show ${where}`);
  }
  return problems;
}
