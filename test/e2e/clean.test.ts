// `kpipe clean` on the real reference tree (issues 16 and 17): by default it removes what the link
// wrote, kbuild's records of the link's delegated compiles (`..vmlinux.export.o.cmd`,
// `..module-common.o.cmd`) and `.kpipe/`, and leaves the compile phase's outputs as they were, so the
// tree is again the compiled tree; `--compile` removes those too. With M=DIR kpipe ran the compile,
// so `kpipe clean M=DIR` leaves DIR as `make M=DIR clean` leaves it, and kpipe's own files gone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { env, prepareTree, restore, run, type KernelTree } from '../helpers/kernel-tree.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
const FIXTURE = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'extmod');
const COMPILE_OUTPUTS = ['vmlinux.a', 'vmlinux.o', 'modules.order', 'Module.symvers', '.vmlinux.export.c'];
let tree: KernelTree;

function kpipe(args: string[]): string {
  const r = spawnSync(process.execPath, [KPIPE, ...args], { env: env(), encoding: 'utf8' });
  assert.is(r.status, 0, `kpipe ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Every file and symlink under dir (not the source link's target), relative, sorted. */
function files(dir: string): string[] {
  return run(['find', '.', '-path', './source', '-prune', '-o', '(', '-type', 'f', '-o', '-type', 'l', ')', '-printf', '%P\n'], { cwd: dir }).split('\n').filter(Boolean).sort();
}

function stat(dir: string, file: string): string {
  const st = fs.statSync(path.join(dir, file), { bigint: true });
  return `${st.size} ${st.mtimeNs}`;
}

const diff = (a: string[], b: string[]) => ({ added: b.filter((f) => !a.includes(f)), removed: a.filter((f) => !b.includes(f)) });

test.before(() => {
  tree = prepareTree('x86_64-reference');
});

test('clean after a link: the tree is the compiled tree again, compile outputs untouched; --compile removes them too', () => {
  restore(tree);
  const before = files(tree.out);
  const compiled = COMPILE_OUTPUTS.map((f) => stat(tree.out, f));
  kpipe(['run', '-C', tree.out, '--skip', 'compile', '-j2', '-q']);
  const linked = files(tree.out);
  for (const f of ['vmlinux', 'System.map', '.vmlinux.export.o', '..vmlinux.export.o.cmd', '..module-common.o.cmd']) assert.ok(linked.includes(f), `the link wrote ${f}`);
  assert.ok(linked.some((p) => p.endsWith('.ko')) && linked.some((p) => p.startsWith('.kpipe/')), 'modules and .kpipe/');
  kpipe(['clean', '-C', tree.out]);
  // What stays that the compiled tree did not have: modules_prepare's scripts/module.lds (make
  // clean's "enough to build external modules") and init/Makefile's include/generated/utsversion.h,
  // which link-vmlinux.sh's clean leaves too (mrproper removes include/generated).
  const kept = ['include/generated/utsversion.h', 'scripts/.module.lds.cmd', 'scripts/module.lds'];
  const after = diff(before, files(tree.out));
  assert.equal(after.removed, [], 'nothing of the compiled tree is lost');
  assert.equal(after.added.filter((f) => !kept.includes(f)), [], 'nothing else the link wrote is left');
  assert.equal(COMPILE_OUTPUTS.map((f) => stat(tree.out, f)), compiled, 'the compile phase\'s outputs keep their bytes and mtimes');

  kpipe(['clean', '-C', tree.out, '--compile']);
  for (const f of [...COMPILE_OUTPUTS, 'scripts/module.lds']) assert.not.ok(fs.existsSync(path.join(tree.out, f)), `--compile removes ${f}`);
  restore(tree);
});

test('clean M=DIR: what make M=DIR clean leaves, and no .kpipe/ or modules.btf-base', () => {
  restore(tree);
  run(['make', '-s', 'modules_prepare'], { cwd: tree.out });
  const ext = path.join(os.homedir(), '.cache', 'kpipe', 'scratch-clean', 'ext');
  const fresh = () => {
    fs.rmSync(ext, { recursive: true, force: true });
    fs.cpSync(FIXTURE, ext, { recursive: true });
  };
  fresh();
  run(['make', '-s', '-j2', `M=${ext}`, 'modules'], { cwd: tree.out });
  run(['make', '-s', `M=${ext}`, 'clean'], { cwd: tree.out });
  const kbuild = files(ext);

  fresh();
  kpipe(['run', '-C', tree.out, '-j2', '-q', `M=${ext}`]);
  const built = files(ext);
  assert.ok(built.includes('kpipe_hello.ko') && built.some((f) => f.startsWith('.kpipe/')), built.join('\n'));
  kpipe(['clean', '-C', tree.out, `M=${ext}`]);
  assert.equal(files(ext), kbuild);
  assert.equal(kbuild, files(FIXTURE), 'make M=DIR clean leaves the module sources');
  fs.rmSync(path.dirname(ext), { recursive: true, force: true });
  restore(tree);
});

test.run();
