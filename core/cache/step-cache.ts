// The step cache as the executor sees it: one object per run that, for a step that must run, either
// restores its outputs (local store first, then the remote cache) or, once the step has run, stores
// them. Its policy, in one place:
//   - a hit gives exactly the bytes the step would write: every restored output is hashed on the way
//     in and compared with the digest of the entry, and an entry must name exactly the step's outputs;
//   - the cache never fails a build: a broken local store or remote server (refused, HTTP error,
//     timeout, a blob whose hash disagrees) becomes one warning for the run and a miss, and a server
//     that is unreachable or too slow is not asked again during the run;
//   - a remote hit is written through to the local store, so the next run does not ask again;
//   - read-only remotes (developers) are only read; read-write ones (CI) get every step that ran.
import fs from 'node:fs';
import type { Diagnostic } from '../diagnostic.js';
import type { Step } from '../planning/step.js';
import type { FileRecord } from '../state/file-state.js';
import { hashAndStat } from '../state/file-state.js';
import type { ActionEntry, CachedOutput } from './action-result.js';
import type { KeyContext } from './identity.js';
import { stepKey } from './identity.js';
import { LocalStore, setMode } from './local-store.js';
import type { RemoteOptions } from './remote-store.js';
import { RemoteFailure, RemoteStore } from './remote-store.js';

export type CacheSource = 'local' | 'remote';

export interface CacheSettings {
  local?: { dir: string; maxBytes: number };
  remote?: RemoteOptions;
}

/** What the executor knows about a step that must run, just before it would run. */
export interface CacheQuery {
  step: Step;
  /** The up-to-date rule's command identity. */
  identity: string;
  /** Flat (path, hash) pairs of the inputs, as measured now. */
  inputs: readonly string[];
  context: KeyContext;
}

export interface Restored {
  source: CacheSource;
  /** Hash and stat of each restored temporary, by output. */
  records: Map<string, FileRecord>;
  /** What the step's tools printed when it ran, to show again. */
  log: string;
}

export interface CacheCounts {
  local: number;
  remote: number;
  stored: number;
}

export class StepCache {
  readonly local: LocalStore | undefined;
  readonly remote: RemoteStore | undefined;
  /** At most one per store and run: what went wrong first. */
  readonly warnings: Diagnostic[] = [];
  readonly counts: CacheCounts = { local: 0, remote: 0, stored: 0 };
  private remoteOff = false;
  private localWritable = true;
  private warned = new Set<string>();

  constructor(readonly settings: CacheSettings) {
    if (settings.local) this.local = new LocalStore(settings.local.dir, settings.local.maxBytes);
    if (settings.remote) this.remote = new RemoteStore(settings.remote);
  }

  key(q: CacheQuery): string {
    return stepKey(q.step, q.identity, q.inputs, q.context);
  }

  /** Restores the step's outputs into their temporaries (`tempOf`), or undefined on a miss. */
  async restore(q: CacheQuery, tempOf: (output: string) => string, signal?: AbortSignal): Promise<Restored | undefined> {
    const key = this.key(q);
    const outputs = q.step.outputs;
    if (this.local) {
      const entry = this.local.entry(key);
      if (entry && sameOutputs(entry.outputs, outputs)) {
        const records = new Map<string, FileRecord>();
        for (const out of entry.outputs) {
          const rec = this.local.restore(out, tempOf(out.path));
          if (!rec) break;
          records.set(out.path, rec);
        }
        if (records.size === outputs.length) {
          this.counts.local++;
          return { source: 'local', records, log: entry.log };
        }
        for (const o of outputs) fs.rmSync(tempOf(o), { force: true });
      }
    }
    if (!this.remote || this.remoteOff) return undefined;
    try {
      const entry = await this.remote.entry(key, signal);
      if (!entry || !sameOutputs(entry.outputs, outputs)) return undefined;
      const records = new Map<string, FileRecord>();
      for (const out of entry.outputs) {
        if (!(await this.remote.download(out, tempOf(out.path), signal))) break;
        setMode(tempOf(out.path), out.executable === true);
        const rec = hashAndStat(tempOf(out.path));
        // Checked as it streamed; checked again as it lies on disk, since that is what is put in place.
        if (!rec || rec.hash !== out.hash) throw new RemoteFailure(`${out.path}: the downloaded file changed on disk`, 'corrupt');
        records.set(out.path, rec);
      }
      if (records.size !== outputs.length) {
        for (const o of outputs) fs.rmSync(tempOf(o), { force: true });
        return undefined;
      }
      this.counts.remote++;
      this.writeThrough(key, entry, tempOf);
      return { source: 'remote', records, log: entry.log };
    } catch (e) {
      for (const o of outputs) fs.rmSync(tempOf(o), { force: true });
      if (signal?.aborted) return undefined;
      this.remoteFailed(e);
      return undefined;
    }
  }

