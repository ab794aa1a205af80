// Which processes work in a directory: the tools a `kill -9`ed kpipe left running (each command has its
// own process group, so killing kpipe does not reach them).
import fs from 'node:fs';

/** Processes other than this one whose working directory is `dir` or inside it. */
export function processesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to look at
    }
  }
  return pids;
}
