// The local step cache: a directory (default ~/.cache/kpipe/steps, beside the kernel trees, never in
// them) laid out as a Bazel disk cache is:
//   v1/ac/<k[0:2]>/<key>     an ActionResult (core/cache/action-result.ts): the step's output paths and digests
//   v1/cas/<h[0:2]>/<sha256> one output's bytes, by content: a .ko shared by two entries is stored once
//   v1/tmp/                  files being written; each is renamed into ac/ or cas/ when whole
// Writers never write in place: a file is copied aside and renamed, so concurrent runs storing the
// same entry each rename identical bytes, and a reader sees a whole file or none. Readers never trust
// a blob: restoring hashes what it copied and drops a blob whose hash disagrees.
// Size-bounded by least recent use: a hit or a store sets the files' mtime to now; prune removes the
// oldest files until the store is under its bound. An entry whose blob was evicted is a miss.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { ActionEntry, CachedOutput } from './action-result.js';
import { decodeActionResult, encodeActionResult } from './action-result.js';
import type { FileRecord } from '../state/file-state.js';
import { hashAndStat } from '../state/file-state.js';

const LAYOUT = 'v1';
/** A temporary older than this belongs to a writer that died: prune removes it. */
const STALE_TEMP_MS = 60 * 60 * 1000;

export interface StoreStats {
  dir: string;
  entries: number;
  blobs: number;
  bytes: number;
  maxBytes: number;
}

export interface PruneResult {
  removedFiles: number;
  removedBytes: number;
  bytes: number;
}

export class LocalStore {
  private readonly root: string;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    this.root = path.join(dir, LAYOUT);
  }

  /** The outputs recorded under `key`, or undefined (no entry, or one that does not parse); `use` marks it used. */
  entry(key: string, use = true): ActionEntry | undefined {
    const file = this.acPath(key);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      return undefined;
    }
    const entry = decodeActionResult(bytes);
    if (!entry) fs.rmSync(file, { force: true });
    else if (use) touch(file);
    return entry;
  }

  hasEntry(key: string): boolean {
    return fs.existsSync(this.acPath(key));
  }

  /**
   * Copies the blob to `dest` and checks what was copied: its record when the bytes are `hash`,
   * undefined otherwise (no blob, or a damaged one, which is removed so the next store replaces it).
   */
  restore(out: CachedOutput, dest: string): FileRecord | undefined {
    const blob = this.casPath(out.hash);
    try {
      fs.copyFileSync(blob, dest, fs.constants.COPYFILE_FICLONE);
    } catch {
      fs.rmSync(dest, { force: true });
      return undefined;
    }
    setMode(dest, out.executable === true);
    const rec = hashAndStat(dest);
    if (!rec || rec.hash !== out.hash || rec.size !== out.size) {
      fs.rmSync(dest, { force: true });
      fs.rmSync(blob, { force: true });
      return undefined;
    }
    touch(blob);
    return rec;
  }

  /** Stores a file as the blob `hash` (the caller measured it), unless the store has it already. */
  putBlob(hash: string, source: string): number {
    const blob = this.casPath(hash);
    if (fs.existsSync(blob)) {
      touch(blob);
      return 0;
    }
    const tmp = this.tempFile();
    try {
      fs.copyFileSync(source, tmp, fs.constants.COPYFILE_FICLONE);
      const size = fs.statSync(tmp).size;
      fs.mkdirSync(path.dirname(blob), { recursive: true });
      fs.renameSync(tmp, blob);
      return size;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** Records the entry; its blobs must be stored first, so a reader never sees an entry without them. */
  putEntry(key: string, outputs: readonly CachedOutput[], log = ''): void {
    const file = this.acPath(key);
    const tmp = this.tempFile();
    try {
      fs.writeFileSync(tmp, encodeActionResult(outputs, log));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.renameSync(tmp, file);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  stats(): StoreStats {
    let entries = 0;
    let blobs = 0;
    let bytes = 0;
    for (const f of this.files()) {
      if (f.kind === 'ac') entries++;
      else if (f.kind === 'cas') blobs++;
      bytes += f.size;
    }
    return { dir: this.dir, entries, blobs, bytes, maxBytes: this.maxBytes };
  }

  /**
   * Removes the least recently used files until the store holds at most `limit` bytes (default: the
   * bound), and temporaries of writers that died.
   */
  prune(limit = this.maxBytes): PruneResult {
    const now = Date.now();
    const files = this.files();
    let bytes = 0;
    let removedFiles = 0;
    let removedBytes = 0;
    const kept: typeof files = [];
    for (const f of files) {
      if (f.kind === 'tmp' && now - f.mtimeMs > STALE_TEMP_MS) {
        fs.rmSync(f.file, { force: true });
        removedFiles++;
        removedBytes += f.size;
        continue;
      }
      bytes += f.size;
      if (f.kind !== 'tmp') kept.push(f);
    }
    kept.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const f of kept) {
      if (bytes <= limit) break;
      fs.rmSync(f.file, { force: true });
      bytes -= f.size;
      removedFiles++;
      removedBytes += f.size;
    }
    return { removedFiles, removedBytes, bytes };
  }

  /** Prunes to 90 % of the bound when the store is over it, so not every run has to prune. */
  pruneIfOver(): PruneResult | undefined {
    const { bytes } = this.stats();
    if (bytes <= this.maxBytes) return undefined;
    return this.prune(Math.floor(this.maxBytes * 0.9));
  }

  private files(): { file: string; kind: 'ac' | 'cas' | 'tmp'; size: number; mtimeMs: number }[] {
    const out: { file: string; kind: 'ac' | 'cas' | 'tmp'; size: number; mtimeMs: number }[] = [];
    const add = (file: string, kind: 'ac' | 'cas' | 'tmp') => {
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (st?.isFile()) out.push({ file, kind, size: st.size, mtimeMs: st.mtimeMs });
    };
    for (const kind of ['ac', 'cas'] as const) {
      const top = path.join(this.root, kind);
      for (const sub of readdir(top)) for (const name of readdir(path.join(top, sub))) add(path.join(top, sub, name), kind);
    }
    const tmp = path.join(this.root, 'tmp');
    for (const name of readdir(tmp)) add(path.join(tmp, name), 'tmp');
    return out;
  }

  private acPath(key: string): string {
    return path.join(this.root, 'ac', key.slice(0, 2), key);
  }

  private casPath(hash: string): string {
    return path.join(this.root, 'cas', hash.slice(0, 2), hash);
  }

  private tempFile(): string {
    const dir = path.join(this.root, 'tmp');
    fs.mkdirSync(dir, { recursive: true });
    return path.join(dir, `${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
  }
}

/** The mode a tool creating the file would give it (0777 or 0666 less the umask): blobs are shared. */
export function setMode(file: string, executable: boolean): void {
  const umask = process.umask();
  fs.chmodSync(file, (executable ? 0o777 : 0o666) & ~umask);
}

function readdir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Marks a file as used now (least-recently-used eviction reads mtimes: atime is often not kept). */
function touch(file: string): void {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
  } catch {
    // Evicted meanwhile by another run: the next lookup misses, which is safe.
  }
}
