// One `kpipe run` of the synthetic tree in a fresh process, as the CLI would do it minus the planner:
// load the plan, build the step graph, run. Prints its own timings and peak RSS as JSON.
//   node dist/bench/synthetic/noop-child.js TREE [JOBS]
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildStepGraph } from '../../core/planning/step-graph.js';
import { runSteps } from '../../core/running/executor.js';
import type { Step } from '../../core/planning/step.js';

const t0 = performance.now();
const dir = path.resolve(process.argv[2]!);
const jobs = Number(process.argv[3] ?? 2);
const steps = JSON.parse(fs.readFileSync(path.join(dir, 'steps.json'), 'utf8')) as Step[];
const t1 = performance.now();
const { graph, diagnostics } = buildStepGraph(steps, { objtree: dir, isSource: () => true });
if (diagnostics.length > 0) throw new Error(diagnostics[0]!.message);
const t2 = performance.now();
const result = await runSteps(graph, { objtree: dir, jobs, keepGoing: false, verbosity: 'quiet', interactive: false });
const t3 = performance.now();
process.stdout.write(
  JSON.stringify({
    status: result.status,
    ran: result.log?.counts.ran,
    steps: graph.steps.length,
    sinceStartMs: t0,
    loadPlanMs: t1 - t0,
    graphMs: t2 - t1,
    runMs: t3 - t2,
    maxRssKB: process.resourceUsage().maxRSS,
    // CPU time of this process (user + system): what a busy shared machine does not inflate.
    cpuMs: (process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1000,
  }),
);
