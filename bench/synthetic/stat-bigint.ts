// Is stat with BigInt (what core/state/file-state.ts does, for nanosecond mtimes) slower than without?
// Stats up to 22,000 files of a tree three times each way and prints the CPU time of each round.
//   npx tsc -p . && node dist/bench/synthetic/stat-bigint.js TREE
import fs from 'node:fs';
import path from 'node:path';

const dir = path.resolve(process.argv[2] ?? '.');
const files = (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => !f.startsWith('.kpipe')).slice(0, 22000).map((f) => path.join(dir, f));
function round(label: string, fn: (f: string) => unknown): void {
  const c0 = process.cpuUsage();
  for (const f of files) fn(f);
  const c = process.cpuUsage(c0);
  console.log(`${label}: ${files.length} stats, ${((c.user + c.system) / 1000).toFixed(0)} ms CPU`);
}
for (let k = 0; k < 3; k++) {
  round('bigint', (f) => fs.statSync(f, { bigint: true, throwIfNoEntry: false })?.mtimeNs);
  round('number', (f) => fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs);
}
