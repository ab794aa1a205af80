// Everything a command needs before it can explain, run or clean: the pipeline file, the plugins,
// Kconfig, the toolchain, the stage graph, the plan and the step graph. Loaded the same way for every
// command, so `explain` shows exactly what `run` would do.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPipelineCached } from '../../dsl/load-cached.js';
import { error, hasErrors, KpipeError, type Diagnostic } from '../diagnostic.js';
import { loadKconfig, type Kconfig } from '../planning/kconfig.js';
import { loadToolchain, placeholderToolchain, srctreeOf, type MakeEnvironment, type Toolchain } from '../planning/toolchain.js';
import { buildStageGraph, type StageGraph } from '../planning/stage-graph.js';
import { resolveTreeArch, type TreeArch } from '../planning/tree-arch.js';
import { createPlan, type Plan } from '../planning/planner.js';
import type { PluginRegistry } from './plugin-registry.js';
import { loadPlugins } from './plugin-loader.js';
import { buildStepGraph, type StepGraph } from '../planning/step-graph.js';
import { suggest } from '../suggest.js';
import { readInvocation } from './last-invocation.js';
import { attachUseFrames } from './use-frames.js';
import { conditionSymbols, kconfigSymbols, unknownSymbolWarnings } from '../planning/unknown-symbols.js';
import { refuseUndescribedKernel } from '../planning/kernel-lines.js';

/**
 * Symbols a `when` may name that no Kconfig file defines: kpipe's own (`ARCH=x86`, `KBUILD_EXTMOD`
 * for M=, `MODULE_HASHES` for kernels without the series).
 */
export const KPIPE_SYMBOLS: readonly string[] = ['ARCH', 'SRCARCH', 'KBUILD_EXTMOD', 'MODULE_HASHES', 'KERNELVERSION', 'KERNELRELEASE'];

/** The package root: dist/core/loading/session.js -> ../../.. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface SessionOptions {
  /** `-C DIR`: the output tree. */
  objtree?: string;
  /** `--profile NAME`: a Kconfig profile from configs/ instead of a tree. */
  profile?: string;
  /** `--set SYM=VALUE`. */
  sets: string[];
  /** `--pipeline FILE`. */
  pipeline?: string;
  /** `--skip STAGE`: leave these stages out; what they write is taken from the tree as it is. */
  skip?: string[];
  /** `M=DIR`: build the external modules of DIR against the output tree, as `make M=DIR` does. */
  extmod?: string;
  /** Plugin options from the command line, by plugin name (`--btf-base FILE`: btf's `base`). */
  pluginOptions?: Record<string, Record<string, string>>;
  /** Environment for make calls: the process's plus `ARCH=... CROSS_COMPILE=...` from the command line. */
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * Plan as the tree's last `kpipe run` did (.kpipe/invocation.json): its pipeline when no
   * `--pipeline`, its `--set` when none, its config file. For clean, plugins and graph.
   */
  lastRun?: boolean;
}

export interface Session {
  pipelineFile: string;
  /** Why that file: '--pipeline', 'the output tree', 'shipped with kpipe'. */
  pipelineSource: string;
  kconfigSource: string;
  sources: ReadonlyMap<string, string>;
  registry: PluginRegistry;
  kconfig: Kconfig;
  toolchain: Toolchain;
  stageGraph: StageGraph;
  plan: Plan;
  stepGraph: StepGraph;
  objtree?: string;
  srctree?: string;
  /** The external module directory (`M=DIR`), absolute. */
  extmod?: string;
  /** Where `.kpipe/` lives: the external module directory with `M=`, else the output tree. */
  stateDir?: string;
  make: MakeEnvironment;
  /** The ARCH every make call gets, and how kpipe knows it (given, or read from the tree). */
  arch: TreeArch;
  warnings: Diagnostic[];
  /** The `--set` words the plan used (given, or the last run's). */
  sets: string[];
  /** Given with `--pipeline` (or taken from the last run): recorded for the next clean. */
  pipelineGiven: boolean;
  /** What was taken from the tree's last run, for a note: "--pipeline release.pipeline --set X=y". */
  fromLastRun?: string;
}

export function profileNames(): string[] {
  const dir = path.join(PACKAGE_ROOT, 'configs');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.config')).map((f) => f.slice(0, -'.config'.length)).sort();
}

