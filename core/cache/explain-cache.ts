// `kpipe explain --why` with a step cache: which of the steps a run would rerun it would restore from
// the local store instead. Walks the plan in order like a run: a step's inputs are what is on disk,
// or, for a file an earlier step would restore, the hash the cache entry records, so a whole chain
// (LD .tmp_vmlinux1, then BTF, kallsyms, LD vmlinux...) is predicted from the cache as a run finds it.
// The remote cache is not asked: explain stays quick and offline.
import path from 'node:path';
import type { StepGraph } from '../planning/step-graph.js';
import type { IdentityOptions, Reason } from '../state/up-to-date.js';
import { commandIdentity, mustRun } from '../state/up-to-date.js';
import { StateStore } from '../state/state-store.js';
import { FileProbe } from '../state/file-probe.js';
import type { StepCache } from './step-cache.js';
import { cacheQuery, kbuildKeyInputs } from './cache-query.js';

export function cachePredictions(graph: StepGraph, reasons: ReadonlyMap<string, Reason>, cache: StepCache, opts: IdentityOptions & { stateDir?: string }): Set<string> {
  const objtree = graph.objtree;
  const stateDir = path.resolve(opts.stateDir ?? objtree);
  const store = StateStore.load(stateDir);
  const probe = new FileProbe(objtree, store);
  /** Files an earlier restored step would write: their hashes from its cache entry. */
  const predicted = new Map<string, string>();
  /** Files a step that would run (not restore) rewrites: nothing reading them can be predicted. */
  const unknown = new Set<string>();
  const restored = new Set<string>();
  for (const step of graph.steps) {
    const reason = reasons.get(step.id);
    // kbuild's delegated steps are taken to rewrite what they wrote (they are reproducible).
    if (!reason || step.delegated || reason.kind === 'input-missing') continue;
    // A step waiting for another (kbuild's compile stage, a restored step) reruns when what it will
    // read differs from what it read last time.
    const record = store.step(step.id);
    const recorded = new Map<string, string>();
    for (let k = 0; record && k < record.inputs.length; k += 2) recorded.set(record.inputs[k]!, record.inputs[k + 1]!);
    const changedInput = step.inputs.some((p) => unknown.has(p) || (predicted.get(p) ?? probe.hash(p)) !== recorded.get(p));
    if (!mustRun(reason) && !(reason.kind === 'waits-for' && changedInput)) continue;
    const inputs: string[] = [];
    let known = true;
    for (const p of step.inputs) {
      const h = unknown.has(p) ? undefined : (predicted.get(p) ?? probe.hash(p));
      if (h === undefined) {
        known = false;
        break;
      }
      inputs.push(p, h);
    }
    const kbuild = known ? kbuildKeyInputs(step, probe, objtree) : undefined;
    const entry = kbuild ? cache.localEntry(cacheQuery(step, commandIdentity(step, opts), [...inputs, ...kbuild], objtree, { stateDir, ...(opts.srctree ? { srctree: opts.srctree } : {}), ...(opts.env ? { env: opts.env } : {}) })) : undefined;
    if (!entry) {
      for (const o of step.outputs) unknown.add(o);
      continue;
    }
    restored.add(step.id);
    for (const o of entry) predicted.set(o.path, o.hash);
  }
  return restored;
}
