// Start-up: Node's own start, then kpipe's (`--version` loads the CLI's modules; `explain --profile`
// also loads the plugins, reads the pipeline and plans, with the parsed-pipeline cache warm and cold).
// Alternating runs, medians of wall and CPU time (user + system, from GNU time: what a loaded machine
// inflates least). KPIPE_BASELINE=/path/to/bin/kpipe.js measures another kpipe in the same run.
//   npx tsc -p . && node dist/bench/startup/run.js [REPETITIONS]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';

const reps = Number(process.argv[2] ?? 11);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-startup-'));
const cpuFile = path.join(scratch, 'cpu');
const warm = path.join(scratch, 'warm-cache');

function measure(argv: string[], env: NodeJS.ProcessEnv): { wall: number; cpu: number } {
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-o', cpuFile, '-f', '%U %S', ...argv], { cwd: scratch, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed:\n${r.stderr}`);
  const [u, s] = fs.readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { wall, cpu: (u! + s!) * 1000 };
}

const kpipes: [string, string][] = [['kpipe', path.join(PACKAGE_ROOT, 'bin', 'kpipe.js')]];
if (process.env.KPIPE_BASELINE) kpipes.push(['baseline', process.env.KPIPE_BASELINE]);
const cases: { name: string; argv: string[]; env: () => NodeJS.ProcessEnv }[] = [{ name: 'node -e 0', argv: [process.execPath, '-e', '0'], env: () => ({}) }];
for (const [who, bin] of kpipes) {
  cases.push({ name: `${who} --version`, argv: [process.execPath, bin, '--version'], env: () => ({}) });
  cases.push({ name: `${who} explain --profile x86_64-reference (parsed pipeline cached)`, argv: [process.execPath, bin, 'explain', '--profile', 'x86_64-reference'], env: () => ({ KPIPE_CACHE_DIR: warm }) });
  cases.push({
    name: `${who} explain --profile x86_64-reference (cold cache)`,
    argv: [process.execPath, bin, 'explain', '--profile', 'x86_64-reference'],
    env: () => ({ KPIPE_CACHE_DIR: fs.mkdtempSync(path.join(scratch, 'cold-')) }),
  });
}
const results = cases.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
for (const c of cases) measure(c.argv, c.env()); // warm the page cache (and the warm parse cache)
for (let k = 0; k < reps; k++) {
  cases.forEach((c, i) => {
    const m = measure(c.argv, c.env());
    results[i]!.wall.push(m.wall);
    results[i]!.cpu.push(m.cpu);
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`load before: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; medians of ${reps}`);
console.log('case'.padEnd(72), 'wall ms', ' cpu ms');
cases.forEach((c, i) => console.log(c.name.padEnd(72), median(results[i]!.wall).toFixed(0).padStart(7), median(results[i]!.cpu).toFixed(0).padStart(7)));
fs.rmSync(scratch, { recursive: true, force: true });
