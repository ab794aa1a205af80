// The commands that touch an output tree: run, clean, export ninja, builtin. Each turns a Session into
// a call of the executor's modules and an exit status.
import fs from 'node:fs';
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

/**
 * `kpipe run`. Steps the plan itself depends on (`replan`: kbuild's compile phase writes
 * modules.order and the thin archives the link reads) run first; then kpipe plans again from what
 * they wrote, without them, and runs the rest.
 */
export async function runCommand(first: Session, args: CliArgs): Promise<number> {
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
    const status = await runOnce(first, args, outputs);
    if (status !== 0) return status;
    const second = await openSession(sessionOptions(args, replanStages));
    // The plan made from what the compile stage wrote may have warnings of its own (seed 003's one
    // "skipping BTF for modules" line needs the modules.order the compile wrote).
    printWarnings(second.warnings.filter((w) => !first.warnings.some((f) => f.message === w.message)), second);
    return runOnce(second, args, undefined);
  }
  return runOnce(first, args, undefined);
}

async function runOnce(session: Session, args: CliArgs, only: string[] | undefined): Promise<number> {
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
      signal: interruption.signal,
      ...(targets ? { targets } : {}),
    });
    // Bad targets are bad usage (2); a failed step is 1.
    if (result.diagnostics.length > 0) throw new KpipeError(result.diagnostics, result.exitCode === 2 ? 2 : 1, session.sources);
    return result.exitCode;
  } finally {
    interruption.dispose();
  }
}

export async function cleanCommand(session: Session): Promise<number> {
  const objtree = requireTree(session, 'clean');
  const result = await cleanOutputs(session.stepGraph.steps, objtree, {
    ...(session.stateDir ? { stateDir: session.stateDir } : {}),
    ...(session.extmod ? { roots: [session.extmod] } : {}),
  });
  if (result.diagnostics.length > 0) throw new KpipeError(result.diagnostics, 1);
  process.stdout.write(`  CLEAN   ${result.removed.length} files\n`);
  return 0;
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

export function whyMap(session: Session): Map<string, string> {
  if (!session.objtree) throw new KpipeError([error('usage', 'explain --why needs an output tree (-C DIR): it compares with what ran there')]);
  const env = kbuildVariables(session);
  const objtree = session.objtree;
  const dryRun = (step: Step) => kbuildDryRun(step, { objtree, env, ...(session.srctree ? { srctree: session.srctree } : {}) });
  const reasons = explainWhy(session.stepGraph, objtree, { env, ...(session.srctree ? { srctree: session.srctree } : {}) }, session.stateDir, dryRun);
  return new Map([...reasons].map(([id, r]) => [id, describeReason(r)]));
}
