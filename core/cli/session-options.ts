// From the parsed command line to what a session and a run need: shared by every command.
import path from 'node:path';
import type { CliArgs } from './args.js';
import type { Diagnostic } from '../diagnostic.js';
import type { Session, SessionOptions } from '../loading/session.js';
import { formatDiagnostics } from './format-diagnostic.js';

export function sessionOptions(args: CliArgs, extraSkip: string[] = []): SessionOptions {
  // M= goes to make as a word of its own (kbuild ignores it in the environment).
  const { M: extmod, ...assignments } = args.assignments;
  return {
    ...(extmod !== undefined ? { extmod } : {}),
    ...(args.btfBase !== undefined ? { pluginOptions: { btf: { base: path.resolve(process.cwd(), args.btfBase) } } } : {}),
    ...(args.objtree !== undefined ? { objtree: args.objtree } : {}),
    ...(args.profile !== undefined ? { profile: args.profile } : {}),
    ...(args.pipeline !== undefined ? { pipeline: args.pipeline } : {}),
    sets: args.sets,
    skip: [...args.skip, ...extraSkip],
    env: { ...process.env, ...assignments },
    cwd: process.cwd(),
  };
}

/** A target is a stage name (every step of it, by id: a step may write no file) or a file. */
export function targetsOf(session: Session, words: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const stageSteps = session.stepGraph.steps.filter((s) => s.stage === w);
    if (stageSteps.length > 0) out.push(...stageSteps.map((s) => s.id));
    else out.push(w.replace(/^\.\//, ''));
  }
  return out;
}

/** The plan's warnings on stderr (a plugin's "skipping BTF for modules: ..."), once each. */
export function printWarnings(warnings: readonly Diagnostic[], session: Session): void {
  if (warnings.length === 0) return;
  const color = process.stderr.isTTY === true && !process.env.NO_COLOR;
  process.stderr.write(formatDiagnostics(warnings, session.sources, { color, cwd: process.cwd() }));
}

/** What a plain `kpipe run` makes: every step but those made on request only; undefined when that is all. */
export function defaultTargets(session: Session): string[] | undefined {
  const steps = session.stepGraph.steps;
  return steps.some((s) => s.onRequest) ? steps.filter((s) => !s.onRequest).map((s) => s.id) : undefined;
}
