// What the keep worker does (kbuild-keep-worker.ts), importable on the main thread too.
import { keepKbuildInputs } from '../state/kbuild-inputs.js';
import type { KeepAnswer, KeepJob } from './kbuild-keeps.js';

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
