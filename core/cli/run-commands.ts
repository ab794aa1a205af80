// The commands that touch an output tree: run, clean, export ninja, builtin. Each turns a Session into
// a call of the executor's modules and an exit status.
import fs from 'node:fs';
import type { RunLog } from '../running/run-log.js';
import type { KbuildContext } from '../state/kbuild-inputs.js';
import { checkKbuildInputs } from '../state/kbuild-inputs.js';
import os from 'node:os';
import path from 'node:path';
import type { CliArgs } from './args.js';
import type { Session } from '../loading/session.js';
import { openSession, PACKAGE_ROOT } from '../loading/session.js';
import { error, KpipeError } from '../diagnostic.js';
import { runSteps } from '../running/executor.js';
import { interruptOnSignals } from '../running/interrupt.js';
import { cleanOutputs } from '../running/clean.js';
import { exportNinja } from '../reports/ninja-export.js';
import { subgraphFor } from '../planning/step-graph.js';
import type { Step } from '../planning/step.js';
import { kbuildDryRun } from '../running/kbuild-dry-run.js';
import { describeReason, explainWhy } from '../state/up-to-date.js';
import { runBuiltinStandalone } from '../running/builtins.js';
import { registerPluginBuiltins } from '../../plugins/builtin.js';
import { loadPlugins } from '../loading/plugin-loader.js';
import { defaultTargets, printWarnings, sessionOptions, targetsOf } from './session-options.js';
import { loadCacheSettings } from '../cache/cache-config.js';
import { StepCache } from '../cache/step-cache.js';
import { cachePredictions } from '../cache/explain-cache.js';
import { spawnSync } from 'node:child_process';
import { readInvocation, writeInvocation } from '../loading/last-invocation.js';
import { findDeadOutputs, removeDeadOutputs } from '../running/dead-outputs.js';
import { acquireTreeLock } from '../running/lock.js';
import type { HandOff } from '../running/kbuild-keeps.js';
import type { Diagnostic } from '../diagnostic.js';

function requireTree(session: Session, command: string): string {
  if (!session.objtree) throw new KpipeError([error('usage', `kpipe ${command} needs an output tree: -C DIR (or O=DIR)`)]);
  return session.objtree;
}

/** ARCH, CROSS_COMPILE, ... given on the command line or in the environment: kbuild needs them on every call. */
function kbuildVariables(session: Session): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of ['ARCH', 'CROSS_COMPILE', 'LLVM', 'KBUILD_BUILD_VERSION', 'KBUILD_BUILD_TIMESTAMP', 'KBUILD_BUILD_USER', 'KBUILD_BUILD_HOST']) {
    const value = session.make.env[v];
    if (value !== undefined) out[v] = value;
  }
  return out;
}

/** kbuild's tools, whose executables a delegated step's record of kbuild's inputs watches. */
export function kbuildPrograms(session: Session): string[] {
  const t = session.toolchain;
  if (t.kind !== 'tree') return [];
  return (['CC', 'LD', 'NM', 'OBJCOPY', 'OBJDUMP', 'STRIP', 'PAHOLE', 'MAKE', 'CONFIG_SHELL'] as const).flatMap((v) => t.words(v));
}

/**
 * `kpipe run`. Steps the plan itself depends on (`replan`: kbuild's compile phase writes
 * modules.order and the thin archives the link reads) run first; then kpipe plans again from what
 * they wrote, without them, and runs the rest.
 */
export async function runCommand(first: Session, args: CliArgs): Promise<number> {
  recordInvocation(first);
  // One step cache for both halves of the run, so a broken server is one warning for the whole run.
  const settings = await loadCacheSettings(first.stateDir ?? first.objtree ?? process.cwd(), args.cache, process.cwd());
  const cache = settings ? new StepCache(settings) : undefined;
  try {
    const { status, last } = await runStages(first, args, cache);
    // The plan made after the compile stage: its module list is the one modules.order now has.
    if (status === 0) await removeStaleOutputs(last, args);
    return status;
  } finally {
    if (cache) printWarnings(cache.warnings, first);
  }
}

/** What clean, plugins and graph will plan with next (core/loading/last-invocation.ts). */
function recordInvocation(session: Session): void {
  if (!session.stateDir) return;
  writeInvocation(session.stateDir, {
    version: 1,
    sets: session.sets,
    delegated: delegatedOutputs(session),
    ...(session.pipelineGiven ? { pipeline: session.pipelineFile } : {}),
    ...(session.registry.configFile ? { configFile: session.registry.configFile } : {}),
  });
}

