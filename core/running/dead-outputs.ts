// Outputs of steps that are no longer in the plan (ninja's `-t cleandead`): a plugin that switched
// from `.ko.xz` to `.ko.zst`, a `--set MODULE_HASHES=y` run followed by a plain one, a plugin removed
// from the pipeline. The state store remembers every step that ran and what it wrote, so kpipe knows
// these files even though no plugin declares them any more. `kpipe run` removes them after a run and
// `kpipe clean` with the rest.
//
// A file is removed only when it is still exactly what kpipe wrote (its content hash is the one the
// step record holds): a file someone put there since, under the same name, is theirs. A path the
// current plan reads or writes is never dead, whatever an old record says, and neither is one a
// delegated step wrote (`keep`: kbuild's vmlinux.a, modules.order, which a pipeline without kbuild's
// stages would otherwise take for dead; `make clean` is theirs).
import fs from 'node:fs';
import { absolutePath, isInsideTree } from '../paths.js';
import type { Step } from '../planning/step.js';
import { hashFile } from '../state/file-state.js';
import { StateStore } from '../state/state-store.js';

export interface DeadOutput {
  /** Canonical path. */
  path: string;
  /** The id of the step that wrote it, which the plan no longer has. */
  step: string;
}

/**
 * The outputs recorded in `stateDir`'s store for step ids `plan` does not have, that are on disk with
 * the content kpipe wrote. `plan` is every step of the plan, skipped stages included.
 */
export function findDeadOutputs(plan: readonly Step[], objtree: string, stateDir: string, roots: readonly string[] = [], keep: Iterable<string> = []): DeadOutput[] {
  const store = StateStore.load(stateDir);
  if (store.stepCount === 0) return [];
  const ids = new Set(plan.map((s) => s.id));
  const live = new Set<string>(keep);
  for (const s of plan) for (const p of [...s.inputs, ...s.outputs, ...(s.scratch ?? [])]) live.add(p);
  const out: DeadOutput[] = [];
  const seen = new Set<string>();
  for (const id of store.stepIds()) {
    if (ids.has(id)) continue;
    const record = store.step(id)!;
    for (let k = 0; k < record.outputs.length; k += 2) {
      const p = record.outputs[k]!;
      if (live.has(p) || seen.has(p)) continue;
      if (!isInsideTree(p) && !roots.some((r) => p.startsWith(`${r}/`))) continue;
      seen.add(p);
      const abs = absolutePath(p, objtree);
      let hash: string;
      try {
        if (!fs.statSync(abs).isFile()) continue;
        hash = hashFile(abs);
      } catch {
        continue; // gone already
      }
      if (hash === record.outputs[k + 1]) out.push({ path: p, step: record.id });
    }
  }
  return out;
}

/** Removes them; returns the ones removed. */
export function removeDeadOutputs(dead: readonly DeadOutput[], objtree: string): DeadOutput[] {
  return dead.filter((d) => {
    try {
      fs.unlinkSync(absolutePath(d.path, objtree));
      return true;
    } catch {
      return false;
    }
  });
}
