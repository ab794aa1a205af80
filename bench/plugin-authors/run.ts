// What issue 15's additions cost a run: the Kconfig symbol scan behind the unknown-symbol warning
// (cold, then from .kpipe/kconfig-symbols.json), and the dead-output check after every `kpipe run`
// (one more load of the state store, then nothing to hash when no step disappeared).
//   node dist/bench/plugin-authors/run.js [SRC ...]   (default: ~/.cache/kpipe/src/{6.1,6.12,7.2})
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kconfigSymbols } from '../../core/planning/unknown-symbols.js';
import { findDeadOutputs } from '../../core/running/dead-outputs.js';
import { StateStore } from '../../core/state/state-store.js';
import type { Step } from '../../core/planning/step.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (fn: () => void) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};

const sources = process.argv.slice(2);
if (sources.length === 0) for (const line of ['6.1', '6.12', '7.2']) sources.push(path.join(os.homedir(), '.cache', 'kpipe', 'src', line));
for (const src of sources.filter((s) => fs.existsSync(path.join(s, 'Kconfig')))) {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-bench-'));
  let count = 0;
  const cold = time(() => void (count = kconfigSymbols(src, state)?.size ?? 0));
  const cached = median(Array.from({ length: 5 }, () => time(() => kconfigSymbols(src, state))));
  console.log(`${src}: ${count} symbols; scan ${cold.toFixed(0)} ms, cached ${cached.toFixed(0)} ms (median of 5)`);
  fs.rmSync(state, { recursive: true, force: true });
}

for (const n of [1_000, 11_000]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-bench-'));
  const store = StateStore.load(dir);
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) {
    store.recordStep({ id: `modules:m${i}.ko`, command: 'x', inputs: [`m${i}.o`, 'h'], outputs: [`m${i}.ko`, 'h'], durationMs: 1 }, []);
    steps.push({ id: `modules:m${i}.ko`, stage: 'modules', plugin: 'modfinal', commands: [], inputs: [`m${i}.o`], outputs: [`m${i}.ko`] });
  }
  store.compact();
  store.close();
  const t = median(Array.from({ length: 5 }, () => time(() => findDeadOutputs(steps, dir, dir))));
  console.log(`dead-output check, ${n} steps in the state, none dead: ${t.toFixed(1)} ms (median of 5)`);
  fs.rmSync(dir, { recursive: true, force: true });
}
