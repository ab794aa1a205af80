// The synthetic benchmark of issue 3, in one run:
//   plan/graph-build time for 5,500 modules (11,003 steps),
//   a no-op `runSteps` in a child process: wall time and peak RSS,
//   ninja on the exported build.ninja for the same no-op, and the ratio.
// Usage (after `npx tsc -p tsconfig.json`): [FULL=N] bench/synthetic/run.sh [MODULES] [REPEAT]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateSyntheticTree, syntheticSteps } from './generate.js';
import { planTimes as planTimesOf } from './plan-times.js';
import { buildStepGraph } from '../../core/planning/step-graph.js';
import { exportNinja } from '../../core/reports/ninja-export.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = Number(process.argv[2] ?? 5500);
const repeat = Number(process.argv[3] ?? 7);
const jobs = os.cpus().length;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-bench-'));
const kdir = path.join(root, 'kpipe');
const ndir = path.join(root, 'ninja');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

function timed(argv: string[], env: NodeJS.ProcessEnv = {}): { ms: number; stdout: string; status: number | null } {
  const t = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, ...env } });
  const elapsed = performance.now() - t;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return { ms: elapsed, stdout: r.stdout, status: r.status };
}

console.log(`synthetic tree: ${modules} modules, ${2 * modules + 3} steps, -j${jobs}, in ${root}`);
const { steps } = generateSyntheticTree(kdir, modules);
generateSyntheticTree(ndir, modules);
fs.writeFileSync(path.join(kdir, 'steps.json'), JSON.stringify(steps));

// Plan time: making the steps (what a planner hands over) and building the validated step graph.
const { plan: planTimes, graph: graphTimes } = planTimesOf(kdir, modules, repeat);

const child = [process.execPath, path.join(here, 'noop-child.js'), kdir, String(jobs)];
// Full builds, alternating: kpipe (commands started by its compiled spawn helper), kpipe with the Perl
// helper (KPIPE_SPAWN=perl, where no cc is found), kpipe with Node's own spawn (KPIPE_SPAWN=node, what
// every command went through before there was a helper), ninja. FULL=N repeats them (fresh trees
// each time, medians); the last kpipe and ninja trees stay for the no-op below.
const fullRepeat = Number(process.env.FULL ?? 1);
const fulls = { helper: [] as number[], perl: [] as number[], node: [] as number[], ninja: [] as number[] };
const ninjaFile = () => {
  const { graph } = buildStepGraph(syntheticSteps(ndir, modules), { objtree: ndir, isSource: () => true });
  fs.writeFileSync(path.join(ndir, 'build.ninja'), exportNinja(graph, { kpipe: path.resolve(here, '../../../bin/kpipe.js') }));
};
/** A full build on a fresh tree of its own with another runner (KPIPE_SPAWN), removed after: its time. */
const sideRunner = (spawnWith: 'node' | 'perl', name: string): number => {
  const dir = path.join(root, `kpipe-${spawnWith}`);
  generateSyntheticTree(dir, modules);
  fs.writeFileSync(path.join(dir, 'steps.json'), JSON.stringify(syntheticSteps(dir, modules)));
  const r = timed([child[0]!, child[1]!, dir, String(jobs)], { KPIPE_SPAWN: spawnWith });
  console.log(`full build, kpipe with ${name}:  ${(r.ms / 1000).toFixed(1)} s`);
  fs.rmSync(dir, { recursive: true, force: true });
  return r.ms;
};
for (let k = 0; k < fullRepeat; k++) {
  if (k > 0) {
    for (const d of [kdir, ndir]) fs.rmSync(d, { recursive: true, force: true });
    generateSyntheticTree(kdir, modules);
    fs.writeFileSync(path.join(kdir, 'steps.json'), JSON.stringify(steps));
    generateSyntheticTree(ndir, modules);
  }
  const full = timed(child);
  fulls.helper.push(full.ms);
  console.log(`full build, kpipe:  ${(full.ms / 1000).toFixed(1)} s  ${full.stdout}`);
  // SIDE=0: not the other runners (five minutes on this VM), when only the helper's figures are wanted.
  if (process.env.SIDE !== '0') {
    fulls.node.push(sideRunner('node', "Node's spawn"));
    fulls.perl.push(sideRunner('perl', 'the Perl helper'));
  }
  ninjaFile();
  const nfull = timed(['/usr/bin/ninja', '-C', ndir, `-j${jobs}`]);
  fulls.ninja.push(nfull.ms);
  console.log(`full build, ninja:  ${(nfull.ms / 1000).toFixed(1)} s`);
}

