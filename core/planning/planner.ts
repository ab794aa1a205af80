// From resolved stages to steps: apply every active plugin use, then run each stage's hooks in build
// order. Plugins meet only at hooks and at published artifacts. An exception in a plugin is caught
// here and reported with the plugin's name and the hook it was in, never as a bare stack trace.
import fs from 'node:fs';
import path from 'node:path';
import { createHooks, type HookName } from '../hooks.js';
import { traceHooks, type Cursor } from '../loading/hook-trace.js';
import { error, KpipeError, type Diagnostic, type SourceRange } from '../diagnostic.js';
import { canonicalFast as canonicalPath } from '../canonical-fast.js';
import type { Kconfig } from './kconfig.js';
import type { MakeEnvironment, Toolchain } from './toolchain.js';
import type { PluginOptionValue } from './stage-graph.js';
import { isOrderedAfter, type StageGraph } from './stage-graph.js';
import type { Step } from './step.js';
import { artifactKind, type Artifacts, type PluginContext, type StageBuilder, type StepSpec } from '../plugin-api.js';
import { describeOrigin, type PluginRegistry } from '../loading/plugin-registry.js';
import { optionHint } from '../loading/plugin-loader.js';
import { guardHooks } from './guarded-hooks.js';

export interface PlanInput {
  stageGraph: StageGraph;
  registry: PluginRegistry;
  kconfig: Kconfig;
  toolchain: Toolchain;
  make: MakeEnvironment;
  objtree?: string;
  srctree?: string;
  /** Plugin options from the command line (`--btf-base FILE` is btf's `base`): they win over the pipeline's. */
  optionOverrides?: Readonly<Record<string, Readonly<Record<string, PluginOptionValue>>>>;
}

export interface Plan {
  stageGraph: StageGraph;
  /** In planning order: stages in build order, each stage's steps in the order plugins added them. */
  steps: Step[];
  warnings: Diagnostic[];
  /** Which hooks each plugin tapped (in core/hooks.ts's order), for `kpipe plugins`. */
  taps: Map<string, HookName[]>;
  artifacts: Map<string, { path: string; stage: string }>;
}

