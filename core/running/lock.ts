// One kpipe at a time per output tree: `.kpipe/lock` holds the owner's pid, host, process start time
// and a random nonce. It is created whole and atomically (written aside, then hard-linked into place,
// which fails if the lock exists). A lock whose process is gone (same host, pid dead or reused by a
// process that started later) is stale and taken over; a live one makes the second run wait, or stop
// with a message naming the holder.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { error, KpipeError } from '../diagnostic.js';
import { STATE_DIR } from '../state/state-store.js';

export interface LockHolder {
  pid: number;
  host: string;
  /** Start time of the process (clock ticks since boot, from /proc/PID/stat), to detect pid reuse. */
  procStart: string | null;
  startedAt: string;
  command: string;
  nonce: string;
}

export interface LockOptions {
  /** `wait` (default) polls until the holder is done; `fail` stops at once with a `locked` error. */
  mode?: 'wait' | 'fail';
  /** Told once, when the run starts waiting, with the holder's details. */
  onWait?: (holder: LockHolder, message: string) => void;
  signal?: AbortSignal;
  pollMs?: number;
  /** Shown to a second run: what this one is doing ("kpipe run", "kpipe clean"). */
  command?: string;
}

export interface TreeLock {
  readonly holder: LockHolder;
  /** Removes the lock if it is still ours. */
  release(): void;
}

export function lockPath(objtree: string): string {
  return path.join(objtree, STATE_DIR, 'lock');
}

export async function acquireTreeLock(objtree: string, opts: LockOptions = {}): Promise<TreeLock> {
  const file = lockPath(objtree);
  // A read-only tree: say so (a recursive mkdir reports EROFS as ENOENT).
  if (fs.existsSync(objtree)) fs.accessSync(objtree, fs.constants.W_OK);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const me: LockHolder = {
    pid: process.pid,
    host: os.hostname(),
    procStart: processStartTime(process.pid),
    startedAt: new Date().toISOString(),
    command: opts.command ?? 'kpipe',
    nonce: crypto.randomBytes(8).toString('hex'),
  };
  let told = false;
  for (;;) {
    if (tryCreate(file, me)) return { holder: me, release: () => releaseIfOurs(file, me.nonce) };
    const holder = readHolder(file);
    if (holder === undefined) continue; // vanished between our attempt and the read: try again
    if (holder !== null && isStale(holder)) {
      takeOver(file, holder);
      continue;
    }
    const message = holder
      ? `another ${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}) is using ${objtree}`
      : `${file} exists but cannot be read; another kpipe may be starting in ${objtree}`;
    if (opts.mode === 'fail') {
      throw new KpipeError(
        [error('locked', message, { hint: `wait for it to finish, or stop it; a lock left by a dead process is taken over automatically` })],
        1,
      );
    }
    if (!told && holder) {
      told = true;
      opts.onWait?.(holder, `${message}; waiting for it to finish`);
    }
    await sleep(opts.pollMs ?? 200, opts.signal);
  }
}

function tryCreate(file: string, me: LockHolder): boolean {
  const aside = `${file}.${process.pid}.${me.nonce}`;
  try {
    fs.writeFileSync(aside, JSON.stringify(me));
    fs.linkSync(aside, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

/** The holder, null when the file is unreadable, undefined when it does not exist. */
function readHolder(file: string): LockHolder | null | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return null;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.pid === 'number' && typeof h.nonce === 'string' ? h : null;
  } catch {
    return null;
  }
}

function isStale(holder: LockHolder): boolean {
  if (holder.host !== os.hostname()) return false; // cannot see that machine's processes
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  // Alive, or alive under another user: stale only if the pid now belongs to a newer process.
  const start = processStartTime(holder.pid);
  return holder.procStart !== null && start !== null && start !== holder.procStart;
}

/**
 * Moves the stale lock aside and checks that what moved is the stale lock: if another run took it
 * over first and created a fresh lock, the fresh one is put back.
 */
function takeOver(file: string, stale: LockHolder): void {
  const aside = `${file}.stale.${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // someone else moved it
  }
  const moved = readHolder(aside);
  if (moved && moved.nonce !== stale.nonce) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // a third run holds the lock now; the one we moved keeps running without its file
    }
  }
  fs.rmSync(aside, { force: true });
}

function releaseIfOurs(file: string, nonce: string): void {
  const holder = readHolder(file);
  if (holder && holder.nonce === nonce) fs.rmSync(file, { force: true });
}

/** Field 22 of /proc/PID/stat (start time in clock ticks), or null where there is no /proc. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal): Error {
  const e = new Error('interrupted while waiting for the lock');
  e.name = 'AbortError';
  (e as Error & { reason?: unknown }).reason = signal.reason;
  return e;
}
