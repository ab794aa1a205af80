// Content identity of files, with a stat fast path. A file's hash is computed once and remembered with
// the (size, mtime in ns, inode) it had; while those stay the same the hash is reused, so a no-op run
// never reads vmlinux's hundreds of megabytes again. A changed stat is never taken as a changed file:
// the content is hashed and compared (so `touch vmlinux` alone dirties nothing).
import { createHash } from 'node:crypto';
import fs from 'node:fs';

export interface FileStat {
  size: number;
  mtimeNs: bigint;
  ino: bigint;
}

/** What the state store remembers about a file: its content hash and the stat it had then. */
export interface FileRecord extends FileStat {
  hash: string;
  /**
   * False when the file's mtime was too close to the moment it was hashed: a write within the same
   * timestamp tick could change the content without changing the stat ("racy git"). Such a record's
   * hash is not reused on stat alone; the file is hashed again next time.
   */
  trusted: boolean;
}

/**
 * How recent an mtime must be, relative to the moment of hashing, for the stat to be untrustworthy.
 * Linux stamps files with a coarse clock (a scheduler tick, up to 10 ms); some filesystems keep whole
 * or even two seconds. Two seconds covers them all.
 */
export const RACY_WINDOW_NS = 2_000_000_000n;

export function statFile(absolute: string): FileStat | undefined {
  const st = fs.statSync(absolute, { bigint: true, throwIfNoEntry: false });
  if (!st || !st.isFile()) return undefined;
  return { size: Number(st.size), mtimeNs: st.mtimeNs, ino: st.ino };
}

export function sameStat(a: FileStat, b: FileStat): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino;
}

/** True when a file stamped `mtimeNs` and hashed now can be recognised by its stat later. */
export function trustworthyAt(mtimeNs: bigint, nowNs: bigint = nowNanoseconds()): boolean {
  return nowNs - mtimeNs >= RACY_WINDOW_NS;
}

export function nowNanoseconds(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

const CHUNK = 4 << 20;
let chunkBuffer: Buffer | undefined;

/**
 * sha256 of a file's content, hex. Synchronous on purpose: decisions happen between child-process
 * events, and the hashing itself is CPU-bound on the main thread either way. Reads in fixed chunks so a
 * big vmlinux never sits in memory whole.
 */
export function hashFile(absolute: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(absolute, 'r');
  try {
    chunkBuffer ??= Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = fs.readSync(fd, chunkBuffer, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(chunkBuffer.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** Hash and stat of an open file: what was hashed is what the stat describes (same inode). */
export function hashAndStat(absolute: string): FileRecord | undefined {
  const before = statFile(absolute);
  if (!before) return undefined;
  const hash = hashFile(absolute);
  const after = statFile(absolute);
  // Changed while we read it: remember the hash but never reuse it on stat alone.
  const stable = after !== undefined && sameStat(before, after);
  const st = after ?? before;
  return { ...st, hash, trusted: stable && trustworthyAt(st.mtimeNs) };
}
