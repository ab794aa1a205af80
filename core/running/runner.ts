// How a command reaches the operating system, behind an interface (ninja's CommandRunner) so the
// executor can be driven without processes where that is clearer. The real runner spawns argv
// directly, never through a shell (principle 4), each child in its own process group so that an
// interruption stops the whole tree under it (make and the compilers it starts).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { ProcessNotes } from './orphans.js';

export interface RunRequest {
  argv: readonly string[];
  /** Absolute working directory. */
  cwd: string;
  /** The complete environment of the child. */
  env: NodeJS.ProcessEnv;
  /** Absolute file that receives standard output (created or truncated); else it is captured. */
  stdoutFile?: string;
}

export interface RunOutcome {
  /** Exit status, or null when the process died of a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Standard error, and standard output when not redirected, interleaved as they came. */
  output: string;
  /** Set when the program could not be started (not found, not executable). */
  spawnError?: string;
}

export interface CommandRunner {
  /** Runs one command to completion; when `signal` aborts, stops it and resolves once it is gone. */
  run(request: RunRequest, signal: AbortSignal): Promise<RunOutcome>;
  /** Called once the run has no command left to start (a helper process may go). */
  close?(): void;
}

/** Keep this much of a command's output: its head and its tail, where errors usually are. */
export const OUTPUT_LIMIT = 256 * 1024;
/** After SIGTERM, how long a process group may take before SIGKILL. */
const KILL_GRACE_MS = 3000;

export class SpawnRunner implements CommandRunner {
  /** `notes`: where each started process group is noted until it ends (core/running/orphans.ts). */
  constructor(private readonly notes?: ProcessNotes) {}

  run(request: RunRequest, signal: AbortSignal): Promise<RunOutcome> {
    return new Promise((resolve) => {
      const output = new CappedOutput(OUTPUT_LIMIT);
      let stdoutFd: number | undefined;
      try {
        if (request.stdoutFile !== undefined) stdoutFd = fs.openSync(request.stdoutFile, 'w');
      } catch (e) {
        resolve({ exitCode: null, signal: null, output: '', spawnError: `cannot write ${request.stdoutFile}: ${(e as Error).message}` });
        return;
      }
      if (signal.aborted) {
        if (stdoutFd !== undefined) fs.closeSync(stdoutFd);
        resolve({ exitCode: null, signal: 'SIGTERM', output: '' });
        return;
      }
      const child = spawn(request.argv[0]!, request.argv.slice(1), {
        cwd: request.cwd,
        env: request.env,
        stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'],
        detached: true,
      });
      if (stdoutFd !== undefined) fs.closeSync(stdoutFd); // the child has its own copy
      const pid = child.pid;
      if (pid !== undefined) this.notes?.started(pid);
      child.stdout?.on('data', (b: Buffer) => output.add(b));
      child.stderr?.on('data', (b: Buffer) => output.add(b));

      let killTimer: NodeJS.Timeout | undefined;
      const stop = () => (killTimer = stopGroup(child.pid));
      signal.addEventListener('abort', stop, { once: true });
      let spawnError: string | undefined;
      child.on('error', (e: NodeJS.ErrnoException) => {
        spawnError = spawnErrorText(request.argv[0]!, e.code, e.message);
      });
      child.on('close', (code, sig) => {
        signal.removeEventListener('abort', stop);
        if (killTimer) clearTimeout(killTimer);
        // The leader is gone; make sure nothing it started keeps running after an interruption.
        if (signal.aborted) killGroup(child.pid, 'SIGKILL');
        if (pid !== undefined) this.notes?.ended(pid);
        resolve({ exitCode: code, signal: sig, output: output.text(), ...(spawnError !== undefined ? { spawnError } : {}) });
      });
    });
  }
}

/** An interruption or a timeout: SIGTERM to the command's group, SIGKILL after the grace period (clear the timer once it ended). */
export function stopGroup(pid: number | undefined): NodeJS.Timeout {
  killGroup(pid, 'SIGTERM');
  return setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
}

/** What a program that could not start is reported as. */
export function spawnErrorText(program: string, code: string | undefined, message: string): string {
  return code === 'ENOENT' ? `${program}: command not found` : code === 'EACCES' ? `${program}: permission denied` : `${program}: ${message}`;
}

export function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

/** Collects output up to a limit, keeping the first and the last half and noting what was cut. */
export class CappedOutput {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private dropped = 0;

  constructor(private readonly limit: number) {}

  add(b: Buffer): void {
    const half = this.limit / 2;
    if (this.headBytes < half) {
      const take = b.subarray(0, half - this.headBytes);
      this.head.push(take);
      this.headBytes += take.length;
      b = b.subarray(take.length);
    }
    if (b.length === 0) return;
    this.tail.push(b);
    this.tailBytes += b.length;
    while (this.tailBytes - this.tail[0]!.length >= half) {
      const first = this.tail.shift()!;
      this.tailBytes -= first.length;
      this.dropped += first.length;
    }
  }

  /** Notes `bytes` left out of the middle (the caller did not read them). */
  skip(bytes: number): void {
    this.dropped += bytes;
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = Buffer.concat(this.tail).toString('utf8');
    return this.dropped > 0 ? `${head}\n[... ${this.dropped} bytes of output omitted ...]\n${tail}` : head + tail;
  }
}
