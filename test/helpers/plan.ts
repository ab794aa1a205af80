// Builds a plan from pipeline text and Kconfig lines, with no tree: what `kpipe explain --profile`
// does, minus the CLI.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPipeline } from '../../dsl/load.js';
import { parseKconfigText, loadKconfig } from '../../core/planning/kconfig.js';
import { buildStageGraph } from '../../core/planning/stage-graph.js';
import { createPlan } from '../../core/planning/planner.js';
import { builtinRegistry, type PluginRegistry } from '../../core/loading/plugin-registry.js';
import { placeholderToolchain, type MakeEnvironment } from '../../core/planning/toolchain.js';
import { buildStepGraph } from '../../core/planning/step-graph.js';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import type { Diagnostic } from '../../core/diagnostic.js';
import type { Step } from '../../core/planning/step.js';

export const SHIPPED_PIPELINE = path.join(PACKAGE_ROOT, 'kbuild.pipeline');

export function profileKconfig(name: string, sets: string[] = []) {
  return loadKconfig({ profileFile: path.join(PACKAGE_ROOT, 'configs', `${name}.config`), sets });
}

export function kconfigOf(lines: string) {
  return parseKconfigText(lines, { kind: 'profile', where: 'test' });
}

export interface TestPlan {
  diagnostics: Diagnostic[];
  steps: Step[];
  labels: string[];
}

/** Plan `pipelineText` (or the shipped pipeline) against a Kconfig; diagnostics from every layer. */
export function planFor(kconfig: ReturnType<typeof kconfigOf>, pipelineText?: string, registry: PluginRegistry = builtinRegistry(), make: MakeEnvironment = { make: 'make', env: {} }): TestPlan {
  let file = SHIPPED_PIPELINE;
  if (pipelineText !== undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-plan-'));
    file = path.join(dir, 'kbuild.pipeline');
    fs.writeFileSync(file, pipelineText);
  }
  const loaded = loadPipeline(file, { knownPlugins: registry.names() });
  if (loaded.diagnostics.some((d) => d.severity === 'error')) return { diagnostics: loaded.diagnostics, steps: [], labels: [] };
  const stages = buildStageGraph(loaded.statements, kconfig);
  if (stages.diagnostics.length > 0) return { diagnostics: stages.diagnostics, steps: [], labels: [] };
  const { plan, diagnostics } = createPlan({
    stageGraph: stages.graph, registry, kconfig, toolchain: placeholderToolchain('test'), make,
  });
  if (diagnostics.length > 0) return { diagnostics, steps: [], labels: [] };
  const graph = buildStepGraph(plan.steps, { objtree: '/objtree', isSource: () => true, ...(make.extmod ? { outputRoots: [make.extmod] } : {}) });
  const steps = [...graph.graph.steps];
  const labels = steps.flatMap((s) => s.commands.filter((c) => c.label).map((c) => `${c.label!.tag} ${c.label!.target}`));
  return { diagnostics: graph.diagnostics, steps, labels };
}
