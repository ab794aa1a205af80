// Parallelism, longest-path-first, delegated (kbuild) steps, and the seed-002 scenario end to end.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { cmd, exec, makeTree, step, type Tree } from './fixture.js';

let t: Tree;
test.before.each(() => {
  t = makeTree();
  t.write('a.src', 'alpha');
});
test.after.each(() => t.remove());

test('-j2 runs two commands at once (each waits for the other to have started)', async () => {
  const meet = (me: string, other: string) =>
    exec(['sh', '-c', `: > ${me}.started; while [ ! -f ${other}.started ]; do sleep 0.02; done; cp a.src "$0"`, `${me}.out`]);
  const steps = [
    step('x', ['a.src'], ['x.out'], [cmd('GEN', 'x.out', meet('x', 'y'))]),
    step('y', ['a.src'], ['y.out'], [cmd('GEN', 'y.out', meet('y', 'x'))]),
  ];
  const r = await t.run(steps, { jobs: 2 });
  assert.is(r.status, 'ok');
});

test('the ready step with the longest chain behind it starts first', async () => {
  const gen = (id: string, ins: string[]) => step(id, ins, [`${id}.out`], [cmd('GEN', `${id}.out`, exec([t.tool('gen'), id, `${id}.out`, ...ins]))]);
  const steps = [gen('short1', ['a.src']), gen('short2', ['a.src']), gen('long1', ['a.src']), gen('long2', ['long1.out']), gen('long3', ['long2.out'])];
  await t.run(steps, { jobs: 1 });
  // long1 (chain of 3) first, then long2 (chain of 2); then long3 ties with the short ones (1 each)
  // and plan order breaks the tie.
  assert.equal(t.runs().map((l) => l.split(' ')[0]), ['long1', 'long2', 'short1', 'short2', 'long3']);
  // Next time the measured durations decide; the order of explain/last-run stays the plan's.
  assert.equal(t.lastRun().steps.map((s) => s.id), ['short1', 'short2', 'long1', 'long2', 'long3']);
});

test('a delegated step always runs (kbuild decides); identical outputs keep dependents up to date', async () => {
  // A stand-in for `make -f scripts/Makefile.build obj=init init/version-timestamp.o`: writes in place,
  // and only when its input is newer, like make.
  const make = exec(['sh', '-c', 'if [ ! -f "$0" ] || [ a.src -nt "$0" ]; then echo make >> "$KP_LOG"; cat a.src > "$0"; fi', 'init/vt.o']);
  const steps = [
    step('vt', ['a.src'], ['init/vt.o'], [cmd('CC', 'init/vt.o', make)], { delegated: true }),
    step('link', ['init/vt.o'], ['vmlinux'], [cmd('LD', 'vmlinux', exec([t.tool('gen'), 'LD', 'vmlinux', 'init/vt.o']))]),
  ];
  fs.mkdirSync(path.join(t.dir, 'init'));
  await t.run(steps);
  assert.equal(t.runs().map((l) => l.split(' ')[0]), ['make', 'LD']);
  t.resetRuns();
  await t.run(steps);
  assert.equal(t.lastRun().steps.map((s) => [s.reason?.kind, s.outcome]), [
    ['delegated', 'built-unchanged'],
    ['up-to-date', 'up-to-date'],
  ]);
  assert.equal(t.runs(), [], 'make decided there was nothing to do');
  const later = new Date(Date.now() + 10_000);
  fs.utimesSync(path.join(t.dir, 'a.src'), later, later);
  await t.run(steps);
  assert.equal(t.runs(), ['make'], 'kbuild rebuilt it (newer input), same bytes: no relink');
  t.write('a.src', 'ALPHA');
  fs.utimesSync(path.join(t.dir, 'a.src'), new Date(Date.now() + 20_000), new Date(Date.now() + 20_000));
  await t.run(steps);
  assert.is(t.read('vmlinux'), 'LD:ALPHA');
});

