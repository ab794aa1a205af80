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
