// `kpipe clean` removes every declared output, scratch file, stray temporary and .kpipe/, and nothing
// else; `kpipe export ninja` runs under the real /usr/bin/ninja to the same outputs as kpipe.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HERE, builtin, cmd, exec, makeTree, step, type Tree } from './fixture.js';
import { cleanOutputs } from '../../core/running/clean.js';
import { exportNinja } from '../../core/reports/ninja-export.js';
import { acquireTreeLock } from '../../core/running/lock.js';
import type { Step } from '../../core/planning/step.js';

let t: Tree;
test.before.each(() => {
  t = makeTree();
  t.write('vmlinux.o', 'objects');
  t.write('m.o', 'module');
});
test.after.each(() => t.remove());

/** A small final link: multi-command steps, in-place edits, stdout, -Map=, env, builtins, scratch. */
function plan(tr: Tree): Step[] {
  return [
    step('link1', ['vmlinux.o'], ['.tmp_vmlinux1', '.tmp_vmlinux1.map'], [
      cmd('LD', '.tmp_vmlinux1', exec(['sh', '-c', 'cat "$1" > "$2"; echo "map of $1" > "${3#-Map=}"', 'sh', 'vmlinux.o', '.tmp_vmlinux1', '-Map=.tmp_vmlinux1.map'])),
    ]),
    step('btf', ['.tmp_vmlinux1'], ['.tmp_vmlinux1.btf.o'], [
      cmd('BTF', '.tmp_vmlinux1.btf.o', exec([tr.tool('emit'), 'BTF', '.tmp_vmlinux1'], { stdout: '.tmp_vmlinux1.btf.o', env: { LLVM_OBJCOPY: 'objcopy' } })),
      cmd('NOTE', '.tmp_vmlinux1.btf.o', exec([tr.tool('append'), '.tmp_vmlinux1.btf.o', '+rel'], { inPlace: '.tmp_vmlinux1.btf.o' })),
    ], { scratch: ['.btf.scratch'] }),
    step('vmlinux', ['vmlinux.o', '.tmp_vmlinux1.btf.o'], ['vmlinux', 'vmlinux.note'], [
      cmd('LD', 'vmlinux', exec([tr.tool('gen'), 'LD', 'vmlinux', 'vmlinux.o', '.tmp_vmlinux1.btf.o'])),
      cmd('BTFIDS', 'vmlinux', exec([tr.tool('append'), 'vmlinux', '+ids'], { inPlace: 'vmlinux' })),
      { plugin: 'test', action: builtin('write-file', 'vmlinux.note', 'two\nlines, a $dollar and a \\backslash\n') },
    ]),
    step('sysmap', ['vmlinux'], ['System.map'], [cmd('NM', 'System.map', exec(['cat', 'vmlinux'], { stdout: 'System.map' }))]),
    step('ko', ['m.o', '.tmp_vmlinux1.btf.o'], ['drivers/m.ko'], [
      cmd('LD [M]', 'drivers/m.ko', exec([tr.tool('gen'), 'LDM', 'drivers/m.ko', 'm.o'])),
      cmd('BTF [M]', 'drivers/m.ko', exec([tr.tool('append'), 'drivers/m.ko', '+btf'], { inPlace: 'drivers/m.ko' })),
    ]),
    step('copy', ['drivers/m.ko'], ['modules/m.ko'], [cmd('COPY', 'modules/m.ko', builtin('copy', 'drivers/m.ko', 'modules/m.ko'))]),
  ];
}

const outputs = (tr: Tree) => Object.fromEntries(plan(tr).flatMap((s) => s.outputs).map((o) => [o, tr.read(o)]));

test('clean removes every declared output, scratch file, stray temporary and .kpipe/, nothing else', async () => {
  await t.run(plan(t));
  t.write('.btf.scratch', 'left by hand');
  t.write('drivers/.kpipe-tmp-zz9.m.ko', 'a stray temporary of a killed run');
  t.write('drivers/.kpipe-tmp-notes.txt', 'not a temporary of any declared output');
  const r = await cleanOutputs(plan(t), t.dir);
  assert.equal(r.diagnostics, []);
  for (const o of plan(t).flatMap((s) => s.outputs)) assert.not.ok(t.exists(o), `${o} removed`);
  assert.not.ok(t.exists('.btf.scratch'));
  assert.not.ok(t.exists('drivers/.kpipe-tmp-zz9.m.ko'));
  assert.not.ok(t.exists('.kpipe'));
  assert.ok(t.exists('vmlinux.o') && t.exists('m.o'), 'sources stay');
  assert.ok(t.exists('drivers/.kpipe-tmp-notes.txt'), 'unrelated files stay');
  assert.ok(r.removed.includes('vmlinux') && r.removed.includes('drivers/.kpipe-tmp-zz9.m.ko') && r.removed.includes('.kpipe/'));
  t.resetRuns();
  await t.run(plan(t));
  assert.equal(t.lastRun().steps.map((s) => s.reason?.kind), plan(t).map(() => 'new'), 'after clean everything is new');
});

test('clean refuses while a run holds the tree, and never touches files outside it', async () => {
  await t.run(plan(t));
  const lock = await acquireTreeLock(t.dir);
  try {
    const r = await cleanOutputs(plan(t), t.dir);
    assert.equal(r.diagnostics.map((d) => d.code), ['locked']);
    assert.ok(t.exists('vmlinux'));
  } finally {
    lock.release();
  }
  const outside = path.join(path.dirname(t.dir), `${path.basename(t.dir)}-outside`);
  fs.writeFileSync(outside, 'keep me');
  try {
    const r = await cleanOutputs([step('x', [], [outside], [])], t.dir);
    assert.equal(r.diagnostics.map((d) => d.code), ['clean-outside-tree']);
    assert.ok(fs.existsSync(outside));
  } finally {
    fs.rmSync(outside, { force: true });
  }
});