  /** Stores the outputs of a step that ran; they are in place (`absoluteOf`) with these hashes. */
  async store(q: CacheQuery, outputs: readonly CachedOutput[], log: string, absoluteOf: (output: string) => string, signal?: AbortSignal): Promise<void> {
    if (!sameOutputs(outputs, q.step.outputs)) return;
    const key = this.key(q);
    if (this.local && this.localWritable) {
      try {
        for (const o of outputs) this.local.putBlob(o.hash, absoluteOf(o.path));
        this.local.putEntry(key, outputs, log);
        this.counts.stored++;
      } catch (e) {
        this.localWritable = false;
        this.warnOnce('local', `the local step cache (${this.local.dir}) cannot be written, so this run stores nothing in it: ${(e as Error).message}`);
      }
    }
    if (this.remote && this.remote.writable && !this.remoteOff) {
      try {
        for (const o of outputs) await this.remote.putBlob(o.hash, absoluteOf(o.path), signal);
        await this.remote.putEntry(key, outputs, log, signal);
      } catch (e) {
        if (!signal?.aborted) this.remoteFailed(e);
      }
    }
  }

  /** `explain --why`: would this step be restored from the local store? (The remote is not asked.) */
  hasLocal(q: CacheQuery): boolean {
    return this.local?.hasEntry(this.key(q)) ?? false;
  }

  /** The entry's outputs, when the local store has one: explain predicts what dependents will read. */
  localEntry(q: CacheQuery): CachedOutput[] | undefined {
    const e = this.local?.entry(this.key(q), false);
    return e && sameOutputs(e.outputs, q.step.outputs) ? e.outputs : undefined;
  }

  /** End of run: keep the local store within its bound. */
  finish(): void {
    if (!this.local || this.counts.stored + this.counts.remote === 0) return;
    try {
      this.local.pruneIfOver();
    } catch (e) {
      this.warnOnce('local', `the local step cache (${this.local.dir}) could not be pruned: ${(e as Error).message}`);
    }
  }

  private writeThrough(key: string, entry: ActionEntry, tempOf: (output: string) => string): void {
    if (!this.local || !this.localWritable) return;
    try {
      for (const o of entry.outputs) this.local.putBlob(o.hash, tempOf(o.path));
      this.local.putEntry(key, entry.outputs, entry.log);
    } catch (e) {
      this.localWritable = false;
      this.warnOnce('local', `the local step cache (${this.local.dir}) cannot be written: ${(e as Error).message}`);
    }
  }

  private remoteFailed(e: unknown): void {
    const failure = e instanceof RemoteFailure ? e : new RemoteFailure((e as Error).message, 'unreachable');
    if (failure.kind === 'unreachable' || failure.kind === 'timeout' || failure.kind === 'http') this.remoteOff = true;
    const after = this.remoteOff ? 'not used for the rest of this run' : 'that entry was not used';
    this.warnOnce('remote', `remote cache ${this.remote!.options.url}: ${failure.message}; ${after}, the steps run here`);
  }

  private warnOnce(store: string, message: string): void {
    if (this.warned.has(store)) return;
    this.warned.add(store);
    this.warnings.push({ code: 'cache', severity: 'warning', message });
  }
}

/** An entry is used only when it names exactly the step's outputs, in its order. */
function sameOutputs(entry: readonly CachedOutput[], outputs: readonly string[]): boolean {
  return entry.length === outputs.length && entry.every((e, k) => e.path === outputs[k]);
}