export async function openSession(options: SessionOptions): Promise<Session> {
  const objtree = options.objtree ? path.resolve(options.cwd, options.objtree) : undefined;
  if (objtree && !fs.existsSync(objtree)) throw new KpipeError([error('no-objtree', `output tree ${objtree} does not exist`)]);
  const extmod = options.extmod !== undefined ? externalModuleDir(options.extmod, options.cwd, objtree) : undefined;
  const stateDir = extmod ?? objtree;
  const last = options.lastRun && stateDir ? readInvocation(stateDir) : undefined;
  const adopted: string[] = [];
  if (last?.pipeline && options.pipeline === undefined && fs.existsSync(last.pipeline)) {
    options = { ...options, pipeline: last.pipeline };
    adopted.push(`--pipeline ${last.pipeline}`);
  }
  if (last && last.sets.length > 0 && options.sets.length === 0) {
    options = { ...options, sets: last.sets };
    adopted.push(...last.sets.map((x) => `--set ${x}`));
  }
  const { file: pipelineFile, source: pipelineSource } = choosePipeline(options, objtree);
  const dirs = [...(objtree ? [objtree] : []), options.cwd];
  const { registry, sources: configSources, searched } = await loadPlugins({ dirs, ...(last?.configFile ? { configFile: last.configFile } : {}) });
  if (last?.configFile && registry.configFile === last.configFile) adopted.push(`the config file ${last.configFile}`);
  const loaded = await loadPipelineCached(pipelineFile, { knownPlugins: registry.names() });
  // The config file's text too: a plugin diagnostic may point at its entry there.
  const sources = new Map([...loaded.sources, ...configSources]);
  if (hasErrors(loaded.diagnostics)) {
    // An org plugin kpipe did not find usually means a config file it did not find: say where it looked.
    const where = registry.configFile ? `plugins came from ${registry.configFile}; searched: ${searched.join('; ')}` : `no kpipe config file found; searched: ${searched.join('; ')}`;
    const diagnostics = loaded.diagnostics.map((d) => (d.code === 'unknown-plugin' ? { ...d, related: [...(d.related ?? []), { message: where }] } : d));
    throw new KpipeError(diagnostics, 2, sources);
  }

  let profileFile: string | undefined;
  if (options.profile) {
    profileFile = path.join(PACKAGE_ROOT, 'configs', `${options.profile}.config`);
    if (!fs.existsSync(profileFile)) {
      const guess = suggest(options.profile, profileNames());
      throw new KpipeError([error('unknown-profile', `no profile '${options.profile}'`, { hint: guess ? `did you mean '${guess}'? (profiles: ${profileNames().join(', ')})` : `profiles: ${profileNames().join(', ')}` })]);
    }
  }
  if (!profileFile && !objtree) {
    throw new KpipeError([error('no-config', 'no Kconfig to plan against', { hint: `give an output tree with -C DIR or a profile with --profile NAME (${profileNames().join(', ')})` })]);
  }
  const srctree = objtree ? srctreeOf(objtree) : undefined;
  // Before any make call: without ARCH, make would take the host's and reconfigure the tree.
  const arch = resolveTreeArch({ ...(objtree ? { objtree } : {}), ...(srctree ? { srctree } : {}), env: options.env });
  const env = arch.arch !== undefined && !arch.given ? { ...options.env, ARCH: arch.arch } : options.env;
  const kconfig = loadKconfig({
    ...(objtree ? { objtree } : {}), ...(srctree ? { srctree } : {}), ...(profileFile ? { profileFile } : {}), sets: options.sets, ...(extmod ? { extmod } : {}),
    ...(arch.arch !== undefined ? { envArch: arch.arch, archOrigin: arch.origin } : {}),
  });
  // Before the toolchain read, which writes .kpipe/: a refused tree is left exactly as it was.
  const refusal = refuseUndescribedKernel(loaded.statements, kconfig, pipelineFile);
  if (refusal) throw new KpipeError([refusal], 2, sources);
  const make: MakeEnvironment = { make: options.env.MAKE ?? 'make', env, ...(extmod ? { extmod } : {}) };
  const toolchain = objtree ? loadToolchain(objtree, make, stateDir) : placeholderToolchain(`no output tree: values are shown as $(VAR)`);

  const stages = buildStageGraph(loaded.statements, kconfig);
  if (hasErrors(stages.diagnostics)) throw new KpipeError(stages.diagnostics, 2, sources);
  const { plan, diagnostics } = createPlan({ stageGraph: stages.graph, registry, kconfig, toolchain, make, ...(options.pluginOptions ? { optionOverrides: options.pluginOptions } : {}), ...(objtree ? { objtree } : {}), ...(srctree ? { srctree } : {}) });
  if (hasErrors(diagnostics)) throw new KpipeError(diagnostics, 2, sources);

  const skip = new Set(options.skip ?? []);
  for (const name of skip) {
    if (!stages.graph.stages.some((st) => st.name === name)) {
      const guess = suggest(name, stages.graph.order);
      throw new KpipeError([error('unknown-stage', `--skip ${name}: no such stage`, { hint: guess ? `did you mean '${guess}'?` : `stages: ${stages.graph.order.join(', ')}` })]);
    }
  }
  const root = objtree ?? '/objtree';
  const steps = buildStepGraph(plan.steps.filter((st) => !skip.has(st.stage)), {
    objtree: root,
    // Without a tree every file kpipe does not produce is taken to exist: explain shows the shape.
    isSource: (p) => !objtree || fs.existsSync(path.resolve(root, p)),
    ...(extmod ? { outputRoots: [extmod] } : {}),
  });
  if (hasErrors(steps.diagnostics)) throw new KpipeError(attachUseFrames(steps.diagnostics, plan.steps, stages.graph), 2, sources);

  const symbolWarnings: Diagnostic[] = [];
  if (srctree) {
    // Symbols the tree's config sets, kpipe's own and --set ones need no look at the Kconfig files
    // (about 1,800 of them): usually only a few unset symbols remain, or none.
    const given = new Set([...KPIPE_SYMBOLS, ...kconfig.names(), ...options.sets.map((x) => x.replace(/^CONFIG_/, '').split('=')[0]!)]);
    const unsure = conditionSymbols(loaded.statements).filter((n) => !given.has(n.text));
    const defined = unsure.length > 0 ? kconfigSymbols(srctree, stateDir) : undefined;
    if (defined) symbolWarnings.push(...unknownSymbolWarnings(unsure, new Set([...defined, ...given]), `the source tree ${srctree}`));
  }

  const kconfigSource = profileFile ? `profile ${options.profile} (${profileFile.startsWith(options.cwd + path.sep) ? path.relative(options.cwd, profileFile) : profileFile})` : `${objtree}/include/config/auto.conf`;
  return {
    pipelineFile, pipelineSource, kconfigSource, sources, registry, kconfig, toolchain,
    stageGraph: stages.graph, plan, stepGraph: steps.graph, make, arch,
    ...(objtree ? { objtree } : {}), ...(srctree ? { srctree } : {}), ...(extmod ? { extmod } : {}), ...(stateDir ? { stateDir } : {}),
    warnings: [...loaded.diagnostics.filter((d) => d.severity !== 'error'), ...symbolWarnings, ...plan.warnings],
    sets: options.sets,
    pipelineGiven: options.pipeline !== undefined,
    ...(adopted.length > 0 ? { fromLastRun: adopted.join(' ') } : {}),
  };
}

