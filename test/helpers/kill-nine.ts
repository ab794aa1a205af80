// `kill -9` of kpipe at random moments of a real kernel link, each followed by a complete `kpipe run`:
// every final output must be byte-identical to kbuild's, no temporary may be left, and the run after
// that must run nothing (what the journal says agrees with the disk). Shared by the e2e suite (a few
// kills) and bench/faults/kill9.ts (50 kills, figures in BENCHMARKS.md).
//
// Each round starts a full link: even rounds forget everything (.kpipe/ removed: every step is new),
// odd rounds keep the state and remove the link outputs (every step's output is missing). The kill
// lands at a uniformly random moment of the time a full link took. Tools a killed kpipe leaves running
// (each command has its own process group, so SIGKILL of kpipe does not reach them) are waited for
// before the next run, as a person would see them finish; the figures count them.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { differences, env, linkOutputs, run, type KernelTree } from './kernel-tree.js';
import { processesIn } from './processes.js';
import { random } from './random.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');

export interface KillRound {
  round: number;
  /** Milliseconds after the start of kpipe when SIGKILL was sent. */
  killAtMs: number;
  /** The last quiet line kpipe printed before it died: what it was doing. */
  lastLine: string;
  /** Whether the run had already finished when the kill came. */
  finishedFirst: boolean;
  orphans: number;
  /** Steps the recovery run ran (its own and delegated). */
  recoveryRan: number;
  recoveryMs: number;
  /** Files different from kbuild's after the recovery run (must be empty). */
  differences: string[];
  temporaries: string[];
  /** Steps of kpipe's own the run after the recovery ran (must be empty). */
  rerunAfter: string[];
}

function kpipeArgs(tree: KernelTree): string[] {
  return [KPIPE, 'run', '-C', tree.out, '-j2', '--skip', 'compile'];
}

/** A complete run; returns its wall time in milliseconds. */
export function fullRun(tree: KernelTree): number {
  const t0 = Date.now();
  run([process.execPath, ...kpipeArgs(tree)], { stdio: ['ignore', 'pipe', 'pipe'] });
  return Date.now() - t0;
}

function invalidate(tree: KernelTree, round: number): void {
  if (round % 2 === 0) {
    fs.rmSync(path.join(tree.out, '.kpipe'), { recursive: true, force: true });
    return;
  }
  for (const f of [...linkOutputs(tree.out), 'vmlinux.unstripped', '.tmp_vmlinux1', '.tmp_vmlinux2']) fs.rmSync(path.join(tree.out, f), { force: true });
}

async function killedRun(tree: KernelTree, afterMs: number): Promise<{ lastLine: string; finishedFirst: boolean }> {
  const child = spawn(process.execPath, kpipeArgs(tree), { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const first = await Promise.race([new Promise<'kill'>((r) => setTimeout(() => r('kill'), afterMs)), exited.then(() => 'exit' as const)]);
  const finishedFirst = first === 'exit';
  if (!finishedFirst) child.kill('SIGKILL');
  await exited;
  const lines = out.split('\n').filter((l) => /^ {2}\S/.test(l));
  return { lastLine: lines[lines.length - 1]?.trim() ?? '(nothing printed yet)', finishedFirst };
}

function temporariesIn(dir: string): string[] {
  const r = spawnSync('find', [dir, '-name', '.kpipe-tmp-*'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

interface RunRecord {
  id: string;
  ran: boolean;
  reason?: { kind: string };
}

function ownStepsThatRan(tree: KernelTree): string[] {
  const log = JSON.parse(fs.readFileSync(path.join(tree.out, '.kpipe', 'last-run.json'), 'utf8')) as { steps: RunRecord[] };
  return log.steps.filter((s) => s.ran && s.reason?.kind !== 'delegated').map((s) => s.id);
}

/** One round: invalidate, start, kill at a random moment (or fraction `at` of a full link), recover, compare, check the no-op. */
export async function killRound(tree: KernelTree, reference: string, round: number, fullMs: number, seed: number, at?: number): Promise<KillRound> {
  const next = random(seed * 1000 + round);
  invalidate(tree, round);
  const killAtMs = Math.round((at ?? next()) * fullMs);
  const { lastLine, finishedFirst } = await killedRun(tree, killAtMs);
  let orphans = 0;
  for (let waited = 0; ; waited += 100) {
    const alive = processesIn(tree.out);
    orphans = Math.max(orphans, alive.length);
    if (alive.length === 0) break;
    if (waited > 120_000) throw new Error(`orphaned tools still running in ${tree.out}: ${alive.join(' ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const t0 = Date.now();
  run([process.execPath, ...kpipeArgs(tree)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const recoveryMs = Date.now() - t0;
  const recoveryLog = JSON.parse(fs.readFileSync(path.join(tree.out, '.kpipe', 'last-run.json'), 'utf8')) as { steps: RunRecord[] };
  const recoveryRan = recoveryLog.steps.filter((s) => s.ran).length;
  const diff = differences(reference, tree.out);
  const temporaries = temporariesIn(tree.out);
  run([process.execPath, ...kpipeArgs(tree)], { stdio: ['ignore', 'pipe', 'pipe'] });
  return { round, killAtMs, lastLine, finishedFirst, orphans, recoveryRan, recoveryMs, differences: diff, temporaries, rerunAfter: ownStepsThatRan(tree) };
}
