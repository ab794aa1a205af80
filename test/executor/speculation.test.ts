// Steps that start on a likelyUnchanged step's last outputs while it runs (core/running/speculation.ts).
// P stands for pahole's BTF: when `early.on` exists, it waits (at most 5 s) until D has started
// before writing, so "D started while P ran" is a fact the test reads (p.log), not a timing. No test
// here asserts a time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cmd, exec, makeTree, step, type Tree } from './fixture.js';
import type { Step } from '../../core/planning/step.js';

let t: Tree;
test.before.each(() => {
  t = makeTree();
});
test.after.each(() => t.remove());

const WAIT_FOR_D = 'if [ -e early.on ]; then i=0; while [ ! -e d.started ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; [ -e d.started ] && echo early >> p.log; fi';

/** P: a.src to p.out by the commands `filter`, likelyUnchanged; D: p.out and b.src to d.out by `body`. */
function plan(filter: string, body = 'cat p.out b.src', extra: Step[] = []): Step[] {
  return [
    step('P', ['a.src'], ['p.out'], [cmd('BTF', 'p.out', exec(['sh', '-c', `${WAIT_FOR_D}; ${filter}`], { stdout: 'p.out' }))], { likelyUnchanged: 'test: usually the same' }),
    step('D', ['p.out', 'b.src'], ['d.out'], [cmd('LD', 'd.out', exec(['sh', '-c', `echo D >> "$KP_LOG"; : > d.started; ${body}`], { stdout: 'd.out' }))]),
    ...extra,
  ];
}

/** The first build, then the edit of both sources with P's wait on. */
async function editAndRun(steps: Step[], a: [string, string], b: [string, string], opts = {}) {
  t.write('a.src', a[0]);
  t.write('b.src', b[0]);
  assert.is((await t.run(steps)).status, 'ok');
  t.write('a.src', a[1]);
  t.write('b.src', b[1]);
  t.write('early.on', '');
  fs.rmSync(path.join(t.dir, 'd.started'), { force: true });
  t.resetRuns();
  const r = await t.run(steps, opts);
  return { ...r, outcome: Object.fromEntries(t.lastRun().steps.map((s) => [s.id, s.outcome])), dRuns: t.runs().filter((l) => l === 'D').length };
}

const sha = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** Every record of D in the journal: its inputs' contents (by hash) concatenated give its output. */
function journalOfD(contents: string[]): { consistent: boolean; records: number } {
  const byHash = new Map(contents.map((c) => [sha(c), c]));
  let records = 0;
  let consistent = true;
  for (const line of fs.readFileSync(path.join(t.dir, '.kpipe', 'journal'), 'utf8').split('\n').slice(1)) {
    if (line === '') continue;
    const r = JSON.parse(line.slice(0, line.lastIndexOf('\t'))) as unknown[];
    if (r[0] !== 's' || r[1] !== 'D') continue;
    records++;
    const [, pHash, , bHash] = r[4] as string[];
    const [, outHash] = r[5] as string[];
    const p = byHash.get(pHash!);
    const b = byHash.get(bHash!);
    if (p === undefined || b === undefined || sha(p + b) !== outHash) consistent = false;
  }
  return { consistent, records };
}

test('P comes out the same: D ran once, started while P ran, and nothing runs afterwards', async () => {
  const steps = plan("tr -d x < a.src");
  const r = await editAndRun(steps, ['abc\n', 'abxc\n'], ['b1\n', 'b2\n']);
  assert.is(r.status, 'ok', r.output);
  assert.is(t.read('p.log'), 'early\n', 'D started while P ran');
  assert.equal(r.outcome, { P: 'built-unchanged', D: 'built' });
  assert.is(r.dRuns, 1);
  assert.is(t.read('d.out'), 'abc\nb2\n');
  await t.run(steps);
  assert.equal(Object.fromEntries(t.lastRun().steps.map((s) => [s.id, s.outcome])), { P: 'up-to-date', D: 'up-to-date' });
});

test('without a second slot, or with speculate off, D waits for P', async () => {
  for (const opts of [{ jobs: 1 }, { speculate: false }]) {
    const r = await editAndRun(plan("tr -d x < a.src"), ['abc\n', 'abxc\n'], ['b1\n', 'b2\n'], opts);
    assert.is(r.status, 'ok');
    assert.not.ok(t.exists('p.log'), `D did not start early (${JSON.stringify(opts)})`);
    t.remove();
    t = makeTree();
  }
});

