// `import { planPipeline, runInTempTree } from 'kpipe/testing'`: what a plugin author's tests need
// (README "Testing a plugin"). Planning and running use kpipe's own code paths, never a copy; only
// make is left out (kbuild's variables are placeholders such as `$(LD)`).
export { planPipeline, profiles, SHIPPED_PIPELINE, type PlanOptions, type PlannedPipeline } from './plan-pipeline.js';
export { runInTempTree, type TempTree, type TempTreeOptions, type TempRun } from './temp-tree.js';
export type { RunLogStep, Outcome } from '../running/run-log.js';
export type { Reason } from '../state/up-to-date.js';
export { formatDiagnostics } from '../cli/format-diagnostic.js';
