// Principle 1 and seed 002: an in-place tool (pahole -J, resolve_btfids, sorttable) always works on the
// copy its own step just wrote, so a rerun equals a clean build byte for byte, whatever the tool does
// to a file it sees twice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { builtin, cmd, exec, makeTree, step, type Tree } from './fixture.js';

let t: Tree;
test.before.each(() => {
  t = makeTree();
  t.write('m.o', 'module');
  t.write('btf.o', 'BTF1');
});
test.after.each(() => t.remove());

/** LD [M] then BTF [M] in place, reading vmlinux's BTF: the module steps of DESIGN.md. */
const ko = (tr: Tree) =>
  step('m.ko', ['m.o', 'btf.o'], ['mod/m.ko'], [
    cmd('LD [M]', 'mod/m.ko', exec([tr.tool('gen'), 'LD', 'mod/m.ko', 'm.o'])),
    cmd('BTF [M]', 'mod/m.ko', exec([tr.tool('append'), './mod/m.ko', `+${fs.readFileSync(path.join(tr.dir, 'btf.o'), 'utf8')}`], { inPlace: 'mod/m.ko' })),
  ]);

test('a rerun starts from the original inputs, never from the previous output', async () => {
  await t.run([ko(t)]);
  const clean = t.read('mod/m.ko');
  assert.is(clean, 'LD:module+BTF1');
  for (let k = 0; k < 3; k++) {
    fs.rmSync(path.join(t.dir, '.kpipe'), { recursive: true }); // forget everything: forces reruns
    await t.run([ko(t)]);
    assert.is(t.read('mod/m.ko'), clean, `rerun ${k + 1} equals the clean build`);
  }
});

test('only the BTF base changed: the module is relinked and re-BTF\'d from scratch', async () => {
  await t.run([ko(t)]);
  t.write('btf.o', 'BTF2');
  await t.run([ko(t)]);
  assert.is(t.read('mod/m.ko'), 'LD:module+BTF2');
});

test('the in-place tool sees the temporary, and the path spelling does not matter', async () => {
  await t.run([ko(t)]);
  const runs = t.runs();
  assert.is(runs.length, 2);
  assert.match(runs[1]!, /^append \.kpipe-tmp-[0-9a-z]+\.m\.ko$|^append mod\/\.kpipe-tmp-[0-9a-z]+\.m\.ko$/);
});

test('an in-place command whose file no earlier command wrote fails instead of editing the old output', async () => {
  await t.run([ko(t)]);
  const before = t.read('mod/m.ko');
  // A plan bug: the LD command dropped. The executor refuses (the graph check also reports it).
  const broken = step('m.ko', ['m.o'], ['mod/m.ko'], [cmd('BTF [M]', 'mod/m.ko', exec([t.tool('append'), 'mod/m.ko', '+again'], { inPlace: 'mod/m.ko' }))]);
  const { runSteps } = await import('../../core/running/executor.js');
  const { buildStepGraph } = await import('../../core/planning/step-graph.js');
  const { graph, diagnostics } = buildStepGraph([broken], { objtree: t.dir, isSource: () => true });
  assert.equal(diagnostics.map((d) => d.code), ['invalid-step']);
  const r = await runSteps(graph, { objtree: t.dir, jobs: 1, keepGoing: false, verbosity: 'quiet', interactive: false });
  assert.is(r.status, 'failed');
  assert.match(r.diagnostics[0]!.message, /edits mod\/m\.ko in place, but no earlier command of the step wrote it/);
  assert.is(t.read('mod/m.ko'), before);
});

test('stdout redirection, -Map= style arguments and builtins all write the temporary', async () => {
  t.write('v.o', 'V');
  const s = step('link', ['v.o'], ['vmlinux', 'vmlinux.map', 'System.map', 'copy.out'], [
    cmd('LD', 'vmlinux', exec(['sh', '-c', 'cat "$1" > "$2"; echo map > "${3#-Map=}"', 'sh', 'v.o', 'vmlinux', '-Map=vmlinux.map'])),
    cmd('NM', 'System.map', exec(['cat', 'vmlinux'], { stdout: 'System.map' })),
    { plugin: 'test', action: builtin('copy', 'vmlinux', 'copy.out') },
    cmd('SORTTAB', 'vmlinux', exec(['sh', '-c', 'printf S >> "$0"', './vmlinux'], { inPlace: 'vmlinux' })),
  ]);
  const r = await t.run([s]);
  assert.is(r.status, 'ok', JSON.stringify(r.diagnostics));
  assert.is(t.read('vmlinux'), 'VS');
  assert.is(t.read('vmlinux.map'), 'map\n');
  assert.is(t.read('System.map'), 'V');
  assert.is(t.read('copy.out'), 'V', 'the builtin read the temporary, not a previous vmlinux');
  assert.equal(t.temporaries(), []);
});

test('scratch files are removed after the step, on success and on failure', async () => {
  const s = (fail: boolean) =>
    step('s', ['m.o'], ['s.out'], [cmd('GEN', 's.out', exec(['sh', '-c', `echo x > scratch.tmp; cp m.o "$0"; exit ${fail ? 1 : 0}`, 's.out']))], { scratch: ['scratch.tmp'] });
  await t.run([s(false)]);
  assert.not.ok(t.exists('scratch.tmp'));
  await t.run([s(true)]);
  assert.not.ok(t.exists('scratch.tmp'));
});

test.run();
