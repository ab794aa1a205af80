// OBJTREE/.kpipe/last-run.json as the end-to-end suites read it (core/running/run-log.ts writes it):
// which steps of the last `kpipe run` ran, why, and whether the step cache restored them.
import fs from 'node:fs';
import path from 'node:path';

export interface RunRecord {
  id: string;
  label: string;
  stage: string;
  ran: boolean;
  outcome: string;
  cached?: string;
  reason?: { kind: string };
  why?: string;
}

/** The steps of the last run in DIR (an output tree, or an M= directory). */
export function lastRun(dir: string): RunRecord[] {
  return (JSON.parse(fs.readFileSync(path.join(dir, '.kpipe', 'last-run.json'), 'utf8')) as { steps: RunRecord[] }).steps;
}

/** kpipe's own steps: delegated ones are kbuild's own make calls, which kbuild decides and always run. */
export const own = (s: RunRecord): boolean => s.reason?.kind !== 'delegated';
