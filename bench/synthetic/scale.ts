// How the executor grows with the number of modules (issue 7): for each size, the plan (making the
// steps and building the validated step graph, median of REPEAT), one full build at -j2 in a fresh
// process (wall time, peak RSS), then the no-op at -j1, -j2 and -j4 (REPEAT fresh processes each:
// median wall time, median time inside runSteps, peak RSS). Prints a table and the per-module cost of
// each figure, so linear growth shows as a flat per-module column. The machine's load (uptime) is
// printed before and after each size: the figures are only as quiet as the machine was.
//   npx tsc -p . && node dist/bench/synthetic/scale.js [SIZES=500,5500,20000] [REPEAT=5] [DIR]
// DIR (default ~/.cache/kpipe/scratch-bench) holds the generated trees, each removed once measured.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateSyntheticTree } from './generate.js';
import { planTimes } from './plan-times.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sizes = (process.argv[2] ?? '500,5500,20000').split(',').map(Number);
const repeat = Number(process.argv[3] ?? 5);
const root = path.resolve(process.argv[4] ?? path.join(os.homedir(), '.cache', 'kpipe', 'scratch-bench'));
const JOBS = [1, 2, 4];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

interface ChildFigures {
  status: string;
  ran: number;
  runMs: number;
  maxRssKB: number;
  cpuMs: number;
}

function child(dir: string, jobs: number): ChildFigures & { wallMs: number } {
  const t = performance.now();
  const r = spawnSync(process.execPath, [path.join(here, 'noop-child.js'), dir, String(jobs)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallMs = performance.now() - t;
  if (r.status !== 0) throw new Error(`noop-child failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as ChildFigures), wallMs };
}

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

interface Row {
  modules: number;
  steps: number;
  planMs: number;
  graphMs: number;
  fullS: number;
  fullRssMB: number;
  noop: Record<number, { wallMs: number; runMs: number; cpuMs: number; rssMB: number }>;
  load: string;
}

const rows: Row[] = [];
for (const modules of sizes) {
  const dir = path.join(root, `m${modules}`);
  fs.rmSync(dir, { recursive: true, force: true });
  const before = load();
  const { steps } = generateSyntheticTree(dir, modules);
  fs.writeFileSync(path.join(dir, 'steps.json'), JSON.stringify(steps));
  const { plan, graph } = planTimes(dir, modules, repeat);
  const full = child(dir, 2);
  child(dir, 2); // the first no-op re-hashes sources too recent to trust and compacts the journal
  const noop: Row['noop'] = {};
  for (const jobs of JOBS) {
    const runs = Array.from({ length: repeat }, () => child(dir, jobs));
    if (runs.some((r) => r.ran !== 0)) throw new Error(`a no-op at -j${jobs} ran steps`);
    noop[jobs] = { wallMs: median(runs.map((r) => r.wallMs)), runMs: median(runs.map((r) => r.runMs)), cpuMs: median(runs.map((r) => r.cpuMs)), rssMB: Math.max(...runs.map((r) => r.maxRssKB)) / 1024 };
  }
  const row: Row = {
    modules, steps: steps.length, planMs: median(plan), graphMs: median(graph), fullS: full.wallMs / 1000, fullRssMB: full.maxRssKB / 1024, noop,
    load: `${before} -> ${load()}`,
  };
  rows.push(row);
  console.log(JSON.stringify(row));
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log('');
console.log(`medians of ${repeat}; no-op wall = whole process (node start, load the plan, graph, runSteps); runSteps = inside it`);
console.log('| modules | steps | make steps ms | step graph ms | full build -j2 s (RSS MB) | no-op -j1 ms | no-op -j2 ms | no-op -j4 ms | runSteps -j2 ms | no-op -j2 CPU ms | no-op peak RSS MB (-j1/-j2/-j4) | load (1/5/15 min) |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) {
  const n = r.noop;
  console.log(
    `| ${r.modules} | ${r.steps} | ${r.planMs.toFixed(0)} | ${r.graphMs.toFixed(0)} | ${r.fullS.toFixed(1)} (${r.fullRssMB.toFixed(0)}) | ${n[1]!.wallMs.toFixed(0)} | ${n[2]!.wallMs.toFixed(0)} | ${n[4]!.wallMs.toFixed(0)} | ${n[2]!.runMs.toFixed(0)} | ${n[2]!.cpuMs.toFixed(0)} | ${JOBS.map((j) => n[j]!.rssMB.toFixed(0)).join(' / ')} | ${r.load} |`,
  );
}
console.log('');
console.log('per module (growth is linear when a column stays flat):');
console.log('| modules | step graph µs | no-op -j2 runSteps µs | no-op -j2 process CPU µs | full build -j2 ms | no-op RSS KB |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(`| ${r.modules} | ${((r.graphMs * 1000) / r.modules).toFixed(1)} | ${((r.noop[2]!.runMs * 1000) / r.modules).toFixed(1)} | ${((r.noop[2]!.cpuMs * 1000) / r.modules).toFixed(1)} | ${((r.fullS * 1000) / r.modules).toFixed(2)} | ${((r.noop[2]!.rssMB * 1024) / r.modules).toFixed(1)} |`);
}
