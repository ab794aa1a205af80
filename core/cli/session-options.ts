// From the parsed command line to what a session and a run need: shared by every command.
import type { CliArgs } from './args.js';
import type { Session, SessionOptions } from '../session.js';

export function sessionOptions(args: CliArgs, extraSkip: string[] = []): SessionOptions {
  return {
    ...(args.objtree !== undefined ? { objtree: args.objtree } : {}),
    ...(args.profile !== undefined ? { profile: args.profile } : {}),
    ...(args.pipeline !== undefined ? { pipeline: args.pipeline } : {}),
    sets: args.sets,
    skip: [...args.skip, ...extraSkip],
    env: { ...process.env, ...args.assignments },
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

/** What a plain `kpipe run` makes: every step but those made on request only; undefined when that is all. */
export function defaultTargets(session: Session): string[] | undefined {
  const steps = session.stepGraph.steps;
  return steps.some((s) => s.onRequest) ? steps.filter((s) => !s.onRequest).map((s) => s.id) : undefined;
}
