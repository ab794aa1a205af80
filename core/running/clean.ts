// `kpipe clean` (principle 5): every output the plan declares, every scratch file, every temporary a
// run left (the stamp-file leak of seed 000 cannot happen: nothing exists that the plan does not name),
// and `.kpipe/`. Only files inside the output tree are touched; a plan declaring an output elsewhere
// gets a warning instead.
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../diagnostic.js';
import { KpipeError } from '../diagnostic.js';
import { absolutePath, canonicalPath, isInsideTree } from '../paths.js';
import type { Step } from '../planning/step.js';
import { STATE_DIR } from '../state/state-store.js';
import { tempBase } from './temp-outputs.js';
import { reapOrphans } from './orphans.js';
import { acquireTreeLock } from './lock.js';

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
}

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
    const basesByDir = new Map<string, Set<string>>();
    const seen = new Set<string>();
    for (const step of steps) {
      for (const raw of [...step.outputs, ...(step.scratch ?? [])]) {
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
