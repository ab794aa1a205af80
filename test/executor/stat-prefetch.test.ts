// The stats a large plan takes on a second thread (core/state/stat-prefetch.ts): what the worker
// publishes is what stat says, and once a step has run nothing it saw is believed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { cmd, exec, builtin, makeTree, step, type Tree } from './fixture.js';
import { PREFETCH_MIN_FILES, StatPrefetch } from '../../core/state/stat-prefetch.js';
import { statFile } from '../../core/state/file-state.js';
import type { Step } from '../../core/planning/step.js';

let t: Tree;
test.before.each(() => {
  t = makeTree();
});
test.after.each(() => t.remove());

async function settled(prefetch: StatPrefetch, p: string): Promise<void> {
  for (let k = 0; k < 500 && prefetch.take(p) === undefined; k++) await new Promise((r) => setTimeout(r, 10));
}

test('the worker publishes what stat says: a file, no file, and nothing for a path not asked', async () => {
  t.write('a.src', 'alpha');
  const names = ['a.src', 'missing.src'];
  const prefetch = new StatPrefetch(names, t.dir);
  await settled(prefetch, 'missing.src');
  await settled(prefetch, 'a.src');
  assert.equal(prefetch.take('a.src'), statFile(path.join(t.dir, 'a.src')));
  assert.is(prefetch.take('missing.src'), null);
  assert.is(prefetch.take('other.src'), undefined);
  prefetch.drop();
  assert.is(prefetch.take('a.src'), undefined, 'a dropped prefetch answers nothing');
});

/**
 * A plan large enough to prefetch: `fillers` copies, plus A, which appends to u.txt (a file it does
 * not declare) and rewrites a.out identically, and B, which reads a.out and u.txt.
 */
function plan(fillers: number): Step[] {
  const steps: Step[] = [
    step('A', ['a.src'], ['a.out'], [
      cmd('CP', 'a.out', builtin('copy', 'a.src', 'a.out')),
      // The pause leaves the worker time to have statted everything before B is decided.
      cmd('EDIT', 'u.txt', exec(['sh', '-c', 'sleep 0.3; printf x >> u.txt'])),
    ]),
    step('B', ['a.out', 'u.txt'], ['b.out'], [cmd('CP', 'b.out', builtin('copy', 'u.txt', 'b.out'))]),
  ];
  for (let k = 0; k < fillers; k++) steps.push(step(`F${k}`, [`fill/${k}.src`], [`fill/${k}.out`], [cmd('CP', `fill/${k}.out`, builtin('copy', `fill/${k}.src`, `fill/${k}.out`))]));
  return steps;
}

test('a step that ran drops the prefetch: a file it changed behind the plan is seen as changed', async () => {
  const fillers = PREFETCH_MIN_FILES / 2;
  t.write('a.src', 'alpha');
  t.write('u.txt', 'u');
  for (let k = 0; k < fillers; k++) t.write(`fill/${k}.src`, String(k));
  const steps = plan(fillers);
  assert.is((await t.run(steps)).status, 'ok');
  // Old enough for its stat to be trusted, then recorded so by a no-op.
  const past = new Date(Date.now() - 3600_000);
  fs.utimesSync(path.join(t.dir, 'u.txt'), past, past);
  await t.run(steps);
  // A runs again (its output is gone) and writes a.out as before, but changes u.txt.
  fs.rmSync(path.join(t.dir, 'a.out'));
  const r = await t.run(steps);
  assert.is(r.status, 'ok');
  const outcome = Object.fromEntries(t.lastRun().steps.map((s) => [s.id, s.outcome]));
  assert.is(outcome.A, 'built-unchanged');
  assert.is(outcome.B, 'built', 'B read the u.txt A changed: the stat taken before A ran must not answer');
  assert.is(t.read('b.out'), 'uxx');
  assert.is(outcome.F0, 'up-to-date');
});

test.run();
