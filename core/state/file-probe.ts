// The disk as the up-to-date rule sees it during one run: each file's current content hash, found
// through the stat fast path of core/state/file-state.ts and remembered for the rest of the run (a file read
// by 5,500 module steps is looked at once). The executor tells it about every file it writes.
import { absoluteFast as absolutePath } from '../canonical-fast.js';
import type { FileRecord } from './file-state.js';
import type { FileStat } from './file-state.js';
import { hashAndStat, sameStat, statFile } from './file-state.js';
import type { StateStore } from './state-store.js';
import type { PrefetchedStats } from './stat-prefetch.js';

export class FileProbe {
  /** canonical path -> content hash, or null when the file does not exist */
  private readonly memo = new Map<string, string | null>();
  /** canonical path -> stat, or null when the file does not exist; each file is stat'ed once a run */
  private readonly stats = new Map<string, FileStat | null>();
  /** Stats taken before the run's first step (./stat-prefetch.ts): good until a step starts. */
  private prefetched: PrefetchedStats | undefined;
  /** Files whose content had to be read this run (for tests and `-v`). */
  hashed = 0;

  constructor(
    private readonly objtree: string,
    private readonly store: StateStore,
  ) {}

  exists(p: string): boolean {
    const m = this.memo.get(p);
    if (m !== undefined) return m !== null;
    return this.stat(p) !== null;
  }

  /** Stats of the files taken before any step ran, used instead of stat calls until dropPrefetch. */
  usePrefetched(stats: PrefetchedStats): void {
    this.prefetched = stats;
  }

  /** A step is starting: what it writes (declared or not) is no longer what the batch saw. */
  dropPrefetch(): void {
    this.prefetched = undefined;
  }

  private stat(p: string): FileStat | null {
    let st = this.stats.get(p);
    if (st !== undefined) return st;
    st = this.prefetched?.get(p);
    if (st === undefined) st = statFile(absolutePath(p, this.objtree)) ?? null;
    this.stats.set(p, st);
    return st;
  }

  /** Content hash of the file now, undefined when it does not exist. */
  hash(p: string): string | undefined {
    const m = this.memo.get(p);
    if (m !== undefined) return m ?? undefined;
    const st = this.stat(p);
    let hash: string | undefined;
    if (st) {
      const known = this.store.file(p);
      if (known && known.trusted && sameStat(known, st)) hash = known.hash;
      else {
        const fresh = hashAndStat(absolutePath(p, this.objtree));
        this.hashed++;
        if (fresh) {
          this.store.recordFile(p, fresh);
          hash = fresh.hash;
        }
      }
    }
    this.memo.set(p, hash ?? null);
    return hash;
  }

  /** The executor put a file in place whose content and stat it knows. */
  wrote(p: string, rec: FileRecord): void {
    this.memo.set(p, rec.hash);
    this.stats.set(p, rec);
    this.store.recordFile(p, rec);
  }

  /** A file changed in a way nobody measured (a delegated step failed halfway): look again next time. */
  forget(p: string): void {
    this.memo.delete(p);
    this.stats.delete(p);
    this.prefetched?.delete(p);
  }
}