test("a kbuild compile inside a link (version-timestamp) runs only when the link runs, and never relinks by itself", async () => {
  // A stand-in for the version-timestamp compile outside the reproducible environment: a new date
  // every time it runs. As a step of its own it would relink on every run (issue 17).
  const make = exec(['sh', '-c', 'echo make >> "$KP_LOG"; date +%s%N > "$0"', 'init/vt.o'], { kbuildWrites: ['init/vt.o'] });
  const link = (out: string, ins: string[]) => cmd('LD', out, exec([t.tool('gen'), 'LD', out, ...ins]));
  const steps = [
    step('tmp1', ['a.src'], ['.tmp1', 'init/vt.o'], [cmd('CC', 'init/vt.o', make), link('.tmp1', ['a.src', 'init/vt.o'])]),
    step('vmlinux', ['.tmp1', 'init/vt.o'], ['vmlinux'], [link('vmlinux', ['.tmp1', 'init/vt.o'])]),
  ];
  fs.mkdirSync(path.join(t.dir, 'init'));
  await t.run(steps);
  assert.equal(t.runs().map((l) => l.split(' ')[0]), ['make', 'LD', 'LD']);
  assert.equal(fs.readdirSync(path.join(t.dir, 'init')).filter((f) => f.startsWith('.kpipe-tmp')), [], 'kbuild wrote it in place');
  t.resetRuns();
  const r = await t.run(steps);
  assert.equal(t.runs(), [], 'a no-op compiles nothing and links nothing');
  assert.equal(r.log?.counts.ran, 0);
  t.write('a.src', 'beta');
  await t.run(steps);
  assert.equal(t.runs().map((l) => l.split(' ')[0]), ['make', 'LD', 'LD'], 'a relink compiles it afresh, once');
  t.resetRuns();
  await t.run(steps);
  assert.equal(t.runs(), []);
});

test('seed 002: vmlinux relinked but its BTF unchanged, spelt ./vmlinux or not: modules do not rerun', async () => {
  t.write('vmlinux.o', 'kernel v1');
  t.write('m.o', 'module');
  const steps = [
    step('tmp1', ['vmlinux.o'], ['./.tmp_vmlinux1'], [cmd('LD', '.tmp_vmlinux1', exec([t.tool('gen'), 'LD', './.tmp_vmlinux1', 'vmlinux.o']))]),
    // The BTF depends only on the types: the first 6 bytes here ("LD:ker").
    step('btf', ['.tmp_vmlinux1'], ['.tmp_vmlinux1.btf.o'], [cmd('BTF', '.tmp_vmlinux1.btf.o', exec(['head', '-c', '6', './.tmp_vmlinux1'], { stdout: './.tmp_vmlinux1.btf.o' }))]),
    step('vmlinux', ['vmlinux.o', '.tmp_vmlinux1.btf.o'], ['./vmlinux'], [cmd('LD', 'vmlinux', exec([t.tool('gen'), 'LD', 'vmlinux', 'vmlinux.o', '.tmp_vmlinux1.btf.o']))]),
    step('m.ko', ['m.o', './.tmp_vmlinux1.btf.o'], ['m.ko'], [
      cmd('LD [M]', 'm.ko', exec([t.tool('gen'), 'LDM', 'm.ko', 'm.o'])),
      cmd('BTF [M]', 'm.ko', exec([t.tool('append'), 'm.ko', '+btf'], { inPlace: 'm.ko' })),
    ]),
  ];
  await t.run(steps);
  t.write('vmlinux.o', 'kernel v2, a changed string literal');
  t.resetRuns();
  await t.run(steps);
  assert.equal(Object.fromEntries(t.lastRun().steps.map((s) => [s.id, s.outcome])), {
    tmp1: 'built',
    btf: 'built-unchanged',
    vmlinux: 'built',
    'm.ko': 'up-to-date',
  });
  assert.not.ok(t.runs().some((l) => l.startsWith('LDM') || l.startsWith('append')), 'no module work');
});

test.run();
