// The stat of every file a run will look at, taken by a small C program (stat-batch.c) on the other core
// while the main thread loads the state store. A no-op of a 5,500-module tree stats 22,000 files: on
// the main thread that is the largest part of its time (Node's statSync costs about twice the syscall,
// plus a BigIntStats to collect for each), beside it almost nothing.
//
// The stats are those of the moment the batch ran, before any step: the FileProbe uses them only until
// the first step starts (core/running/executor.ts drops them then), so each one answers exactly as a
// statSync of that moment would. A machine without cc, or a batch that fails, leaves the probe to stat
// on its own, as before.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { absoluteFast as absolutePath } from '../canonical-fast.js';
import { nativeProgram } from '../running/native-helper.js';
import type { FileStat } from './file-state.js';

/** Canonical path -> its stat, or null when it is absent (or not a regular file); missing: stat it yourself. */
export type PrefetchedStats = Map<string, FileStat | null>;

export const RECORD_BYTES = 32;

/**
 * Fewer files than this are statted on the main thread: starting the batch costs the main thread
 * 6-10 ms (the spawn), what statSync takes for 500-1,000 files on this VM. A kernel's own link (a few
 * hundred files) or an `M=DIR` run are below it; a distribution's thousands of modules far above.
 */
export const MIN_BATCH_FILES = 1000;

/**
 * Starts the batch for `paths` (canonical, relative to `objtree` or absolute); undefined when this
 * machine has no compiled stat batch, KPIPE_STAT_PREFETCH=0, or fewer than MIN_BATCH_FILES paths
 * (KPIPE_STAT_PREFETCH=1: any number). Its answer is as the batch wrote it, one 32-byte record per
 * path (stat-batch.c; decodeStats makes the probe's map of them), which compare byte for byte
 * (core/state/noop-verdict.ts keeps them). The promise never rejects: a batch that fails resolves to
 * undefined.
 */
export function statBatch(paths: readonly string[], objtree: string, env: NodeJS.ProcessEnv = process.env): Promise<Buffer | undefined> | undefined {
  const wanted = env.KPIPE_STAT_PREFETCH === '1' ? paths.length > 0 : env.KPIPE_STAT_PREFETCH !== '0' && paths.length >= MIN_BATCH_FILES;
  if (!wanted) return undefined;
  const program = nativeProgram('stat-batch', env);
  if (!program) return undefined;
  // Through unlinked files, not pipes: the main thread is busy loading the state while the batch runs,
  // and a pipe would hand over only its first 64 KiB until the event loop turns again.
  let input: number | undefined;
  let output: number | undefined;
  try {
    input = unlinkedFile('in');
    const request = Buffer.from(paths.map((p) => `${absolutePath(p, objtree)}\0`).join(''));
    fs.writeSync(input, request, 0, request.length, 0); // at an offset: the file's own stays 0 for the batch
    output = unlinkedFile('out');
  } catch {
    for (const fd of [input, output]) if (fd !== undefined) fs.closeSync(fd);
    return undefined;
  }
  const [inFd, outFd] = [input, output];
  return new Promise((resolve) => {
    const done = (records: Buffer | undefined) => {
      fs.closeSync(inFd);
      fs.closeSync(outFd);
      resolve(records);
    };
    let child;
    try {
      child = spawn(program, [], { stdio: [inFd, outFd, 'ignore'] });
    } catch {
      done(undefined);
      return;
    }
    child.on('error', () => done(undefined));
    child.on('close', (code) => {
      if (code !== 0) return done(undefined);
      try {
        const bytes = Buffer.alloc(fs.fstatSync(outFd).size);
        fs.readSync(outFd, bytes, 0, bytes.length, 0);
        done(bytes.length === paths.length * RECORD_BYTES ? bytes : undefined);
      } catch {
        done(undefined);
      }
    });
  });
}

/**
 * The batch's records, taken on the main thread with statSync: for a plan too small for the batch, or
 * a machine without it. A stat error other than a missing file is kind 2, as the batch says it.
 */
export function statRecords(paths: readonly string[], objtree: string): Buffer {
  const bytes = Buffer.alloc(paths.length * RECORD_BYTES);
  const words = new BigInt64Array(bytes.buffer, bytes.byteOffset, paths.length * 4);
  for (let i = 0; i < paths.length; i++) {
    let st: fs.BigIntStats | undefined;
    try {
      st = fs.statSync(absolutePath(paths[i]!, objtree), { bigint: true, throwIfNoEntry: false });
    } catch {
      words[4 * i] = 2n;
      continue;
    }
    if (!st || !st.isFile()) continue; // kind 0, and zeros, as the batch's calloc leaves them
    words[4 * i] = 1n;
    words[4 * i + 1] = st.size;
    words[4 * i + 2] = st.mtimeNs;
    words[4 * i + 3] = BigInt.asIntN(64, st.ino);
  }
  return bytes;
}

/** A file of this process's, already unlinked: nothing of it outlives the run, even a killed one. */
function unlinkedFile(kind: string): number {
  const name = path.join(os.tmpdir(), `kpipe-stat-batch-${process.pid}-${kind}`);
  const fd = fs.openSync(name, 'w+', 0o600);
  fs.unlinkSync(name);
  return fd;
}

/** Records (statBatch, statRecords) as the probe takes them; undefined when they are not one per path. */
export function decodeStats(paths: readonly string[], bytes: Buffer): PrefetchedStats | undefined {
  if (bytes.length !== paths.length * RECORD_BYTES) return undefined;
  const words = new BigInt64Array(bytes.buffer, bytes.byteOffset, paths.length * 4); // Buffer.alloc: aligned, its own
  const stats: PrefetchedStats = new Map();
  for (let i = 0; i < paths.length; i++) {
    const kind = words[4 * i];
    if (kind === 0n) stats.set(paths[i]!, null);
    else if (kind === 1n) stats.set(paths[i]!, { size: Number(words[4 * i + 1]), mtimeNs: words[4 * i + 2]!, ino: BigInt.asUintN(64, words[4 * i + 3]!) });
  }
  return stats;
}
