// OBJTREE/.kpipe/last-run.json: what the last `kpipe run` did, step by step, for people and tools.
// The shape below is the documented format (version 1); fields are only ever added.
//
//   {
//     "version": 1,
//     "objtree": "/abs/out",
//     "startedAt": "2026-01-13T12:00:00.000Z",
//     "durationMs": 5234,
//     "status": "ok" | "failed" | "interrupted",
//     "jobs": 2,
//     "targets": [],                      // empty: the whole plan
//     "counts": { "total": 40, "ran": 3, "upToDate": 37, "failed": 0 },
//     "steps": [                          // in run order (the order of `kpipe explain`)
//       { "id": "link-vmlinux", "label": "LD vmlinux", "stage": "vmlinux", "plugin": "link",
//         "ran": true, "reason": { "kind": "input-changed", "path": "vmlinux.o" },
//         "why": "input vmlinux.o changed", "outcome": "built", "durationMs": 812 }
//                                       // "cached": "local" | "remote" when restored from the step cache
//     ]
//   }
//
// `reason` is core/state/up-to-date.ts's Reason for steps that were decided, absent for steps never reached.
import path from 'node:path';
import type { Reason } from '../state/up-to-date.js';
import { describeReason } from '../state/up-to-date.js';
import type { Step } from '../planning/step.js';
import { stepLabel } from '../planning/step.js';
import { STATE_DIR, writeFileAtomic } from '../state/state-store.js';

export type Outcome =
  /** Did not run: up to date. */
  | 'up-to-date'
  /** Ran and wrote outputs that differ from the previous ones. */
  | 'built'
  /** Ran and wrote byte-identical outputs: its dependents stay up to date (early cutoff). */
  | 'built-unchanged'
  | 'failed'
  /** Not run because a step it depends on failed. */
  | 'dependency-failed'
  /** Not run because the run stopped first (a failure without --keep-going, or an interruption). */
  | 'not-run'
  /** Was running when the run was interrupted. */
  | 'interrupted';

export interface RunLogStep {
  id: string;
  label: string;
  stage: string;
  plugin: string;
  ran: boolean;
  reason?: Reason;
  why?: string;
  outcome: Outcome;
  durationMs: number;
  /** The outputs were restored from the step cache (core/cache), not made by running the step. */
  cached?: 'local' | 'remote';
}

export type RunStatus = 'ok' | 'failed' | 'interrupted';

export interface RunLog {
  version: 1;
  objtree: string;
  startedAt: string;
  durationMs: number;
  status: RunStatus;
  jobs: number;
  targets: string[];
  /** `cached`: steps restored from the step cache (present when there were any). */
  counts: { total: number; ran: number; upToDate: number; failed: number; cached?: number };
  steps: RunLogStep[];
}

export function runLogStep(step: Step, outcome: Outcome, reason: Reason | undefined, durationMs: number): RunLogStep {
  const label = stepLabel(step);
  const entry: RunLogStep = {
    id: step.id,
    label: `${label.tag} ${label.target}`,
    stage: step.stage,
    plugin: step.plugin,
    ran: outcome === 'built' || outcome === 'built-unchanged' || outcome === 'failed' || outcome === 'interrupted',
    outcome,
    durationMs: Math.round(durationMs),
  };
  if (reason) {
    entry.reason = reason;
    entry.why = describeReason(reason);
  }
  return entry;
}

export function lastRunPath(objtree: string): string {
  return path.join(objtree, STATE_DIR, 'last-run.json');
}

/**
 * One kpipe run in two parts (the compile stage, then the rest planned again from what it wrote) is
 * one run to its reader: the earlier part's steps first, counts added, its start and the later end.
 */
export function mergeRunLogs(earlier: RunLog, later: RunLog): RunLog {
  const c = (k: 'total' | 'ran' | 'upToDate' | 'failed' | 'cached') => (earlier.counts[k] ?? 0) + (later.counts[k] ?? 0);
  const cached = c('cached');
  return {
    ...later,
    startedAt: earlier.startedAt,
    durationMs: Math.max(later.durationMs, Date.parse(later.startedAt) + later.durationMs - Date.parse(earlier.startedAt)),
    counts: { total: c('total'), ran: c('ran'), upToDate: c('upToDate'), failed: c('failed'), ...(cached > 0 ? { cached } : {}) },
    steps: [...earlier.steps, ...later.steps],
  };
}

/**
 * One step per line: readable, diffable, and cheap to write for 11,000 steps. `stepsText` is
 * runLogStepsText(log.steps) when the caller has it already (a no-op's, kept: core/state/noop-verdict.ts).
 */
export function writeRunLog(log: RunLog, stateDir = log.objtree, stepsText: Buffer = runLogStepsText(log.steps)): void {
  // Every field but the steps, without reading them: a log may build its steps only when asked.
  const head: Record<string, unknown> = {};
  for (const key of Object.keys(log)) if (key !== 'steps') head[key] = log[key as keyof RunLog];
  const top = JSON.stringify(head);
  writeFileAtomic(lastRunPath(stateDir), Buffer.concat([Buffer.from(`${top.slice(0, -1)},\n"steps":[\n`), stepsText, Buffer.from('\n]}\n')]), false);
}

/** The "steps" of last-run.json, as writeRunLog writes them. */
export function runLogStepsText(steps: readonly RunLogStep[]): Buffer {
  return Buffer.from(steps.map(stepLine).join(',\n'));
}

/** JSON.stringify of a RunLogStep, with the fields in a fixed order and the common reasons cached. */
function stepLine(s: RunLogStep): string {
  const q = JSON.stringify;
  let line = `{"id":${q(s.id)},"label":${q(s.label)},"stage":${q(s.stage)},"plugin":${q(s.plugin)},"ran":${s.ran}`;
  if (s.reason) line += `,"reason":${reasonJson(s.reason)},"why":${q(s.why)}`;
  return `${line},"outcome":"${s.outcome}"${s.cached ? `,"cached":"${s.cached}"` : ''},"durationMs":${s.durationMs}}`;
}

const simpleReasons = new Map<string, string>();
function reasonJson(r: Reason): string {
  if ('path' in r || 'change' in r || 'dryRun' in r) return JSON.stringify(r);
  let json = simpleReasons.get(r.kind);
  if (json === undefined) simpleReasons.set(r.kind, (json = JSON.stringify(r)));
  return json;
}