/** The outputs of delegated steps, this plan's and every earlier run's (last-invocation.ts). */
function delegatedOutputs(session: Session): string[] {
  const earlier = session.stateDir ? readInvocation(session.stateDir)?.delegated ?? [] : [];
  return [...new Set([...earlier, ...session.plan.steps.filter((s) => s.delegated).flatMap((s) => s.outputs)])].sort();
}

/**
 * After a good run, the files steps of earlier plans wrote that no step writes now (ninja's
 * cleandead): `.ko.xz` after a plugin moved to zstd. Under the tree lock; a run that started in
 * the meantime owns the tree, and the next run removes them.
 */
async function removeStaleOutputs(session: Session, args: CliArgs): Promise<void> {
  const objtree = requireTree(session, 'run');
  const stateDir = session.stateDir ?? objtree;
  let lock;
  try {
    lock = await acquireTreeLock(stateDir, { mode: 'fail', command: 'kpipe run' });
  } catch {
    return;
  }
  try {
    const dead = findDeadOutputs(session.plan.steps, objtree, stateDir, session.extmod ? [session.extmod] : [], delegatedOutputs(session));
    for (const d of removeDeadOutputs(dead, objtree)) {
      if (!args.quiet) process.stdout.write(`  RM      ${d.path} (step ${d.step} is no longer in the plan)\n`);
    }
  } finally {
    lock.release();
  }
}

async function runStages(first: Session, args: CliArgs, cache: StepCache | undefined): Promise<{ status: number; last: Session }> {
  const replanStages = [...new Set(first.stepGraph.steps.filter((s) => s.replan).map((s) => s.stage))];
  // A misspelt target is bad usage, said before kbuild's compile runs; only a tree not yet compiled
  // (whose modules the first plan cannot know) leaves it to the plan made after the compile.
  if (args.positionals.length > 0) {
    const unknown = subgraphFor(first.stepGraph, targetsOf(first, args.positionals)).diagnostics;
    const compiled = first.stepGraph.steps.filter((s) => s.replan).every((s) => s.outputs.every((o) => fs.existsSync(path.resolve(first.stepGraph.objtree, o))));
    if (unknown.length > 0 && compiled) throw new KpipeError(unknown, 2);
  }
  if (replanStages.length > 0) {
    const outputs = first.stepGraph.steps.filter((s) => s.replan).flatMap((s) => s.outputs);
    // The tree stays locked from the compile to the link, and the compile's keep of kbuild's inputs
    // waits for the link's first tools (core/running/kbuild-keeps.ts).
    const { status, log, handOff } = await runOnce(first, args, outputs, cache, undefined, true);
    try {
      if (status !== 0) return { status, last: first };
      const second = await openSession(sessionOptions(args, replanStages));
      // The plan made from what the compile stage wrote may have warnings of its own (seed 003's one
      // "skipping BTF for modules" line needs the modules.order the compile wrote).
      printWarnings(second.warnings.filter((w) => !first.warnings.some((f) => f.message === w.message)), second);
      return { status: (await runOnce(second, args, undefined, cache, log, handOff)).status, last: second };
    } finally {
      await handOff?.finish();
    }
  }
  return { status: (await runOnce(first, args, undefined, cache)).status, last: first };
}

async function runOnce(
  session: Session,
  args: CliArgs,
  only: string[] | undefined,
  cache?: StepCache,
  earlier?: RunLog,
  /** true: hand the tree on to the next runOnce; a HandOff: this is that next one. */
  handOff?: true | HandOff,
): Promise<{ status: number; log?: RunLog; handOff?: HandOff }> {
  const objtree = requireTree(session, 'run');
  const interruption = interruptOnSignals();
  try {
    const targets = only ?? (args.positionals.length > 0 ? targetsOf(session, args.positionals) : defaultTargets(session));
    const result = await runSteps(session.stepGraph, {
      objtree,
      ...(session.stateDir ? { stateDir: session.stateDir } : {}),
      ...(session.srctree ? { srctree: session.srctree } : {}),
      jobs: args.jobs ?? os.availableParallelism(),
      keepGoing: args.keepGoing,
      ...(args.stepTimeout !== undefined ? { stepTimeoutSeconds: args.stepTimeout } : {}),
      verbosity: args.quiet ? 'quiet' : args.verbose ? 'verbose' : 'normal',
      env: kbuildVariables(session),
      kbuildPrograms: kbuildPrograms(session),
      ...(session.extmod ? { kbuildExtmod: session.extmod } : {}),
      signal: interruption.signal,
      ...(targets ? { targets } : {}),
      ...(cache ? { cache } : {}),
      ...(earlier ? { earlier } : {}),
      ...(handOff === true ? { handOff: true } : handOff ? { continues: handOff } : {}),
    });
    // Bad targets are bad usage (2); a failed step is 1.
    // (A run with diagnostics hands nothing on: RunResult.handOff is for a good run.)
    if (result.diagnostics.length > 0) throw new KpipeError(result.diagnostics, result.exitCode === 2 ? 2 : 1, session.sources);
    return { status: result.exitCode, ...(result.log ? { log: result.log } : {}), ...(result.handOff ? { handOff: result.handOff } : {}) };
  } finally {
    interruption.dispose();
  }
}

