// How fast each command runner starts short commands, and what the whole machine spends on them (CPU
// of every process, from /proc/stat: a helper's children are not kpipe's, so kpipe's own rusage
// would leave them out). Runners alternate: the compiled helper (c), the Perl helper, Node's spawn.
//   node dist/bench/synthetic/spawn-rate.js [COMMANDS] [JOBS] [REPEAT] [PROGRAM ARGS...]
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { SpawnHelperRunner } from '../../core/running/spawn-helper.js';
import { SpawnRunner, type CommandRunner } from '../../core/running/runner.js';

const commands = Number(process.argv[2] ?? 1000);
const jobs = Number(process.argv[3] ?? 2);
const repeat = Number(process.argv[4] ?? 3);
const argv = process.argv.length > 5 ? process.argv.slice(5) : ['/bin/true'];
const kinds = ['c', 'perl', 'node'] as const;

/** Jiffies the machine was busy (everything but idle and iowait). */
function busy(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return f.reduce((a, b) => a + b, 0) - f[3]! - f[4]!;
}

async function once(kind: (typeof kinds)[number]): Promise<{ ms: number; cpuMs: number }> {
  const runner: CommandRunner = kind === 'node' ? new SpawnRunner() : new SpawnHelperRunner(undefined, { helper: kind });
  const env = { ...process.env };
  const signal = new AbortController().signal;
  let next = 0;
  const lane = async () => {
    while (next < commands) {
      next++;
      const o = await runner.run({ argv, env, cwd: process.cwd() }, signal);
      if (o.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${JSON.stringify(o)}`);
    }
  };
  // The helper starts with the first command: not timed.
  await runner.run({ argv: ['/bin/true'], env, cwd: process.cwd() }, signal);
  const t = performance.now();
  const b = busy();
  await Promise.all(Array.from({ length: jobs }, lane));
  const ms = performance.now() - t;
  const cpuMs = (busy() - b) * 10; // USER_HZ is 100 on Linux
  runner.close?.();
  return { ms, cpuMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const results = new Map(kinds.map((k) => [k, [] as { ms: number; cpuMs: number }[]]));
for (let r = 0; r < repeat; r++) for (const k of kinds) results.get(k)!.push(await once(k));
console.log(`${commands} x ${argv.join(' ')}, -j${jobs}, medians of ${repeat}:`);
for (const [k, rs] of results)
  console.log(`  ${k.padEnd(5)} ${(median(rs.map((x) => x.ms)) / commands).toFixed(2)} ms a command (wall), machine CPU ${(median(rs.map((x) => x.cpuMs)) / commands).toFixed(2)} ms a command`);
