// `planPipeline` (exported as `kpipe/testing`): plan a pipeline with a plugin author's plugins and get
// the steps, the way `kpipe explain` would, without a kernel or make. kbuild's variables are
// placeholders (`$(LD)`) unless the plan is given a real tree; everything else is kpipe's own code:
// the DSL, the Kconfig conditions, the stage graph, the planner and the step graph's checks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPipeline } from '../../dsl/load.js';
import { hasErrors, type Diagnostic } from '../diagnostic.js';
import { loadKconfig, type Kconfig } from '../planning/kconfig.js';
import { buildStageGraph } from '../planning/stage-graph.js';
import { createPlan } from '../planning/planner.js';
import { placeholderToolchain } from '../planning/toolchain.js';
import { buildStepGraph, type StepGraph } from '../planning/step-graph.js';
import { loadPlugins } from '../loading/plugin-loader.js';
import { PACKAGE_ROOT, profileNames } from '../loading/session.js';
import { attachUseFrames } from '../loading/use-frames.js';
import type { KpipePlugin, PluginOptionValue } from '../plugin-api.js';
import type { Step } from '../planning/step.js';
import { formatDiagnostics } from '../cli/format-diagnostic.js';

/** kpipe's own kbuild.pipeline: `include` it to add a stage after the shipped ones. */
export const SHIPPED_PIPELINE = path.join(PACKAGE_ROOT, 'kbuild.pipeline');

/** The Kconfig profiles of configs/ a plan may use (`x86_64-reference`, ...). */
export function profiles(): string[] {
  return profileNames();
}

export interface PlanOptions {
  /** The plugins under test, as objects or class instances: used like built-ins (`use NAME`). */
  plugins?: KpipePlugin[];
  /**
   * Also load the plugins of the kpipe config file found from this directory upwards (kpipe's own
   * search, so a test checks the config file too). Relative paths in it are relative to it.
   */
  configFrom?: string;
  /** The pipeline's text (an `include` in it is relative to `dir`, or to a temporary directory). */
  pipeline?: string;
  /** A pipeline file instead; default: the shipped kbuild.pipeline. */
  pipelineFile?: string;
  /** A profile of configs/ (see `profiles()`), or ... */
  profile?: string;
  /** ... Kconfig text: `CONFIG_MODULES=y\nCONFIG_KALLSYMS=y\n`. */
  kconfig?: string;
  /** `--set SYM=VALUE` words, applied last. */
  sets?: string[];
  /**
   * The output tree the plan reads (modules.order, ...) and whose paths are relative to it; also
   * where a `pipeline` text is written. Default: no tree (one stand-in module, like explain --profile).
   */
  dir?: string;
  /** Options by plugin name, as `--btf-base` gives btf's: they win over the pipeline's. */
  options?: Record<string, Record<string, PluginOptionValue>>;
}

export interface PlannedPipeline {
  /** Errors and warnings of every layer (DSL, stage graph, plugins, step graph), in that order. */
  diagnostics: Diagnostic[];
  /** The steps, in run order (the order of `kpipe explain`); empty when there are errors. */
  steps: Step[];
  /** Every quiet line, in order: `LD      vmlinux` as `LD vmlinux`. */
  labels: string[];
  /** The step graph, for `runPlan`; undefined when there are errors. */
  graph?: StepGraph;
  kconfig: Kconfig;
  /** The steps one plugin made. */
  stepsOf(plugin: string): Step[];
  /** The diagnostics as kpipe prints them (file:line:col, the source line, a caret): for assertion messages. */
  format(): string;
}

export async function planPipeline(opts: PlanOptions): Promise<PlannedPipeline> {
  const { registry } = opts.configFrom ? await loadPlugins(opts.configFrom) : await loadPlugins({ dirs: [] });
  const diagnostics: Diagnostic[] = [];
  for (const plugin of opts.plugins ?? []) {
    const d = registry.register({ plugin, origin: { kind: 'built-in' }, defaults: {} });
    if (d) diagnostics.push(d);
  }
  const kconfig = kconfigFor(opts);
  let sources: ReadonlyMap<string, string> = new Map();
  const result = (steps: Step[], graph?: StepGraph): PlannedPipeline => ({
    format: () => formatDiagnostics(diagnostics, sources, { color: false, cwd: process.cwd() }),
    diagnostics,
    steps,
    labels: steps.flatMap((s) => s.commands.filter((c) => c.label).map((c) => `${c.label!.tag} ${c.label!.target}`)),
    ...(graph ? { graph } : {}),
    kconfig,
    stepsOf: (plugin) => steps.filter((s) => s.plugin === plugin),
  });
  if (hasErrors(diagnostics)) return result([]);
  const file = pipelineFile(opts);
  const loaded = loadPipeline(file, { knownPlugins: registry.names() });
  diagnostics.push(...loaded.diagnostics);
  sources = loaded.sources;
  if (hasErrors(diagnostics)) return result([]);
  const stages = buildStageGraph(loaded.statements, kconfig);
  diagnostics.push(...stages.diagnostics);
  if (hasErrors(diagnostics)) return result([]);
  const objtree = opts.dir !== undefined ? path.resolve(opts.dir) : undefined;
  const { plan, diagnostics: planned } = createPlan({
    stageGraph: stages.graph, registry, kconfig, toolchain: placeholderToolchain('kpipe/testing: no make'), make: { make: 'make', env: {} },
    ...(objtree ? { objtree } : {}), ...(opts.options ? { optionOverrides: opts.options } : {}),
  });
  diagnostics.push(...planned, ...plan.warnings);
  if (hasErrors(diagnostics)) return result([]);
  const root = objtree ?? '/objtree';
  const steps = buildStepGraph(plan.steps, { objtree: root, isSource: (p) => !objtree || fs.existsSync(path.resolve(root, p)) });
  diagnostics.push(...attachUseFrames(steps.diagnostics, plan.steps, stages.graph));
  if (hasErrors(diagnostics)) return result([]);
  return result([...steps.graph.steps], steps.graph);
}

function kconfigFor(opts: PlanOptions): Kconfig {
  if (opts.profile !== undefined) return loadKconfig({ profileFile: path.join(PACKAGE_ROOT, 'configs', `${opts.profile}.config`), sets: opts.sets ?? [] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-testing-'));
  try {
    const file = path.join(dir, 'kconfig');
    fs.writeFileSync(file, opts.kconfig ?? '');
    return loadKconfig({ profileFile: file, sets: opts.sets ?? [] });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function pipelineFile(opts: PlanOptions): string {
  if (opts.pipeline === undefined) return opts.pipelineFile !== undefined ? path.resolve(opts.pipelineFile) : SHIPPED_PIPELINE;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-testing-'));
  const file = path.join(dir, 'test.pipeline');
  fs.writeFileSync(file, opts.pipeline);
  return file;
}
