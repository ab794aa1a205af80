// Tools a killed kpipe left running. Every command runs in a process group of its own (core/running/runner.ts),
// so that an interruption stops make and the compilers under it; the other side of that is that
// `kill -9` of kpipe does not reach them, and an orphaned delegated `make` would go on writing into the
// tree while the next run decides what is up to date. So each started group is noted in
// `.kpipe/running/<pgid>` with its leader's start time, the note is removed when the group ends, and
// the next run (or clean), once it holds the tree's lock, kills every group still noted.
import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from '../state/state-store.js';
import { processStartTime } from './lock.js';

const RUNNING_DIR = 'running';

/** Where the runner notes the process groups it starts. */
export class ProcessNotes {
  /** `.kpipe/running`: one file per live group, named by its id. */
  readonly dir: string;
  private made = false;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, STATE_DIR, RUNNING_DIR);
  }

  started(pid: number): void {
    try {
      if (!this.made) fs.mkdirSync(this.dir, { recursive: true });
      this.made = true;
      fs.writeFileSync(path.join(this.dir, String(pid)), `${processStartTime(pid) ?? ''}\n`);
    } catch {
      // A note we cannot write (full disk) costs only the cleanup after a kill -9.
    }
  }

  ended(pid: number): void {
    fs.rmSync(path.join(this.dir, String(pid)), { force: true });
  }
}

/**
 * Kills the process groups a killed run left (see above) and waits until they are gone (at most
 * `timeoutMs`). Returns how many groups it killed. Call it holding the tree's lock.
 */
export async function reapOrphans(stateDir: string, timeoutMs = 5000): Promise<number> {
  const dir = path.join(stateDir, STATE_DIR, RUNNING_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  const killed: number[] = [];
  for (const name of names) {
    const pgid = Number(name);
    const noted = readNote(path.join(dir, name));
    if (Number.isInteger(pgid) && pgid > 1 && isOurGroup(pgid, noted)) {
      try {
        process.kill(-pgid, 'SIGKILL');
        killed.push(pgid);
      } catch {
        // gone in the meantime
      }
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (killed.some(groupExists) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const name of names) fs.rmSync(path.join(dir, name), { force: true });
  return killed.length;
}

function readNote(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * The group is the one we started when its leader is the same process (same start time), or when the
 * leader is gone but the group still has members: Linux does not hand out a pid that is still some
 * group's id, so a live group without its leader is still ours. A leader with another start time is a
 * new process that reused the pid: not ours.
 */
function isOurGroup(pgid: number, notedStart: string): boolean {
  const start = processStartTime(pgid);
  if (start !== null) return notedStart === '' || start === notedStart;
  return groupExists(pgid);
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