// The first no-op after a build re-reads nothing big but compacts the journal; measure the steady state.
// It comes after the racy window (the next command a person types): files stamped less than 2 s before
// it are not told apart by their stat, so it would keep no verdict (core/state/noop-verdict.ts).
spawnSync('sleep', ['2.1']);
timed(child);
timed(['/usr/bin/ninja', '-C', ndir]);
const verdict = path.join(kdir, '.kpipe', 'noop-verdict');
if (!fs.existsSync(verdict)) throw new Error('the no-op kept no verdict');
const kp: { wall: number; run: number; rss: number; ran: number }[] = [];
/** The same no-op deciding every step: the last no-op's verdict removed before it (it keeps it again). */
const deciding: { wall: number; run: number; rss: number }[] = [];
const nj: number[] = [];
for (let k = 0; k < repeat; k++) {
  const r = timed(child);
  const j = JSON.parse(r.stdout) as { runMs: number; maxRssKB: number; ran: number };
  kp.push({ wall: r.ms, run: j.runMs, rss: j.maxRssKB, ran: j.ran });
  fs.rmSync(verdict);
  const d = timed(child);
  const dj = JSON.parse(d.stdout) as { runMs: number; maxRssKB: number };
  deciding.push({ wall: d.ms, run: dj.runMs, rss: dj.maxRssKB });
  const n = timed(['/usr/bin/ninja', '-C', ndir]);
  if (!/no work to do/.test(n.stdout)) throw new Error(`ninja did work on a no-op:\n${n.stdout}`);
  nj.push(n.ms);
}
if (kp.some((x) => x.ran !== 0)) throw new Error('kpipe ran steps on a no-op');
const wall = median(kp.map((x) => x.wall));
const run = median(kp.map((x) => x.run));
const rss = Math.max(...kp.map((x) => x.rss)) / 1024;
const ninja = median(nj);
const snapshotBytes = fs.statSync(path.join(kdir, '.kpipe', 'state')).size;

console.log('');
console.log(`plan (generate ${2 * modules + 3} steps):      ${ms(median(planTimes))}`);
console.log(`step graph build:                  ${ms(median(graphTimes))}   (target < 300 ms)`);
console.log(`no-op runSteps (in the child):     ${ms(run)}`);
console.log(`no-op kpipe process (wall):        ${ms(wall)}   node start + load plan + graph + runSteps`);
console.log(`the same, deciding every step:     ${ms(median(deciding.map((x) => x.run)))} runSteps, ${ms(median(deciding.map((x) => x.wall)))} wall, ${(Math.max(...deciding.map((x) => x.rss)) / 1024).toFixed(0)} MB`);
console.log(`no-op ninja (wall):                ${ms(ninja)}`);
console.log(`ratio runSteps / ninja:            ${(run / ninja).toFixed(2)}x   (target <= 1.0x)`);
console.log(`ratio whole process / ninja:       ${(wall / ninja).toFixed(2)}x   (target <= 1.5x)`);
const s = (xs: number[]) => `${(median(xs) / 1000).toFixed(1)} s`;
const x = (xs: number[]) => `${(median(xs) / median(fulls.ninja)).toFixed(2)}x`;
const sides = fulls.perl.length > 0 ? `, Perl helper ${s(fulls.perl)}, Node's spawn ${s(fulls.node)}` : '';
const sideRatios = fulls.perl.length > 0 ? ` (Perl ${x(fulls.perl)}, Node ${x(fulls.node)})` : '';
console.log(`full build -j${jobs}: kpipe ${s(fulls.helper)}${sides}, ninja ${s(fulls.ninja)}: ${x(fulls.helper)}${sideRatios} (medians of ${fullRepeat})`);
console.log(`peak RSS of the no-op process:     ${rss.toFixed(0)} MB   (target < 250 MB)`);
console.log(`.kpipe/state snapshot:             ${(snapshotBytes / 1024).toFixed(0)} KiB`);
console.log(`(medians of ${repeat}; tree kept in ${root}; remove it with rm -rf)`);
if (!process.env.KEEP_TREE) fs.rmSync(root, { recursive: true, force: true });