test("clean keeps the compile phase's outputs unless asked, and removes kbuild's .cmd records of delegated steps", async () => {
  // Stand-ins: `compile` is kbuild's compile phase (replan), `lds` is modules_prepare's module.lds
  // (compilePhase), `export` is the delegated `.vmlinux.export.o`, whose record kbuild writes.
  const steps = [
    step('compile', [], ['vmlinux.a', 'modules.order'], [cmd('MAKE', 'vmlinux_o', builtin('write-file', 'vmlinux.a', 'archive'))], { replan: true, delegated: true }),
    step('lds', [], ['scripts/module.lds'], [cmd('LDS', 'scripts/module.lds', builtin('write-file', 'scripts/module.lds', 'lds'))], { compilePhase: true, delegated: true }),
    step('export', [], ['.vmlinux.export.o'], [cmd('CC', '.vmlinux.export.o', builtin('write-file', '.vmlinux.export.o', 'o'))], { delegated: true }),
  ];
  for (const f of ['vmlinux.a', 'modules.order', '.vmlinux.a.cmd', 'scripts/module.lds', 'scripts/.module.lds.cmd', '.vmlinux.export.o', '..vmlinux.export.o.cmd']) t.write(f, 'kbuild wrote it');
  const r = await cleanOutputs(steps, t.dir);
  assert.equal(r.diagnostics, []);
  assert.not.ok(t.exists('.vmlinux.export.o') || t.exists('..vmlinux.export.o.cmd'), 'the link\'s delegated output and its kbuild record go');
  for (const f of ['vmlinux.a', 'modules.order', '.vmlinux.a.cmd', 'scripts/module.lds', 'scripts/.module.lds.cmd']) assert.ok(t.exists(f), `${f} stays`);
  const all = await cleanOutputs(steps, t.dir, { compile: true });
  assert.equal(all.diagnostics, []);
  for (const f of ['vmlinux.a', 'modules.order', '.vmlinux.a.cmd', 'scripts/module.lds', 'scripts/.module.lds.cmd']) assert.not.ok(t.exists(f), `${f} removed with compile`);
});

test('clean removes what steps of an earlier plan wrote (the state knows them), unless changed since', async () => {
  const old = [
    step('xz', ['m.o'], ['m.ko.xz'], [cmd('XZ', 'm.ko.xz', builtin('copy', 'm.o', 'm.ko.xz'))]),
    step('gz', ['m.o'], ['m.ko.gz'], [cmd('GZ', 'm.ko.gz', builtin('copy', 'm.o', 'm.ko.gz'))]),
  ];
  await t.run(old);
  t.write('m.ko.gz', 'changed by hand');
  const now = [step('zst', ['m.o'], ['m.ko.zst'], [cmd('ZST', 'm.ko.zst', builtin('copy', 'm.o', 'm.ko.zst'))])];
  // What a delegated step wrote is kbuild's: never dead, even when the plan has no such step now.
  const kept = await cleanOutputs(now, t.dir, { keep: ['m.ko.xz'] });
  assert.equal(kept.diagnostics, []);
  assert.ok(t.exists('m.ko.xz'), 'kept');
  t.resetRuns();
  await t.run(old);
  t.write('m.ko.gz', 'changed by hand');
  const r = await cleanOutputs(now, t.dir);
  assert.equal(r.diagnostics, []);
  assert.not.ok(t.exists('m.ko.xz'), 'the dead output goes');
  assert.ok(r.removed.includes('m.ko.xz'));
  assert.ok(t.exists('m.ko.gz'), 'a dead output changed since kpipe wrote it stays');
});

function ninja(dir: string): { status: number | null; out: string } {
  const r = spawnSync('/usr/bin/ninja', ['-C', dir], { encoding: 'utf8', env: process.env });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('export ninja: the real ninja builds the same outputs, then has no work to do', async () => {
  const n = makeTree();
  try {
    n.write('vmlinux.o', 'objects');
    n.write('m.o', 'module');
    const text = exportNinja(n.graph(plan(n)), { kpipe: [process.execPath, path.join(HERE, 'kpipe-builtin.js')] });
    assert.match(text, /restat = 1/);
    assert.match(text, /desc = LD {6}vmlinux\n/);
    fs.writeFileSync(path.join(n.dir, 'build.ninja'), text);
    const first = ninja(n.dir);
    assert.is(first.status, 0, first.out);
    assert.match(first.out, /LD {6}vmlinux/);

    process.env.KP_LOG = path.join(t.dir, 'runs.log');
    process.env.KP_DIR = t.dir;
    const r = await t.run(plan(t));
    assert.is(r.status, 'ok');
    // Tools are given the same paths under ninja (in place) as under kpipe (temporaries) except for
    // names, so compare contents.
    assert.equal(outputs(n), outputs(t));
    assert.is(n.read('vmlinux.note'), 'two\nlines, a $dollar and a \\backslash\n');
    assert.not.ok(n.exists('.btf.scratch'));

    process.env.KP_LOG = path.join(n.dir, 'runs.log');
    const again = ninja(n.dir);
    assert.is(again.status, 0);
    assert.match(again.out, /no work to do/);

    n.write('m.o', 'module v2');
    t.write('m.o', 'module v2');
    assert.is(ninja(n.dir).status, 0);
    await t.run(plan(t));
    assert.equal(outputs(n), outputs(t));
  } finally {
    n.remove();
  }
});

test.run();