export async function cleanCommand(session: Session, args: CliArgs): Promise<number> {
  const objtree = requireTree(session, 'clean');
  const extmod = session.extmod;
  const result = await cleanOutputs(session.stepGraph.steps, objtree, {
    plan: session.plan.steps,
    compile: args.compile,
    keep: delegatedOutputs(session),
    ...(session.stateDir ? { stateDir: session.stateDir } : {}),
    ...(extmod ? { roots: [extmod], before: () => kbuildExtmodClean(session, extmod) } : {}),
  });
  if (result.diagnostics.length > 0) throw new KpipeError(result.diagnostics, 1);
  process.stdout.write(`  CLEAN   ${result.removed.length} files\n`);
  return 0;
}

/**
 * With M=DIR kpipe ran the compile too (`make M=DIR modpost`), so its clean is kbuild's
 * `make M=DIR clean` (the .o, .mod.c, .cmd files, modules.order, Module.symvers) plus kpipe's own.
 */
function kbuildExtmodClean(session: Session, extmod: string): Diagnostic | undefined {
  const r = spawnSync(session.make.make, ['-s', `M=${extmod}`, 'clean'], { cwd: session.objtree, env: session.make.env, encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    return error('clean-failed', `make M=${extmod} clean failed (${r.error ? r.error.message : `exit ${r.status}`})`, { ...(r.stderr?.trim() ? { hint: r.stderr.trim() } : {}) });
  }
  return undefined;
}

export function exportNinjaCommand(session: Session, args: CliArgs): number {
  const objtree = requireTree(session, 'export ninja');
  const text = exportNinja(session.stepGraph, {
    kpipe: [process.execPath, path.join(PACKAGE_ROOT, 'bin', 'kpipe.js')],
    ...(session.srctree ? { srctree: session.srctree } : {}),
    env: kbuildVariables(session),
  });
  const file = path.resolve(process.cwd(), args.output ?? path.join(objtree, 'build.ninja'));
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
  process.stdout.write(`  GEN     ${file}\n`);
  return 0;
}

/** `kpipe builtin NAME ARGS...` in the current directory (the output tree, under ninja). */
export async function builtinCommand(words: readonly string[], cwd: string): Promise<number> {
  const [name, ...rest] = words;
  if (!name) throw new KpipeError([error('usage', 'kpipe builtin NAME ARGS...')]);
  // Plugins register their builtins when applied; register the built-in ones so ninja can call them,
  // and load the org plugins of the tree's config file, which declare theirs.
  registerPluginBuiltins();
  await loadPlugins(cwd);
  const r = await runBuiltinStandalone(name, rest, cwd);
  if (r.message) process.stderr.write(`${r.message}\n`);
  return r.status;
}

export async function whyMap(session: Session, args: CliArgs): Promise<Map<string, string>> {
  if (!session.objtree) throw new KpipeError([error('usage', 'explain --why needs an output tree (-C DIR): it compares with what ran there')]);
  const env = kbuildVariables(session);
  const objtree = session.objtree;
  const identity = { env, ...(session.srctree ? { srctree: session.srctree } : {}) };
  const dryRun = (step: Step) => kbuildDryRun(step, { objtree, ...identity });
  const kbuild: KbuildContext = {
    objtree,
    ...(session.srctree ? { srctree: session.srctree } : {}),
    stateDir: session.stateDir ?? objtree,
    env: { ...process.env, ...env },
    programs: kbuildPrograms(session),
    ...(session.extmod ? { extmod: session.extmod } : {}),
    seen: new Map(),
  };
  const reasons = explainWhy(session.stepGraph, objtree, identity, session.stateDir, dryRun, (step, id) => checkKbuildInputs(step, id, kbuild));
  const why = new Map([...reasons].map(([id, r]) => [id, describeReason(r)]));
  const settings = await loadCacheSettings(session.stateDir ?? session.objtree, args.cache, process.cwd());
  if (settings?.local) {
    const predicted = cachePredictions(session.stepGraph, reasons, new StepCache(settings), { ...identity, ...(session.stateDir ? { stateDir: session.stateDir } : {}) });
    for (const id of predicted) why.set(id, `${why.get(id)}; would be restored from the local cache`);
  }
  return why;
}
