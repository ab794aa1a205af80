// A small output tree with stand-in tools (POSIX sh scripts) for executor tests. Every tool appends
// one line to `runs.log` when it runs, so tests count runs instead of timing anything.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Action, Command, Step } from '../../core/planning/step.js';
import { buildStepGraph, type StepGraph } from '../../core/planning/step-graph.js';
import { runSteps, type RunOptions, type RunResult } from '../../core/running/executor.js';
import type { RunLog } from '../../core/running/run-log.js';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
/** dist/test/executor/driver.js: runs the executor in a child process for kill and signal tests. */
export const DRIVER = path.join(HERE, 'driver.js');

const TOOLS: Record<string, string> = {
  // gen NAME OUT IN...: OUT := "NAME:" + concatenated inputs (like a link)
  gen: `#!/bin/sh
name=$1; out=$2; shift 2
echo "$name $out" >> "$KP_LOG"
{ printf '%s:' "$name"; for f in "$@"; do cat "$f"; done; } > "$out"
`,
  // append FILE TEXT: edits FILE in place (like pahole -J / resolve_btfids); fails if FILE is missing
  append: `#!/bin/sh
echo "append $1" >> "$KP_LOG"
[ -f "$1" ] || { echo "append: $1: no such file" >&2; exit 2; }
printf '%s' "$2" >> "$1"
`,
  // emit NAME IN...: writes to stdout (like nm -n x > x.syms)
  emit: `#!/bin/sh
name=$1; shift
echo "emit $name" >> "$KP_LOG"
printf '%s:' "$name"; for f in "$@"; do cat "$f"; done
`,
  // fail OUT: writes part of OUT, prints a message, exits 3 (a tool dying halfway)
  fail: `#!/bin/sh
echo "fail $1" >> "$KP_LOG"
printf 'partial' > "$1"
echo "fail: something went wrong writing $1" >&2
exit 3
`,
  // hang OUT: writes part of OUT, records its pid, announces itself, then waits to be killed
  hang: `#!/bin/sh
echo "hang $1" >> "$KP_LOG"
printf 'partial' > "$1"
echo $$ > "$KP_DIR/hang.pid"
: > "$KP_DIR/hang.started"
while [ ! -f "$KP_DIR/hang.release" ]; do sleep 0.05; done
printf ' done' >> "$1"
`,
  // warn OUT: succeeds with a warning on stderr
  warn: `#!/bin/sh
echo "warn $1" >> "$KP_LOG"
echo "warn: harmless warning" >&2
printf 'ok' > "$1"
`,
};

export interface Tree {
  dir: string;
  tool(name: keyof typeof TOOLS | string): string;
  write(p: string, text: string): void;
  read(p: string): string;
  exists(p: string): boolean;
  /** Lines of runs.log so far. */
  runs(): string[];
  resetRuns(): void;
  lastRun(): RunLog;
  /** `anySource`: take every input nobody produces as a source, even a missing one. */
  graph(steps: Step[], anySource?: boolean): StepGraph;
  run(steps: Step[], opts?: Partial<RunOptions>, anySource?: boolean): Promise<RunResult & { output: string }>;
  /** Every file under the tree whose name marks a kpipe temporary. */
  temporaries(): string[];
  remove(): void;
}

export function makeTree(): Tree {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-exec-')));
  const tools = path.join(dir, 'tools');
  fs.mkdirSync(tools);
  for (const [name, text] of Object.entries(TOOLS)) fs.writeFileSync(path.join(tools, name), text, { mode: 0o755 });
  const log = path.join(dir, 'runs.log');
  process.env.KP_LOG = log;
  process.env.KP_DIR = dir;
  const tree: Tree = {
    dir,
    tool: (name) => path.join(tools, name),
    write: (p, text) => {
      fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      fs.writeFileSync(path.join(dir, p), text);
    },
    read: (p) => fs.readFileSync(path.join(dir, p), 'utf8'),
    exists: (p) => fs.existsSync(path.join(dir, p)),
    runs: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
    resetRuns: () => fs.rmSync(log, { force: true }),
    lastRun: () => JSON.parse(fs.readFileSync(path.join(dir, '.kpipe', 'last-run.json'), 'utf8')) as RunLog,
    graph: (steps, anySource = false) => {
      const { graph, diagnostics } = buildStepGraph(steps, { objtree: dir, isSource: (p) => anySource || fs.existsSync(path.resolve(dir, p)) });
      if (diagnostics.length > 0) throw new Error(diagnostics.map((d) => d.message).join('\n'));
      return graph;
    },
    run: async (steps, opts = {}, anySource = false) => {
      let output = '';
      const out = new Writable({
        write(chunk, _enc, cb) {
          output += String(chunk);
          cb();
        },
      });
      const result = await runSteps(tree.graph(steps, anySource), { objtree: dir, jobs: 2, keepGoing: false, verbosity: 'normal', out, interactive: false, ...opts });
      return { ...result, output };
    },
    temporaries: () => walk(dir).filter((f) => path.basename(f).startsWith('.kpipe-tmp-')),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
  return tree;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

export function exec(argv: string[], extra: Partial<Extract<Action, { kind: 'exec' }>> = {}): Action {
  return { kind: 'exec', argv, ...extra };
}

export function builtin(name: string, ...args: string[]): Action {
  return { kind: 'builtin', name, args };
}

export function cmd(tag: string, target: string, action: Action, plugin = 'test'): Command {
  return { label: { tag, target }, plugin, action };
}

export function step(id: string, inputs: string[], outputs: string[], commands: Command[], extra: Partial<Step> = {}): Step {
  return { id, stage: 'test', plugin: 'test', commands, inputs, outputs, ...extra };
}

/** A tree holding chain()'s sources, a.src and b.src: the set-up most tests start from. */
export function makeChainTree(): Tree {
  const t = makeTree();
  t.write('a.src', 'alpha');
  t.write('b.src', 'beta');
  return t;
}

/** A -> B chain over sources a.src and b.src: the shape most tests need. */
export function chain(t: Tree): Step[] {
  return [
    step('A', ['a.src'], ['a.out'], [cmd('GEN', 'a.out', exec([t.tool('gen'), 'A', 'a.out', 'a.src']))]),
    step('B', ['a.out', 'b.src'], ['b.out'], [cmd('GEN', 'b.out', exec([t.tool('gen'), 'B', 'b.out', 'a.out', 'b.src']))]),
  ];
}

/** Steps as JSON for the driver. */
export function writeDriverSpec(t: Tree, steps: Step[], opts: Record<string, unknown> = {}): string {
  const file = path.join(t.dir, 'spec.json');
  fs.writeFileSync(file, JSON.stringify({ objtree: t.dir, steps, opts }));
  return file;
}

/** Polls (without any timing assertion) until `check` holds. */
export async function until(check: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
