// Plan time of a synthetic tree, shared by run.ts and scale.ts: making the steps (what a planner hands
// over) and building the validated step graph, `repeat` times each.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { syntheticSteps } from './generate.js';
import { buildStepGraph } from '../../core/planning/step-graph.js';

export function planTimes(dir: string, modules: number, repeat: number): { plan: number[]; graph: number[] } {
  const plan: number[] = [];
  const graph: number[] = [];
  for (let k = 0; k < repeat; k++) {
    const t0 = performance.now();
    const s = syntheticSteps(dir, modules);
    const t1 = performance.now();
    const { diagnostics } = buildStepGraph(s, { objtree: dir, isSource: (p) => fs.existsSync(path.resolve(dir, p)) });
    const t2 = performance.now();
    if (diagnostics.length > 0) throw new Error(diagnostics[0]!.message);
    plan.push(t1 - t0);
    graph.push(t2 - t1);
  }
  return { plan, graph };
}
