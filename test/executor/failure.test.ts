// A failing tool: the report names the command, its output, its stage and plugin; nothing partial is
// left; the old output is kept but never taken for fresh; --keep-going runs what does not depend on it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cmd, exec, makeTree, step, type Tree } from './fixture.js';

let t: Tree;
test.before.each(() => {
  t = makeTree();
  t.write('a.src', 'alpha');
});
test.after.each(() => t.remove());

const good = (tr: Tree) => step('X', ['a.src'], ['x.out'], [cmd('GEN', 'x.out', exec([tr.tool('gen'), 'X', 'x.out', 'a.src']))], { stage: 'vmlinux', plugin: 'link' });
const bad = (tr: Tree) =>
  step('X', ['a.src'], ['x.out'], [{ label: { tag: 'LD', target: 'x.out' }, plugin: 'org-link', action: exec([tr.tool('fail'), 'x.out']) }], {
    stage: 'vmlinux',
    plugin: 'link',
  });

test('the failure names the command, its output, its stage and plugin', async () => {
  const r = await t.run([bad(t)]);
  assert.is(r.status, 'failed');
  assert.is(r.exitCode, 1);
  assert.is(r.diagnostics.length, 1);
  const d = r.diagnostics[0]!;
  assert.is(d.code, 'step-failed');
  assert.is(d.plugin, 'org-link');
  assert.is(d.message, 'LD x.out failed: exited with status 3 (step X, stage vmlinux, plugin org-link)');
  assert.is(d.related![0]!.message, `command: ${t.tool('fail')} x.out`, 'the command as declared, not the temporary');
  assert.match(d.related![1]!.message, /fail: something went wrong writing .*x\.out/);
  assert.is(t.lastRun().steps[0]!.outcome, 'failed');
});

test('no partial output and no temporary are left', async () => {
  await t.run([bad(t)]);
  assert.not.ok(t.exists('x.out'));
  assert.equal(t.temporaries(), []);
});

test('the old output is kept, and is not mistaken for fresh on the next run', async () => {
  await t.run([good(t)]);
  assert.is(t.read('x.out'), 'X:alpha');
  t.write('a.src', 'ALPHA2');
  await t.run([bad(t)]);
  assert.is(t.read('x.out'), 'X:alpha', 'untouched by the failed run');
  t.resetRuns();
  await t.run([good(t)]);
  // The record is the last success's: same command, but a.src changed since.
  assert.equal(t.lastRun().steps[0]!.reason, { kind: 'input-changed', path: 'a.src' });
  assert.is(t.read('x.out'), 'X:ALPHA2');
});

test('a failed step is retried next time even when the command is the same', async () => {
  const flaky = step('F', ['a.src'], ['f.out'], [cmd('GEN', 'f.out', exec(['sh', '-c', 'test -f ok || exit 1; cp a.src "$0"', 'f.out']))]);
  const r1 = await t.run([flaky]);
  assert.is(r1.status, 'failed');
  t.write('ok', '');
  const r2 = await t.run([flaky]);
  assert.is(r2.status, 'ok');
  assert.equal(t.lastRun().steps[0]!.reason, { kind: 'new' });
  assert.is(t.read('f.out'), 'alpha');
});

test('a program that does not exist is reported as such', async () => {
  const r = await t.run([step('N', ['a.src'], ['n.out'], [cmd('NM', 'n.out', exec(['kpipe-no-such-tool', 'n.out']))])]);
  assert.match(r.diagnostics[0]!.message, /kpipe-no-such-tool: command not found/);
});

test('a command that exits 0 without writing its output fails the step', async () => {
  const r = await t.run([step('S', ['a.src'], ['s.out'], [cmd('NOP', 's.out', exec(['true']))])]);
  assert.is(r.status, 'failed');
  assert.match(r.diagnostics[0]!.message, /did not write s\.out/);
});

test('a failing builtin reports its message', async () => {
  t.write('b.src', 'beta!');
  const r = await t.run([
    step('cmp', ['a.src', 'b.src'], ['c.out'], [
      cmd('CHECK', 'c.out', { kind: 'builtin', name: 'files-equal', args: ['a.src', 'b.src', 'System.map and the kallsyms map differ; try KALLSYMS_EXTRA_PASS=1'] }),
    ]),
  ]);
  assert.is(r.status, 'failed');
  assert.match(r.diagnostics[0]!.message, /CHECK c\.out failed: failed/);
  assert.match(r.diagnostics[0]!.related![1]!.message, /try KALLSYMS_EXTRA_PASS=1/);
});

test('without --keep-going nothing new starts; with it, independent steps go on', async () => {
  t.write('b.src', 'beta');
  const steps = [
    step('bad', ['a.src'], ['bad.out'], [cmd('LD', 'bad.out', exec([t.tool('fail'), 'bad.out']))]),
    step('after-bad', ['bad.out'], ['after.out'], [cmd('GEN', 'after.out', exec([t.tool('gen'), 'AF', 'after.out', 'bad.out']))]),
    step('indep', ['b.src'], ['indep.out'], [cmd('GEN', 'indep.out', exec([t.tool('gen'), 'I', 'indep.out', 'b.src']))]),
  ];
  // One job, and `bad` has the longer chain, so it goes first.
  await t.run(steps, { jobs: 1 });
  let log = t.lastRun();
  assert.equal(log.steps.map((s) => [s.id, s.outcome]), [
    ['bad', 'failed'],
    ['after-bad', 'dependency-failed'],
    ['indep', 'not-run'],
  ]);
  const r = await t.run(steps, { jobs: 1, keepGoing: true });
  log = t.lastRun();
  assert.is(r.exitCode, 1);
  assert.equal(log.steps.map((s) => [s.id, s.outcome]), [
    ['bad', 'failed'],
    ['after-bad', 'dependency-failed'],
    ['indep', 'built'],
  ]);
});

test('tool warnings of a successful command are shown', async () => {
  const r = await t.run([step('W', ['a.src'], ['w.out'], [cmd('GEN', 'w.out', exec([t.tool('warn'), 'w.out']))])]);
  assert.is(r.output, '  GEN     w.out\nwarn: harmless warning\n');
});

test.run();
