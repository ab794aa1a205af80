// kill -9 of kpipe at random moments across a real kernel link (the x86_64-nobtf tree), each followed
// by `kpipe run`: prints, per kill, when it came and what kpipe was doing, what the recovery ran, and
// whether every output equals kbuild's; then the totals. Exit status 1 if any round broke a promise.
//   npx tsc -p . && node dist/bench/faults/kill9.js [KILLS=50] [SEED=1]
import fs from 'node:fs';
import path from 'node:path';
import { kbuildReference, prepareTree, restore } from '../../test/helpers/kernel-tree.js';
import { fullRun, killRound, type KillRound } from '../../test/helpers/kill-nine.js';

const kills = Number(process.argv[2] ?? 50);
const seed = Number(process.argv[3] ?? 1);
const tree = prepareTree('x86_64-nobtf');
const reference = kbuildReference(tree, 'clean');
restore(tree);
fullRun(tree); // the first run after a restore also hashes every source once
fs.rmSync(path.join(tree.out, '.kpipe'), { recursive: true, force: true });
const fullMs = fullRun(tree);
console.log(`tree ${tree.out}\nfull link (state forgotten): ${fullMs} ms; ${kills} kills, seed ${seed}\n`);
console.log('round  kill at ms  doing                                  orphans  recovery ran  recovery ms  result');
const rounds: KillRound[] = [];
for (let round = 0; round < kills; round++) {
  const r = await killRound(tree, reference, round, fullMs, seed);
  rounds.push(r);
  const ok = r.differences.length === 0 && r.temporaries.length === 0 && r.rerunAfter.length === 0;
  const doing = r.finishedFirst ? '(finished before the kill)' : r.lastLine;
  console.log(
    `${String(round).padStart(5)}  ${String(r.killAtMs).padStart(10)}  ${doing.slice(0, 38).padEnd(38)} ${String(r.orphans).padStart(8)}  ${String(r.recoveryRan).padStart(12)}  ${String(r.recoveryMs).padStart(11)}  ${ok ? 'identical' : `BROKEN ${JSON.stringify({ d: r.differences, t: r.temporaries, again: r.rerunAfter })}`}`,
  );
}
const broken = rounds.filter((r) => r.differences.length + r.temporaries.length + r.rerunAfter.length > 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const doing = new Map<string, number>();
for (const r of rounds) {
  if (r.finishedFirst) continue;
  // The quiet line's tag (`LD`, `KSYMS`), or that kpipe had printed nothing yet (planning, delegated makes).
  const what = r.lastLine.startsWith('(') ? 'before its first line' : r.lastLine.split(/\s+/)[0]!;
  doing.set(what, (doing.get(what) ?? 0) + 1);
}
console.log('');
console.log(`kills: ${kills}; landed mid-run: ${rounds.filter((r) => !r.finishedFirst).length}; by what kpipe was doing: ${[...doing].map(([k, n]) => `${k} ${n}`).join(', ')}`);
console.log(`tools left running by a killed kpipe: in ${rounds.filter((r) => r.orphans > 0).length} rounds (at most ${Math.max(...rounds.map((r) => r.orphans))} processes)`);
console.log(`recovery run: median ${median(rounds.map((r) => r.recoveryMs))} ms, median ${median(rounds.map((r) => r.recoveryRan))} steps ran`);
console.log(`rounds with an output different from kbuild's: ${rounds.filter((r) => r.differences.length > 0).length}`);
console.log(`rounds with a temporary left: ${rounds.filter((r) => r.temporaries.length > 0).length}`);
console.log(`rounds whose next run was not a no-op: ${rounds.filter((r) => r.rerunAfter.length > 0).length}`);
process.exitCode = broken.length > 0 ? 1 : 0;