test('P comes out different: D, begun on the old p.out, runs again on the new one; every record of D is true', async () => {
  const r = await editAndRun(plan('cat a.src'), ['a1\n', 'a2\n'], ['b1\n', 'b2\n']);
  assert.is(r.status, 'ok', r.output);
  assert.is(t.read('p.log'), 'early\n');
  assert.equal(r.outcome, { P: 'built', D: 'built' });
  assert.is(r.dRuns, 2, 'once on the old p.out, once on the new');
  assert.is(t.read('d.out'), 'a2\nb2\n');
  assert.equal(journalOfD(['a1\n', 'a2\n', 'b1\n', 'b2\n']).consistent, true);
  await t.run(plan('cat a.src'));
  assert.equal(t.lastRun().steps.map((s) => s.outcome), ['up-to-date', 'up-to-date']);
});

test('D still running when P renames other bytes over p.out: its result is dropped, not recorded', async () => {
  // D reads p.out only once P has replaced it, so what it writes is from the new p.out while the
  // hash it took at its start is the old one's: that record must never be written.
  const body = 'i=0; while ! grep -q a2 p.out && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; cat p.out b.src';
  const r = await editAndRun(plan('cat a.src', body), ['a1\n', 'a2\n'], ['b1\n', 'b2\n']);
  assert.is(r.status, 'ok', r.output);
  assert.is(t.read('p.log'), 'early\n');
  assert.is(t.read('d.out'), 'a2\nb2\n');
  assert.is(r.dRuns, 2);
  const journal = journalOfD(['a1\n', 'a2\n', 'b1\n', 'b2\n']);
  assert.ok(journal.consistent, 'no record of D pairs the old p.out with what the new one gave');
  assert.is(journal.records, 2, 'the first build and the rerun');
});

test("a failure on the old p.out is not the run's when P comes out different", async () => {
  const body = 'grep -q a3 p.out || grep -q first b.src || { echo "D: old p.out" >&2; exit 1; }; cat p.out b.src';
  const r = await editAndRun(plan('cat a.src', body), ['a2\n', 'a2 a3\n'], ['first\n', 'b2\n']);
  assert.is(r.status, 'ok', r.output);
  assert.is(r.dRuns, 2);
  assert.is(t.read('d.out'), 'a2 a3\nb2\n');
});

test('a failure that ends after P renamed other bytes over its input is dropped with the rest of the step', async () => {
  // The first time (the first build aside), D fails only once P has replaced p.out: a stale step's end.
  const body = 'if [ -e early.on ] && [ ! -e d.failed ]; then : > d.failed; i=0; while ! grep -q a2 p.out && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; exit 1; fi; cat p.out b.src';
  const r = await editAndRun(plan('cat a.src', body), ['a1\n', 'a2\n'], ['b1\n', 'b2\n']);
  assert.is(r.status, 'ok', r.output);
  assert.ok(t.exists('d.failed'), 'D failed once, on the old p.out');
  assert.is(r.dRuns, 2);
  assert.is(t.read('d.out'), 'a2\nb2\n');
});

test('a failure of a step begun early is reported when P comes out the same', async () => {
  const r = await editAndRun(plan("tr -d x < a.src", 'grep -q b1 b.src || { echo "D: no b1" >&2; exit 1; }; cat p.out b.src'), ['abc\n', 'abxc\n'], ['b1\n', 'b2\n']);
  assert.is(r.status, 'failed');
  assert.equal(r.diagnostics.map((d) => /D: no b1/.test(`${d.message}${(d.related ?? []).map((x) => x.message).join('')}`)), [true]);
  assert.is(r.outcome.D, 'failed');
});

test('P fails: the run fails with its error, its old output stays, and (keep going) nothing after it is left as done', async () => {
  const steps = plan('grep -v bad a.src');
  const r = await editAndRun(steps, ['a1\n', 'bad\n'], ['b1\n', 'b2\n'], { keepGoing: true });
  assert.is(r.status, 'failed');
  assert.is(t.read('p.log'), 'early\n', 'D had started on the old p.out');
  assert.is(r.outcome.P, 'failed');
  assert.not.ok(r.outcome.D === 'built' || r.outcome.D === 'up-to-date', `D: ${r.outcome.D}`);
  assert.is(t.read('p.out'), 'a1\n');
  assert.ok(journalOfD(['a1\n', 'b1\n', 'b2\n']).consistent);
});

test('a step without outputs (a check) downstream waits for P', async () => {
  const check = step('C', ['d.out'], [], [cmd('CHECK', 'd.out', exec(['sh', '-c', 'test -e p.ended']))]);
  const steps = plan("tr -d x < a.src; : > p.ended", 'cat p.out b.src', [check]);
  t.write('a.src', 'abc\n');
  t.write('b.src', 'b1\n');
  assert.is((await t.run(steps)).status, 'ok');
  fs.rmSync(path.join(t.dir, 'p.ended'));
  t.write('a.src', 'abxc\n');
  t.write('b.src', 'b2\n');
  t.write('early.on', '');
  const r = await t.run(steps);
  assert.is(r.status, 'ok', r.output);
  assert.is(t.read('p.log'), 'early\n');
});

test.run();
