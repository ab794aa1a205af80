// The last no-op's verdict (core/state/noop-verdict.ts): a run stands on it only when the plan, kpipe's
// records and every file's stat are as they were, and it then tells what a run deciding each step would.
// Every change the up-to-date rule sees must make the run decide again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { chain, cmd, exec, step, type Tree, makeChainTree } from './fixture.js';
import type { Step } from '../../core/planning/step.js';
import type { RunLog } from '../../core/running/run-log.js';
import { StateStore } from '../../core/state/state-store.js';
import { withEnv } from '../helpers/env.js';

const STOOD = /the plan, kpipe's records and the \d+ files are as at the last run/;
const verdictFile = (t: Tree) => path.join(t.dir, '.kpipe', 'noop-verdict');
/** Which tools ran (runs.log names the temporaries they wrote). */
const ran = (t: Tree) => t.runs().map((line) => line.split(' ')[0]!);

let t: Tree;
test.before.each(() => {
  t = makeChainTree();
});
test.after.each(() => t.remove());

/** Every file of the tree stamped a minute ago: older than the racy window, as files are a while after a build. */
function age(tr: Tree): void {
  const past = new Date(Date.now() - 60_000);
  for (const f of ['a.src', 'b.src', 'a.out', 'b.out', 'c.src', 'c.out']) {
    if (tr.exists(f)) fs.utimesSync(path.join(tr.dir, f), past, past);
  }
}

/** Built, aged, and one no-op that decided every step and kept its verdict. */
async function settled(steps: Step[]): Promise<void> {
  assert.is((await t.run(steps)).status, 'ok');
  age(t);
  const r = await t.run(steps, { verbosity: 'verbose' });
  assert.not.match(r.output, STOOD, 'the files were stamped again: this run decides');
  assert.ok(fs.existsSync(verdictFile(t)), 'every file older than the racy window: the verdict is kept');
  t.resetRuns();
}

/** last-run.json without what differs between any two runs. */
function logWithoutTimes(log: RunLog): Omit<RunLog, 'startedAt' | 'durationMs'> {
  const { startedAt: _s, durationMs: _d, ...rest } = log;
  return rest;
}

test('a no-op stands on the last one\'s verdict: nothing runs, and last-run.json and the result say what a deciding run says', async () => {
  await settled(chain(t));
  const decided = t.lastRun();
  const r = await t.run(chain(t), { verbosity: 'verbose' });
  assert.match(r.output, STOOD);
  assert.equal(t.runs(), []);
  assert.is(r.exitCode, 0);
  assert.equal(logWithoutTimes(t.lastRun()), logWithoutTimes(decided));
  assert.equal(r.log!.steps, decided.steps);
  assert.equal(r.log!.counts, { total: 2, ran: 0, upToDate: 2, failed: 0 });
  const quiet = await t.run(chain(t));
  assert.is(quiet.output, '', 'without -v a no-op prints nothing, as before');
});

test('the same with the stat batch (KPIPE_STAT_PREFETCH=1): its records and the main thread\'s stand for each other', async () => {
  await settled(chain(t));
  const r = await withEnv('KPIPE_STAT_PREFETCH', '1', () => t.run(chain(t), { verbosity: 'verbose' }));
  assert.match(r.output, STOOD, 'kept from statSync records, compared with the batch\'s');
  await withEnv('KPIPE_STAT_PREFETCH', '1', async () => {
    fs.rmSync(verdictFile(t));
    await t.run(chain(t));
    assert.ok(fs.existsSync(verdictFile(t)), 'kept from the batch\'s records');
  });
  assert.match((await withEnv('KPIPE_STAT_PREFETCH', '0', () => t.run(chain(t), { verbosity: 'verbose' }))).output, STOOD);
});

test('files stamped within the racy window keep no verdict, and remove the one there was', async () => {
  await t.run(chain(t));
  await t.run(chain(t));
  assert.is(fs.existsSync(verdictFile(t)), false, 'just built: a write in the same tick could hide behind an equal stat');
  await settled(chain(t));
  t.write('b.src', 'BETA'); // the same size, stamped now
  await t.run(chain(t));
  assert.equal(ran(t), ['B']);
  assert.is(fs.existsSync(verdictFile(t)), false, 'B ran');
  await t.run(chain(t));
  assert.is(fs.existsSync(verdictFile(t)), false, 'all up to date, but b.out is new');
});