export function createPlan(input: PlanInput): { plan: Plan; diagnostics: Diagnostic[] } {
  const { stageGraph, registry, kconfig, toolchain } = input;
  const hooks = createHooks();
  const cursor: Cursor = {};
  const tapped = traceHooks(hooks, cursor);
  const guarded = guardHooks(hooks);

  const diagnostics: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const steps: Step[] = [];
  const published = new Map<string, { path: string; stage: string }>();
  // Absolute and normalised, as canonicalFast needs: plugins' paths are
  // mostly canonical already, and the slow path (resolve + relative) was a tenth of a replan.
  const root = path.resolve(input.objtree ?? '/objtree');
  const canonical = (p: string) => canonicalPath(p, root);

  const guard = (plugin: string, hook: string, range: SourceRange | undefined, fn: () => void) => {
    cursor.plugin = plugin;
    cursor.hook = hook;
    try {
      fn();
    } catch (e) {
      diagnostics.push(pluginError(e, cursor, range ?? useRange(stageGraph, cursor), registry));
    } finally {
      cursor.plugin = undefined;
      cursor.hook = undefined;
    }
  };

  for (const stage of stageGraph.stages) {
    for (const use of stage.uses.filter((u) => u.active)) {
      const registered = registry.get(use.plugin);
      if (!registered) continue; // reported by dsl/validate as unknown-plugin
      const known = registered.plugin.options ?? {};
      for (const key of Object.keys(use.options)) {
        if (!(key in known)) {
          diagnostics.push(error('unknown-option', `plugin '${use.plugin}' has no option '${key}'`, {
            range: use.range,
            plugin: use.plugin,
            hint: optionHint(key, Object.keys(known)),
          }));
        }
      }
      const options = { ...defaultsOf(known), ...registered.defaults, ...use.options, ...input.optionOverrides?.[use.plugin] };
      const artifacts: Artifacts = {
        publish(name, file) {
          published.set(name, { path: canonical(file), stage: stage.name });
        },
        lookup(name) {
          const entry = published.get(name);
          if (!entry) return { why: `no stage published '${name}'` };
          if (entry.stage === stage.name || isOrderedAfter(stageGraph, stage.name, entry.stage)) return entry;
          return { why: `'${stage.name}' is not ordered after '${entry.stage}', which publishes '${name}' (add '${stage.name}: ${entry.stage}')` };
        },
        list(kind) {
          return [...published]
            .filter(([, e]) => e.stage === stage.name || isOrderedAfter(stageGraph, stage.name, e.stage))
            .map(([name, e]) => ({ name, kind: artifactKind(name), path: e.path, stage: e.stage }))
            .filter((a) => kind === undefined || a.kind === kind);
        },
      };
      const context: PluginContext = {
        name: use.plugin,
        stage: stage.name,
        options,
        kconfig,
        toolchain,
        objtree: input.objtree,
        srctree: input.srctree,
        make: input.make,
        artifacts,
        readFile(file) {
          return readTreeFile(input.objtree, file)?.toString('utf8');
        },
        readBytes(file) {
          return readTreeFile(input.objtree, file);
        },
        warn(message) {
          if (!warnings.some((w) => w.message === message && w.plugin === use.plugin)) {
            warnings.push({ code: 'plugin-warning', severity: 'warning', message, plugin: use.plugin });
          }
        },
      };
      guard(use.plugin, 'apply', use.range, () => registered.plugin.apply(guarded, context));
    }
  }

  for (const name of stageGraph.order) {
    const builder: StageBuilder = {
      stage: name,
      steps: [],
      addStep(plugin: string, spec: StepSpec): Step {
        const outputs = spec.outputs.map(canonical);
        const step: Step = {
          id: spec.id ?? `${name}:${outputs[0] ?? spec.commands[0]?.label?.target ?? String(steps.length)}`,
          stage: name,
          plugin,
          commands: spec.commands,
          inputs: spec.inputs.map(canonical),
          outputs,
        };
        if (spec.scratch && spec.scratch.length > 0) step.scratch = spec.scratch.map(canonical);
        if (spec.delegated) step.delegated = true;
        if (spec.delegated && spec.kbuildInputs) step.kbuildInputs = spec.kbuildInputs;
        if (spec.delegated && spec.kbuildInputs === 'tree' && spec.kbuildNarrow) step.kbuildNarrow = spec.kbuildNarrow;
        if (spec.replan) step.replan = true;
        if (spec.onRequest) step.onRequest = true;
        if (spec.compilePhase) step.compilePhase = true;
        if (spec.likelyUnchanged) step.likelyUnchanged = spec.likelyUnchanged;
        steps.push(step);
        (this.steps as Step[]).push(step);
        return step;
      },
    };
    guard('?', `stage.for('${name}')`, undefined, () => hooks.stage.for(name).call(builder));
  }

  // Canonical spelling for what plugins appended through image builders after addStep.
  for (const step of steps) {
    step.inputs = [...new Set(step.inputs.map(canonical))];
    step.outputs = [...new Set(step.outputs.map(canonical))];
  }
  diagnostics.push(...crossStageReads(steps, stageGraph));
  cursor.hook = 'validatePlan';
  try {
    const veto = hooks.validatePlan.call(steps);
    if (veto !== undefined) diagnostics.push(error('plan-rejected', veto, { ...(cursor.plugin ? { plugin: cursor.plugin } : {}), hook: 'validatePlan' }));
  } catch (e) {
    diagnostics.push(pluginError(e, cursor, useRange(stageGraph, cursor), registry));
  }
  const hookOrder = Object.keys(hooks) as HookName[];
  const taps = new Map([...tapped].map(([plugin, set]) => [plugin, hookOrder.filter((h) => set.has(h))]));
  return { plan: { stageGraph, steps, warnings, taps, artifacts: published }, diagnostics };
}

