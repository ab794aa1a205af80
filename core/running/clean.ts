// `kpipe clean` (principle 5): every output the plan declares, every scratch file, every temporary a
// run left (the stamp-file leak of seed 000 cannot happen: nothing exists that the plan does not name),
// every output of a step an earlier plan had (the state knows them: dead-outputs.ts), and `.kpipe/`.
// Only files inside the output tree are touched; a plan declaring an output elsewhere gets a warning.
//
// What the link wrote, not what the compile phase wrote (issue 17): by default the outputs of the
// compile phase (steps with `replan` or `compilePhase`: vmlinux.a, vmlinux.o, modules.order,
// Module.symvers, .vmlinux.export.c, scripts/module.lds) stay, so the next run links again without
// compiling; `compile: true` (`kpipe clean --compile`) removes them too. A delegated step's outputs
// come with kbuild's own record of each (`dir/.name.cmd`: `..vmlinux.export.o.cmd`,
// `..module-common.o.cmd`), removed with the output, and so do the outputs a kbuild command of a
// step writes in place (`init/.version-timestamp.o.cmd`, compiled by the first link).
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../diagnostic.js';
import { KpipeError } from '../diagnostic.js';
import { absolutePath, canonicalPath, isInsideTree } from '../paths.js';
import { kbuildWrittenOutputs, type Step } from '../planning/step.js';
import { STATE_DIR } from '../state/state-store.js';
import { kbuildRecordOf } from '../state/kbuild-record.js';
import { tempBase } from './temp-outputs.js';
import { reapOrphans } from './orphans.js';
import { acquireTreeLock } from './lock.js';
import { findDeadOutputs, removeDeadOutputs } from './dead-outputs.js';

export interface CleanResult {
  /** Canonical paths removed, in plan order (temporaries and `.kpipe/` last). */
  removed: string[];
  diagnostics: Diagnostic[];
}

export interface CleanOptions {
  /** A run in progress in the tree: stop with a `locked` error (default) or wait for it. */
  lock?: 'wait' | 'fail';
  signal?: AbortSignal;
  /** Where `.kpipe/` lives (default: the output tree). */
  stateDir?: string;
  /** Directories outside the output tree whose declared outputs may be removed too (`M=DIR`). */
  roots?: readonly string[];
  /** Remove the compile phase's outputs too (`kpipe clean --compile`). */
  compile?: boolean;
  /**
   * Every step of the plan, skipped stages included (default: `steps`): a recorded step not among
   * them is dead and its outputs go.
   */
  plan?: readonly Step[];
  /** Files never taken for outputs of dead steps (what delegated steps of earlier runs wrote). */
  keep?: Iterable<string>;
  /** Runs under the tree lock before anything is removed (`make M=DIR clean`); a diagnostic stops clean. */
  before?: () => Diagnostic | undefined;
}

/** Whether clean keeps the step's outputs: the compile phase's, unless asked. */
export function keptByClean(step: Step, compile: boolean): boolean {
  return !compile && (step.replan === true || step.compilePhase === true);
}

/** kbuild's record of a target it built (`if_changed`): `dir/.name.cmd`. */
export async function cleanOutputs(steps: readonly Step[], objtree: string, opts: CleanOptions = {}): Promise<CleanResult> {
  objtree = path.resolve(objtree);
  const stateDir = path.resolve(opts.stateDir ?? objtree);
  const roots = (opts.roots ?? []).map((r) => path.resolve(r));
  const removable = (p: string) => isInsideTree(p) || roots.some((r) => p.startsWith(`${r}/`));
  const removed: string[] = [];
  const diagnostics: Diagnostic[] = [];
  let lock;
  try {
    lock = await acquireTreeLock(stateDir, { mode: opts.lock ?? 'fail', command: 'kpipe clean', ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    if (e instanceof KpipeError) return { removed, diagnostics: e.diagnostics };
    throw e;
  }
  try {
    await reapOrphans(stateDir);
    const stop = opts.before?.();
    if (stop) return { removed, diagnostics: [stop] };
    // Before the plan's own outputs go: the store is read while nothing has moved.
    const dead = findDeadOutputs(opts.plan ?? steps, objtree, stateDir, roots, opts.keep);
    const basesByDir = new Map<string, Set<string>>();
    const seen = new Set<string>();
    for (const step of steps) {
      if (keptByClean(step, opts.compile === true)) continue;
      const records = (step.delegated ? step.outputs : kbuildWrittenOutputs(step)).map(kbuildRecordOf);
      for (const raw of [...step.outputs, ...(step.scratch ?? []), ...records]) {
        const p = canonicalPath(raw, objtree);
        if (seen.has(p)) continue;
        seen.add(p);
        if (!removable(p)) {
          diagnostics.push({
            code: 'clean-outside-tree',
            severity: 'warning',
            message: `not removing ${p}: step ${step.id} (plugin ${step.plugin}) declares it, but it is outside the output tree ${objtree}`,
            plugin: step.plugin,
          });
          continue;
        }
        if (remove(absolutePath(p, objtree))) removed.push(p);
        const dir = path.dirname(p);
        (basesByDir.get(dir) ?? basesByDir.set(dir, new Set()).get(dir)!).add(path.basename(p));
      }
    }
    for (const d of removeDeadOutputs(dead.filter((x) => !seen.has(x.path)), objtree)) removed.push(d.path);
    for (const [dir, bases] of basesByDir) {
      let entries: string[];
      try {
        entries = fs.readdirSync(absolutePath(dir, objtree));
      } catch {
        continue;
      }
      for (const entry of entries) {
        const base = tempBase(entry);
        if (base !== undefined && bases.has(base) && remove(path.join(absolutePath(dir, objtree), entry)))
          removed.push(dir === '.' ? entry : `${dir}/${entry}`);
      }
    }
    // Everything in .kpipe/ but the lock while we hold it, then the lock, then the directory (which
    // stays if another run has already started in the meantime).
    const state = path.join(stateDir, STATE_DIR);
    const hadState = fs.existsSync(state);
    for (const entry of hadState ? fs.readdirSync(state) : []) {
      if (entry !== 'lock') fs.rmSync(path.join(state, entry), { recursive: true, force: true });
    }
    lock.release();
    lock = undefined;
    try {
      fs.rmdirSync(state);
    } catch {
      // not empty: a new run owns it now
    }
    if (hadState) removed.push(`${STATE_DIR}/`);
    return { removed, diagnostics };
  } finally {
    lock?.release();
  }
}

function remove(file: string): boolean {
  try {
    fs.unlinkSync(file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'EISDIR' || code === 'EPERM') {
      // A directory where the plan declares a file: not ours to remove recursively.
      return false;
    }
    throw e;
  }
}
