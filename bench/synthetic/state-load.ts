// How long a fresh process takes to load a tree's .kpipe/state, as a run's first step does (cold: no
// JIT warm-up, a young heap), and how much of the heap it leaves in use. Each load is its own process;
// the pairs alternate. A pair is a kpipe checkout (built) and a directory holding a .kpipe/ (only the
// state is read, so a copy of a tree's .kpipe/ will do): to compare two state formats, give each
// checkout a .kpipe/ it wrote.
//   node dist/bench/synthetic/state-load.js REPEAT KPIPE-ROOT:DIR [KPIPE-ROOT:DIR ...]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repeat = Number(process.argv[2] ?? 5);
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const pairs = (process.argv.length > 3 ? process.argv.slice(3) : [`${here}:.`]).map((a) => a.split(':').map((p) => path.resolve(p)) as [string, string]);

const child = `
  const { StateStore } = await import(process.argv[1] + '/dist/core/state/state-store.js');
  const t = performance.now();
  const s = StateStore.load(process.argv[2]);
  const ms = performance.now() - t;
  console.log(JSON.stringify({ ms, steps: s.stepCount, problems: s.problems.length, heapMB: process.memoryUsage().heapUsed / 2 ** 20 }));
`;

type Load = { ms: number; steps: number; problems: number; heapMB: number };

function load([root, tree]: [string, string]): Load {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', child, root, tree], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Load;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const results = pairs.map(() => [] as Load[]);
for (let k = 0; k < repeat; k++) pairs.forEach((p, i) => results[i]!.push(load(p)));
for (const [i, rs] of results.entries()) {
  console.log(
    `${pairs[i]!.join(' on ')}: load ${median(rs.map((x) => x.ms)).toFixed(1)} ms (${rs.map((x) => x.ms.toFixed(0)).join(' ')}), heap after ${median(rs.map((x) => x.heapMB)).toFixed(0)} MB, ${rs[0]!.steps} step records, ${rs[0]!.problems} problems`,
  );
}