function defaultsOf(known: NonNullable<import('../plugin-api.js').KpipePlugin['options']>) {
  const out: Record<string, import('../plugin-api.js').PluginOptionValue> = {};
  for (const [k, v] of Object.entries(known)) if (v.default !== undefined) out[k] = v.default;
  return out;
}

/**
 * A step may read what another stage wrote only when its stage is ordered after that stage: the
 * orderings of kbuild.pipeline are the contract between stages, so a plugin cannot create a hidden
 * dependency (seed 000's cycle started as one).
 */
function crossStageReads(steps: readonly Step[], graph: StageGraph): Diagnostic[] {
  const producer = new Map<string, Step>();
  for (const s of steps) for (const o of s.outputs) producer.set(o, s);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const s of steps) {
    for (const i of s.inputs) {
      const p = producer.get(i);
      if (!p || p.stage === s.stage || isOrderedAfter(graph, s.stage, p.stage)) continue;
      const key = `${s.stage}<-${p.stage}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(error('stage-order', `step '${s.id}' of stage '${s.stage}' reads ${i}, written by stage '${p.stage}', but '${s.stage}' is not ordered after '${p.stage}'`, {
        plugin: s.plugin,
        hint: `add the ordering '${s.stage}: ${p.stage}' to kbuild.pipeline, or check the 'when' of the existing one`,
      }));
    }
  }
  return out;
}

/** The `use` line of the plugin the cursor names, in the stage its hook is for (else its first use). */
function useRange(graph: StageGraph, cursor: Cursor): SourceRange | undefined {
  if (!cursor.plugin) return undefined;
  const stage = /\.for\('(.*)'\)$/.exec(cursor.hook ?? '')?.[1];
  const uses = graph.stages.flatMap((s) => s.uses).filter((u) => u.plugin === cursor.plugin && u.active);
  return (uses.find((u) => u.stage === stage) ?? uses[0])?.range;
}

/**
 * A plugin's exception as a diagnostic naming the plugin, the hook, the `use` line and, for an org
 * plugin, its config entry. A plugin that throws a KpipeError chose its own words (and hint): kept.
 */
function pluginError(e: unknown, cursor: Cursor, range: SourceRange | undefined, registry: PluginRegistry): Diagnostic {
  const origin = cursor.plugin ? registry.get(cursor.plugin)?.origin : undefined;
  const from = origin && origin.kind === 'config' ? [{ message: `plugin '${cursor.plugin}' comes from ${describeOrigin(origin)}${origin.module === origin.specifier ? '' : `: ${origin.module}`}` }] : [];
  if (e instanceof KpipeError && e.diagnostics[0]) {
    const d = e.diagnostics[0];
    return {
      ...d,
      message: `plugin '${cursor.plugin ?? '?'}' failed in hook ${cursor.hook ?? '?'}: ${d.message}`,
      ...(cursor.plugin ? { plugin: cursor.plugin } : {}),
      ...(cursor.hook ? { hook: cursor.hook } : {}),
      ...(d.range ? {} : range ? { range } : {}),
      related: [...(d.related ?? []), ...from],
    };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  // The first stack frame is where the plugin failed: enough to find the bug, not a wall of trace.
  const frame = err.stack?.split('\n').find((l) => l.trim().startsWith('at '))?.trim();
  return error('plugin-error', `plugin '${cursor.plugin ?? '?'}' failed in hook ${cursor.hook ?? '?'}: ${err.message}`, {
    ...(cursor.plugin ? { plugin: cursor.plugin } : {}),
    ...(cursor.hook ? { hook: cursor.hook } : {}),
    ...(range ? { range } : {}),
    related: [...(frame ? [{ message: frame }] : []), ...from],
  });
}

/** A file of the output tree, or undefined when there is no tree or no such file. */
function readTreeFile(objtree: string | undefined, file: string): Buffer | undefined {
  if (!objtree) return undefined;
  try {
    return fs.readFileSync(path.resolve(objtree, file));
  } catch {
    return undefined;
  }
}
