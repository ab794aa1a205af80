// A plugin may declare outputs only inside the output tree (issue 6): `..`, an absolute path elsewhere,
// a directory that is a symlink out of the tree, or an output that is itself such a symlink, is an
// error naming the plugin, before anything runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildStepGraph } from '../../core/planning/step-graph.js';
import type { Step } from '../../core/planning/step.js';
import { cmd, exec, makeTree, step, type Tree } from './fixture.js';

let t: Tree;
let elsewhere: string;
test.before.each(() => {
  t = makeTree();
  t.write('in.src', 'x');
  elsewhere = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-elsewhere-')));
});
test.after.each(() => {
  t.remove();
  fs.rmSync(elsewhere, { recursive: true, force: true });
});

const writing = (out: string, extra: Partial<Step> = {}) =>
  step('w', ['in.src'], [out], [cmd('GEN', out, exec(['cp', 'in.src', out]))], { plugin: 'org-escape', ...extra });

function problems(steps: Step[]) {
  return buildStepGraph(steps, { objtree: t.dir, isSource: () => true }).diagnostics.filter((d) => d.code === 'output-outside-tree');
}

test('an output under .. is refused, naming the plugin', () => {
  const [d, ...rest] = problems([writing('../escaped.out')]);
  assert.equal(rest, []);
  assert.is(d!.plugin, 'org-escape');
  assert.match(d!.message, /^plugin org-escape declares output .*\/escaped\.out \(step w\), which is outside the output tree /);
});

test('an absolute output elsewhere, and a scratch file elsewhere, are refused', () => {
  const found = problems([writing(path.join(elsewhere, 'abs.out'), { scratch: ['sub/../../scratch.tmp'] })]);
  assert.equal(found.map((d) => d.message.replace(/ \(step.*/, '')), [
    `plugin org-escape declares output ${elsewhere}/abs.out`,
    `plugin org-escape declares scratch file ${path.dirname(t.dir)}/scratch.tmp`,
  ]);
});

test('an output through a directory that is a symlink out of the tree is refused', () => {
  fs.symlinkSync(elsewhere, path.join(t.dir, 'linked'));
  const [d] = problems([writing('linked/deeper/new.out')]);
  assert.is(d!.plugin, 'org-escape');
  assert.match(d!.message, new RegExp(`in a directory that resolves through a symlink to ${elsewhere}/deeper, outside the output tree`));
});

test('an output that is itself a symlink out of the tree (dangling or not) is refused', () => {
  fs.symlinkSync(path.join(elsewhere, 'target'), path.join(t.dir, 'vmlinux'));
  const [d] = problems([writing('vmlinux')]);
  assert.match(d!.message, new RegExp(`a symlink to ${elsewhere}/target, outside the output tree`));
});

test('symlinks that stay inside the tree, and ordinary outputs, are fine; nothing runs otherwise', async () => {
  fs.mkdirSync(path.join(t.dir, 'real'));
  fs.symlinkSync('real', path.join(t.dir, 'alias'));
  assert.equal(problems([writing('alias/a.out'), { ...writing('b/c.out'), id: 'w2' }]), []);
  let threw = '';
  try {
    await t.run([writing('../escaped.out')]);
  } catch (e) {
    threw = (e as Error).message;
  }
  assert.match(threw, /outside the output tree/);
  assert.not.ok(fs.existsSync(path.join(path.dirname(t.dir), 'escaped.out')));
});

test('a tree that does not exist yet (explain --profile) is checked by spelling only', () => {
  const { diagnostics } = buildStepGraph([writing('a/b.out'), { ...writing('/etc/x'), id: 'w2' }], { objtree: '/no/such/objtree', isSource: () => true });
  assert.equal(diagnostics.map((d) => d.code), ['output-outside-tree']);
});

test('M=DIR: outputs inside the external module directory are allowed, escapes from it are not', () => {
  const allowed = (steps: Step[]) =>
    buildStepGraph(steps, { objtree: t.dir, isSource: () => true, outputRoots: [elsewhere] }).diagnostics.filter((d) => d.code === 'output-outside-tree');
  assert.equal(allowed([writing(path.join(elsewhere, 'mod.ko'))]), []);
  fs.symlinkSync(os.tmpdir(), path.join(elsewhere, 'out-link'));
  const [d] = allowed([writing(path.join(elsewhere, 'out-link', 'mod.ko'))]);
  assert.match(d!.message, /resolves through a symlink/);
});

test.run();
