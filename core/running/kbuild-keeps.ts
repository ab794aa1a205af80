// The keep of kbuild's inputs after a delegated step (core/state/kbuild-inputs.ts) reads every `.cmd`
// record it cannot reuse and stats every file they name: 0.25-0.45 s after the reference tree's
// compile. Nothing in this run needs it (it answers the *next* run), so it runs beside the steps
// after the delegated one (on a worker thread when it is large), rather than before them.
//
// Why a later keep is the same answer: it refuses whenever a file it watches was changed after the
// step ended (`endedMs`), so what it keeps is what the files were when kbuild's make was done. What
// the steps of this run write are their outputs (never watched: `others` below) and their kbuild
// records; any other write lands after the end and makes the keep refuse, as a sooner keep would have
// been made stale by it. A run killed before the keep keeps nothing: the step's old answer was set
// aside when it started, so the next run asks make, as after any killed run.
import { Worker } from 'node:worker_threads';
import type { Step } from '../planning/step.js';
import { keepKbuildInputs, type KbuildContext } from '../state/kbuild-inputs.js';
import type { TreeLock } from './lock.js';

export interface PendingKeep {
  step: Step;
  /** The step's command identity when it ran. */
  identity: string;
  ctx: KbuildContext;
  /** When the step started and ended (Date.now()). */
  startedMs: number;
  endedMs: number;
  /** The whole plan the step ran in: what its other steps write is not kbuild's input. */
  planned: readonly Step[];
}

/** What the worker is given for one keep (kbuild-keep-worker.ts). */
export interface KeepJob {
  step: Step;
  identity: string;
  ctx: KbuildContext;
  others: Set<string>;
  startedMs: number;
  endedMs: number;
}

/** The worker's answer: the refusal (undefined: kept) and how long the keep took. */
export interface KeepAnswer {
  why: string | undefined;
  ms: number;
}

/** Keeps not made yet, and those being made on a worker. */
export class KbuildKeeps {
  private pending: PendingKeep[] = [];
  private readonly working: Promise<void>[] = [];

  add(keep: PendingKeep): void {
    this.pending.push(keep);
  }

  /** Takes over another's pending keeps (the compile stage's, handed to the link's run). */
  adopt(other: KbuildKeeps): void {
    this.pending.push(...other.pending);
    other.pending = [];
  }

  /**
   * Starts every pending keep on a worker thread. `planned`: the plan running now, whose outputs are
   * not kbuild's inputs either (the link's plan, for the compile stage's keep). `note`: one line per
   * keep, for -v.
   */
  start(planned: readonly Step[] = [], note?: (line: string) => void): void {
    if (this.pending.length === 0) return;
    const jobs = this.pending.map((k) => toJob(k, planned));
    this.pending = [];
    // A worker costs some 40 ms to start and 50 ms of CPU: worth it for the compile of a kernel tree
    // (its every record), not for the few records of an `M=DIR` or of a step's own outputs, which are
    // kept on this thread, after the steps just released have started (setImmediate).
    // (KPIPE_KEEP_WORKER=1 puts every keep on a worker, =0 none.)
    const choice = process.env.KPIPE_KEEP_WORKER;
    const large = jobs.filter((j) => (choice === undefined || choice === '' ? j.step.kbuildInputs === 'tree' && j.ctx.extmod === undefined : choice !== '0'));
    const small = jobs.filter((j) => !large.includes(j));
    const answer = (js: KeepJob[]) => (answers: KeepAnswer[]) => answers.forEach((a, i) => report(js[i]!, a, note));
    if (large.length > 0) this.working.push(runOnWorker(large).then(answer(large)));
    if (small.length > 0) this.working.push(new Promise<KeepAnswer[]>((resolve) => setImmediate(() => resolve(keepAll(small)))).then(answer(small)));
  }

  /** Starts what is pending and waits for every keep: before the tree's lock is let go. */
  async settle(planned: readonly Step[] = [], note?: (line: string) => void): Promise<void> {
    this.start(planned, note);
    while (this.working.length > 0) await this.working.shift();
  }
}

function toJob(k: PendingKeep, planned: readonly Step[]): KeepJob {
  const others = new Set<string>();
  for (const plan of [k.planned, planned]) for (const s of plan) if (s.id !== k.step.id) for (const o of s.outputs) others.add(o);
  return { step: k.step, identity: k.identity, ctx: { ...k.ctx, seen: new Map() }, others, startedMs: k.startedMs, endedMs: k.endedMs };
}

function report(job: KeepJob, a: KeepAnswer, note: ((line: string) => void) | undefined): void {
  note?.(a.why ? `kpipe: ${job.step.id} will ask make next time: ${a.why}` : `kpipe: ${job.step.id}: kbuild's inputs kept (${a.ms} ms, beside the next steps)`);
}

/** Makes the keeps, on whichever thread calls it (the worker's body, kbuild-keep-worker.ts). */
export function keepAll(jobs: readonly KeepJob[]): KeepAnswer[] {
  return jobs.map((j) => {
    const t0 = performance.now();
    let why: string | undefined;
    try {
      why = keepKbuildInputs(j.step, j.identity, j.step.kbuildInputs!, j.ctx, j.others, j.startedMs, j.endedMs);
    } catch (e) {
      // A keep is an answer for the next run; failing to write one costs that run a make, no more.
      why = `the record could not be written (${(e as Error).message})`;
    }
    return { why, ms: Math.round(performance.now() - t0) };
  });
}

/** The keeps on a worker thread; on this one if no worker can be started (they are the same code). */
function runOnWorker(jobs: KeepJob[]): Promise<KeepAnswer[]> {
  let worker: Worker;
  try {
    worker = new Worker(new URL('./kbuild-keep-worker.js', import.meta.url), { workerData: jobs });
  } catch {
    return Promise.resolve(keepAll(jobs));
  }
  return new Promise<KeepAnswer[]>((resolve) => {
    let answered = false;
    worker.once('message', (answers: KeepAnswer[]) => {
      answered = true;
      resolve(answers);
    });
    // A worker that died (out of memory, a bug) kept nothing: the next run asks make.
    const lost = (why: string) => !answered && resolve(jobs.map(() => ({ why, ms: 0 })));
    worker.once('error', (e) => lost(`the keep failed (${e.message})`));
    worker.once('exit', (code) => lost(`the keep's worker exited with ${code}`));
  });
}

/**
 * A run that leaves its tree to the next part of the same `kpipe run` (the compile stage to the
 * link): the tree's lock, still held, and the keeps not yet made. Whoever gets it either passes it to
 * the next runSteps (RunOptions.continues) or calls finish().
 */
export class HandOff {
  private done = false;
  constructor(
    readonly lock: TreeLock,
    readonly keeps: KbuildKeeps,
  ) {}

  /** The next run takes the lock and the keeps; finish() is then a no-op. */
  take(): { lock: TreeLock; keeps: KbuildKeeps } {
    if (this.done) throw new Error('HandOff taken twice');
    this.done = true;
    return { lock: this.lock, keeps: this.keeps };
  }

  get taken(): boolean {
    return this.done;
  }

  /** No next run after all (it failed to plan, or was interrupted): keep now, then free the tree. */
  async finish(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await this.keeps.settle();
    } finally {
      this.lock.release();
    }
  }
}