/** M=DIR as kbuild takes it: a directory, for an output tree; absolute from here on. */
function externalModuleDir(dir: string, cwd: string, objtree: string | undefined): string {
  if (!objtree) throw new KpipeError([error('usage', `M=${dir} needs the output tree the modules are built against: -C DIR (or O=DIR)`)]);
  const abs = path.resolve(cwd, dir).replace(/\/+$/, '');
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new KpipeError([error('no-extmod', `M=${dir}: ${abs} is not a directory`)]);
  // kbuild refuses these too ("module directory path cannot contain"): make would split the word.
  if (/[\s%:]/.test(abs)) throw new KpipeError([error('bad-extmod', `M=${dir}: kbuild cannot build in a directory whose path has a space, '%' or ':' (${abs})`)]);
  return abs;
}

/** `--pipeline FILE`, else a kbuild.pipeline in the output tree, else the one shipped with kpipe. */
function choosePipeline(options: SessionOptions, objtree: string | undefined): { file: string; source: string } {
  if (options.pipeline) return { file: path.resolve(options.cwd, options.pipeline), source: '--pipeline' };
  if (objtree && fs.existsSync(path.join(objtree, 'kbuild.pipeline'))) return { file: path.join(objtree, 'kbuild.pipeline'), source: 'the output tree' };
  return { file: path.join(PACKAGE_ROOT, 'kbuild.pipeline'), source: 'shipped with kpipe' };
}
