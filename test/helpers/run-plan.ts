// What `kpipe run -C DIR` does on a synthetic tree, minus asking make for the toolchain: load the
// plugins of DIR's config file (kpipe's real loading path), plan a pipeline file against a Kconfig
// text, and run the steps. For tests of org plugins that need no kernel.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import * as assert from 'uvu/assert';
import { loadPlugins } from '../../core/loading/plugin-loader.js';
import { loadPipeline } from '../../dsl/load.js';
import { parseKconfigText } from '../../core/planning/kconfig.js';
import { buildStageGraph } from '../../core/planning/stage-graph.js';
import { createPlan } from '../../core/planning/planner.js';
import { placeholderToolchain } from '../../core/planning/toolchain.js';
import { buildStepGraph } from '../../core/planning/step-graph.js';
import { runSteps, type RunResult } from '../../core/running/executor.js';
import type { KpipePlugin } from '../../core/plugin-api.js';
import type { RunLog } from '../../core/running/run-log.js';

export interface PlanRun extends RunResult {
  /** .kpipe/last-run.json: which steps ran and why. */
  log: RunLog;
}

/** Plans `pipeline` (relative to `dir`) with the plugins of `dir`'s config plus `extra`, and runs it. */
export async function planAndRun(dir: string, pipeline: string, kconfigText: string, extra: KpipePlugin[] = []): Promise<PlanRun> {
  const { registry } = await loadPlugins(dir);
  for (const plugin of extra) assert.is(registry.register({ plugin, origin: { kind: 'built-in' }, defaults: {} }), undefined);
  const loaded = loadPipeline(path.join(dir, pipeline), { knownPlugins: registry.names() });
  assert.equal(loaded.diagnostics, []);
  const kconfig = parseKconfigText(kconfigText, { kind: 'objtree', where: 'test' });
  const stages = buildStageGraph(loaded.statements, kconfig);
  assert.equal(stages.diagnostics, []);
  const { plan, diagnostics } = createPlan({ stageGraph: stages.graph, registry, kconfig, toolchain: placeholderToolchain('test'), make: { make: 'make', env: {} }, objtree: dir });
  assert.equal(diagnostics, []);
  const graph = buildStepGraph(plan.steps, { objtree: dir, isSource: (p) => fs.existsSync(path.resolve(dir, p)) });
  assert.equal(graph.diagnostics, []);
  let output = '';
  const out = new Writable({
    write(chunk, _enc, cb) {
      output += String(chunk);
      cb();
    },
  });
  const result = await runSteps(graph.graph, { objtree: dir, jobs: 2, keepGoing: false, verbosity: 'quiet', out, interactive: false });
  assert.is(result.status, 'ok', `${JSON.stringify(result.diagnostics)}\n${output}`);
  return { ...result, log: JSON.parse(fs.readFileSync(path.join(dir, '.kpipe', 'last-run.json'), 'utf8')) as RunLog };
}

/** Whether the run ran the step that `plugin` created (the first one). */
export function ranStepOf(log: RunLog, plugin: string): boolean {
  const step = log.steps.find((s) => s.plugin === plugin);
  assert.ok(step, `a step of ${plugin} in the run`);
  return step!.ran;
}