const changes: [string, (steps: Step[]) => Step[] | void, string[]][] = [
  ['a source edited to the same size', () => t.write('a.src', 'ALPHA'), ['A', 'B']],
  ['an output changed outside kpipe', () => t.write('b.out', 'edited'), ['B']],
  ['an output removed', () => fs.rmSync(path.join(t.dir, 'b.out')), ['B']],
  [
    'a changed command',
    (steps) => {
      (steps[1]!.commands[0]!.action as { argv: string[] }).argv[1] = 'B2';
    },
    ['B2'],
  ],
  [
    'an input added to a step',
    (steps) => {
      t.write('c.src', 'gamma');
      age(t);
      steps[1]!.inputs.push('c.src');
      (steps[1]!.commands[0]!.action as { argv: string[] }).argv.push('c.src');
    },
    ['B'],
  ],
];
for (const [what, change, reran] of changes) {
  test(`the run decides again after ${what}`, async () => {
    await settled(chain(t));
    const steps = chain(t);
    change(steps);
    const r = await t.run(steps, { verbosity: 'verbose' });
    assert.not.match(r.output, STOOD);
    assert.equal(ran(t), reran);
  });
}

test('another environment for the commands is another plan: the run decides, and reruns what it changes', async () => {
  await settled(chain(t));
  const r = await t.run(chain(t), { verbosity: 'verbose', env: { ARCH: 'riscv' } });
  assert.not.match(r.output, STOOD);
  assert.equal(ran(t), ['A', 'B']);
});

test('kpipe\'s records written since (a killed run\'s "began" record): the run decides, and removes what the killed run left', async () => {
  await settled(chain(t));
  t.write('.kpipe-tmp-killed-b.out', 'partial');
  const store = StateStore.load(t.dir);
  store.beginStep({ id: 'B', tag: 'killed', files: ['.kpipe-tmp-killed-b.out'] });
  store.close();
  const r = await t.run(chain(t), { verbosity: 'verbose' });
  assert.not.match(r.output, STOOD);
  assert.is(t.exists('.kpipe-tmp-killed-b.out'), false);
  assert.equal(t.runs(), []);
});

test('a torn verdict (a machine that lost power as it was written) is never taken', async () => {
  await settled(chain(t));
  const whole = fs.readFileSync(verdictFile(t));
  for (const torn of [whole.subarray(0, whole.length - 1), whole.subarray(0, 40), Buffer.alloc(0)]) {
    fs.writeFileSync(verdictFile(t), torn);
    const r = await t.run(chain(t), { verbosity: 'verbose' });
    assert.not.match(r.output, STOOD);
    assert.equal(t.runs(), []);
    assert.equal(fs.readFileSync(verdictFile(t)).length, whole.length, 'kept again, whole');
  }
});

test('a run for some targets, or a plan with a step kbuild decides, neither stands on a verdict nor keeps one', async () => {
  await settled(chain(t));
  assert.not.match((await t.run(chain(t), { verbosity: 'verbose', targets: ['a.out'] })).output, STOOD);
  const delegated = chain(t);
  delegated[1]!.delegated = true;
  fs.rmSync(verdictFile(t));
  await t.run(delegated);
  age(t);
  await t.run(delegated);
  assert.is(fs.existsSync(verdictFile(t)), false);
});

test('a changed step in another run of the same tree leaves the verdict standing for nothing', async () => {
  await settled(chain(t));
  // Another plan in the same tree runs a step of its own: kpipe's journal changes, none of chain's files.
  t.write('c.src', 'gamma');
  await t.run([step('C', ['c.src'], ['c.out'], [cmd('GEN', 'c.out', exec([t.tool('gen'), 'C', 'c.out', 'c.src']))])]);
  t.resetRuns();
  const r = await t.run(chain(t), { verbosity: 'verbose' });
  assert.not.match(r.output, STOOD);
  assert.equal(t.runs(), []);
});

test.run();
