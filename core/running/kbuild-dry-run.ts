// `kpipe explain --why` for a step delegated to kbuild: ask kbuild itself, as `make -n` does, instead
// of guessing. kbuild's rules run `$(call if_changed,...)`, whose recipe is `@:` when nothing changed,
// so a dry run that prints nothing but `:` means kbuild has nothing to do and the step's outputs stay
// as they are. Run with the step's own argv, environment and directory, so the answer is the run's.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Step } from '../planning/step.js';

export type DryRunAnswer = 'nothing-to-do' | 'would-run';

export interface DryRunOptions {
  objtree: string;
  srctree?: string;
  /** kpipe's environment for every command (ARCH, ...). */
  env?: Record<string, string>;
}

/** undefined when the step is not a plain make call, or the dry run itself failed. */
export function kbuildDryRun(step: Step, opts: DryRunOptions): DryRunAnswer | undefined {
  if (!step.delegated || step.replan || step.commands.length === 0) return undefined;
  for (const { action: a } of step.commands) {
    if (a.kind !== 'exec' || !/(^|\/)g?make$/.test(a.argv[0] ?? '') || a.stdout !== undefined) return undefined;
  }
  for (const { action: a } of step.commands) {
    if (a.kind !== 'exec') return undefined;
    const cwd = a.cwd === 'srctree' ? opts.srctree : opts.objtree;
    if (cwd === undefined) return undefined;
    const r = spawnSync(a.argv[0]!, ['-n', ...a.argv.slice(1)], {
      cwd: path.resolve(cwd),
      env: { ...process.env, ...opts.env, ...a.env },
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    if (r.error || r.status !== 0) return undefined;
    if (r.stdout.split('\n').some((l) => l.trim() !== '' && l.trim() !== ':')) return 'would-run';
  }
  return 'nothing-to-do';
}
