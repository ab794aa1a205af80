// The stats of a large plan's files, taken on a second thread while the main one loads the state.
//
// A no-op of the 5,500-module plan stats 22,000 files (~130 ms on the main thread, the largest part of
// it) and parses the state snapshot (~100 ms) before it can decide anything; the two need not wait
// for each other. A worker stats every declared file in plan order and publishes each result in
// shared memory; the probe (core/state/file-probe.ts) takes a published stat instead of calling stat
// itself, and stats on its own whatever the worker has not reached yet, so nothing ever waits.
//
// A prefetched stat is what `stat` said at the start of the run. That is only as good as a fresh one
// while nothing of kpipe's has written: the executor drops the prefetch before the first step runs
// (and when a killed run's leftovers are removed), and from then on every stat is taken when asked,
// as without it.
import { Worker } from 'node:worker_threads';
import type { FileStat } from './file-state.js';
import type { Step } from '../planning/step.js';
import { absoluteFast } from '../canonical-fast.js';

/** Below this many files the worker's start (~30 ms of its own thread) is not worth it. */
export const PREFETCH_MIN_FILES = 2000;

/** Per file in `state`: not reached yet, a regular file (stat in `numbers`), absent or not a file. */
export const NOT_YET = 0;
export const IS_FILE = 1;
export const NO_FILE = 2;

/**
 * Every file `steps` declare, statted on another thread while the state loads; undefined for a plan
 * too small to gain from it, or with KPIPE_PREFETCH=0 (every stat on the main thread: to compare, or
 * where threads are scarce).
 */
export function prefetchStats(steps: readonly Step[], objtree: string, env: NodeJS.ProcessEnv = process.env): StatPrefetch | undefined {
  const seen = new Set<string>();
  for (const s of steps) {
    for (const p of s.inputs) seen.add(p);
    for (const p of s.outputs) seen.add(p);
  }
  if (seen.size < PREFETCH_MIN_FILES || env.KPIPE_PREFETCH === '0') return undefined;
  return new StatPrefetch([...seen], objtree);
}

export class StatPrefetch {
  private readonly index = new Map<string, number>();
  private readonly state: Int32Array;
  private readonly numbers: BigInt64Array;
  private worker: Worker | undefined;

  /** Starts statting `canonicals` (paths of the output tree `objtree`), in this order, on a worker thread. */
  constructor(canonicals: readonly string[], objtree: string) {
    for (let i = 0; i < canonicals.length; i++) this.index.set(canonicals[i]!, i);
    const absolutes = canonicals.map((p) => absoluteFast(p, objtree));
    this.state = new Int32Array(new SharedArrayBuffer(4 * absolutes.length));
    this.numbers = new BigInt64Array(new SharedArrayBuffer(8 * 3 * absolutes.length));
    this.worker = new Worker(new URL('./stat-prefetch-worker.js', import.meta.url), {
      // One string, not an array of 22,000: cloning it is a copy, not a walk.
      workerData: { paths: absolutes.join('\0'), state: this.state, numbers: this.numbers },
      stdout: false,
      stderr: false,
    });
    // A failed worker (no threads left, ...) only costs the main thread its own stats.
    this.worker.on('error', () => this.drop());
    this.worker.unref();
  }

  /**
   * The stat the worker took of canonical path `p` (null: no regular file there); undefined when it
   * has not reached `p`, `p` was not asked for, or the prefetch was dropped.
   */
  take(p: string): FileStat | null | undefined {
    if (this.worker === undefined) return undefined;
    const i = this.index.get(p);
    if (i === undefined) return undefined;
    const s = Atomics.load(this.state, i);
    if (s === NOT_YET) return undefined;
    if (s === NO_FILE) return null;
    return { size: Number(this.numbers[3 * i]!), mtimeNs: this.numbers[3 * i + 1]!, ino: this.numbers[3 * i + 2]! };
  }

  /** From now on the disk may differ from what the worker saw: use none of it, stop the worker. */
  drop(): void {
    const w = this.worker;
    this.worker = undefined;
    if (w) void w.terminate().catch(() => undefined);
  }
}
