// External modules (M=DIR, seed 003) against the real reference tree: kpipe's .ko files equal those of
// `make M=DIR modules` in all three BTF situations kbuild knows (no vmlinux in the tree: no BTF; the
// tree's vmlinux; a given base, `--btf-base`), the tree itself is left as it was, BTF is skipped
// with one message for the run, and `kpipe install` warns when the modules' BTF base is not the BTF
// of the vmlinux they are installed for.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { readElfSection } from '../../core/elf/elf-section.js';
import { env, kbuildReference, prepareTree, restore, run, type KernelTree } from '../helpers/kernel-tree.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
const FIXTURE = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'extmod');
const MODULES = ['kpipe_hello.ko', 'kpipe_user.ko'];
let tree: KernelTree;
let reference: string;
let scratch: string;
/** The module directory: always the same path, since the .ko files carry it (DWARF). */
let ext: string;

function freshModuleDir(): void {
  fs.rmSync(ext, { recursive: true, force: true });
  fs.cpSync(FIXTURE, ext, { recursive: true });
}

/** `make M=DIR modules` in a fresh copy: kbuild's .ko files, saved under `name`, and its stderr. */
function kbuildModules(name: string): { dir: string; stderr: string } {
  freshModuleDir();
  const r = spawnSync('make', ['-s', '-j2', `M=${ext}`, 'modules'], { cwd: tree.out, env: env(), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make M=${ext} modules failed:\n${r.stderr}`);
  const dir = path.join(scratch, `kbuild-${name}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  for (const ko of MODULES) fs.copyFileSync(path.join(ext, ko), path.join(dir, ko));
  return { dir, stderr: r.stderr };
}

function kpipe(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [KPIPE, ...args], { env: env(), encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function kpipeModules(extra: string[] = []): { stdout: string; stderr: string } {
  freshModuleDir();
  const r = kpipe(['run', '-C', tree.out, '-j2', `M=${ext}`, ...extra]);
  assert.is(r.status, 0, `kpipe run M= failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

function differingModules(kbuildDir: string): string[] {
  return MODULES.filter((ko) => !fs.readFileSync(path.join(kbuildDir, ko)).equals(fs.readFileSync(path.join(ext, ko))));
}

function hasBtf(ko: string): boolean {
  return readElfSection(fs.readFileSync(path.join(ext, ko)), '.BTF') !== undefined;
}

/** Every file of the output tree with its size and mtime: "the tree is only read" is checked, not hoped. */
function snapshot(dir: string): string[] {
  return run(['find', '.', '-path', './source', '-prune', '-o', '-printf', '%p %s %T@\n'], { cwd: dir }).split('\n').sort();
}

test.before(() => {
  tree = prepareTree('x86_64-reference');
  reference = kbuildReference(tree, 'clean');
  scratch = path.join(os.homedir(), '.cache', 'kpipe', 'scratch-extmod');
  fs.mkdirSync(scratch, { recursive: true });
  ext = path.join(scratch, 'ext');
  restore(tree);
  // What kbuild asks of a tree before external modules are built against it (writes scripts/module.lds).
  run(['make', '-s', 'modules_prepare'], { cwd: tree.out });
});

test('M= against a tree with no vmlinux: the .ko files equal kbuild\'s, BTF skipped with one message, the tree untouched', () => {
  const kbuild = kbuildModules('no-vmlinux');
  assert.is(kbuild.stderr.match(/Skipping BTF generation/g)?.length, MODULES.length, 'kbuild says it once per module');
  const before = snapshot(tree.out);
  const r = kpipeModules();
  assert.equal(differingModules(kbuild.dir), []);
  assert.is(`${r.stdout}${r.stderr}`.match(/skipping BTF for modules/g)?.length, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /has no vmlinux; give a base with `--btf-base FILE`/);
  assert.not.ok(hasBtf('kpipe_hello.ko'));
  assert.not.ok(fs.existsSync(path.join(ext, 'modules.btf-base')), 'no BTF, no base record');
  assert.equal(snapshot(tree.out), before);
  assert.ok(fs.existsSync(path.join(ext, '.kpipe', 'last-run.json')), "kpipe's state lives in M=DIR");
});

test('--btf-base FILE: the .ko files equal kbuild\'s against that vmlinux, the base is recorded, a rerun runs nothing', () => {
  const base = path.join(reference, 'vmlinux');
  // kbuild's only way to a base is the tree's own vmlinux.
  fs.copyFileSync(base, path.join(tree.out, 'vmlinux'));
  const kbuild = kbuildModules('btf-base');
  fs.rmSync(path.join(tree.out, 'vmlinux'));
  kpipeModules(['--btf-base', base]);
  assert.equal(differingModules(kbuild.dir), []);
  assert.ok(hasBtf('kpipe_hello.ko') && hasBtf('kpipe_user.ko'));
  const record = fs.readFileSync(path.join(ext, 'modules.btf-base'), 'utf8');
  assert.match(record, new RegExp(`^[0-9a-f]{64} ${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));

  const again = kpipe(['run', '-C', tree.out, '-j2', `M=${ext}`, '--btf-base', base]);
  assert.is(again.status, 0, again.stderr);
  const log = JSON.parse(fs.readFileSync(path.join(ext, '.kpipe', 'last-run.json'), 'utf8')) as { steps: { id: string; ran: boolean; reason?: { kind: string } }[] };
  assert.equal(log.steps.filter((s) => s.ran && s.reason?.kind !== 'delegated').map((s) => s.id), []);
});

test('kpipe install M=: modules go to updates/, and a vmlinux with other BTF than their base is warned about', () => {
  // Continues from the --btf-base build: the modules are based on the reference vmlinux.
  const base = path.join(reference, 'vmlinux');
  const root = path.join(scratch, 'install');
  fs.rmSync(root, { recursive: true, force: true });
  const same = kpipe(['install', '-C', tree.out, `M=${ext}`, '--mod-path', root, '--vmlinux', base]);
  assert.is(same.status, 0, same.stderr);
  // (The tree has no System.map here, so depmod is skipped with a line of its own, as kbuild does.)
  assert.not.match(same.stderr, /warning: the modules' BTF/);
  assert.match(same.stderr, /not running depmod: .* has no System\.map/);
  const release = fs.readFileSync(path.join(tree.out, 'include/config/kernel.release'), 'utf8').trim();
  for (const ko of MODULES) assert.ok(fs.existsSync(path.join(root, 'lib/modules', release, 'updates', ko)), ko);
  assert.not.ok(fs.existsSync(path.join(root, 'lib/modules', release, 'modules.order')), "an external install leaves the tree's modules.order alone");

  // The same kernel with one byte of its BTF string table changed: another kernel's BTF, as far as
  // split BTF is concerned.
  const other = path.join(scratch, 'vmlinux-other-btf');
  const image = fs.readFileSync(base);
  const btf = readElfSection(image, '.BTF')!;
  const at = image.indexOf(btf);
  image[at + btf.length - 2] ^= 0x01;
  fs.writeFileSync(other, image);
  const differs = kpipe(['install', '-C', tree.out, `M=${ext}`, '--mod-path', root, '--vmlinux', other]);
  assert.is(differs.status, 0, differs.stderr);
  assert.match(differs.stderr, /warning: the modules' BTF was made against .*vmlinux \(BTF sha256 [0-9a-f]{16}\.\.\.\), but .*vmlinux-other-btf has other BTF/);
});

test('M= with the tree\'s vmlinux and no --btf-base: based on it, as Makefile.modfinal does', () => {
  fs.copyFileSync(path.join(reference, 'vmlinux'), path.join(tree.out, 'vmlinux'));
  try {
    const kbuild = kbuildModules('tree-vmlinux');
    kpipeModules();
    assert.equal(differingModules(kbuild.dir), []);
    assert.match(fs.readFileSync(path.join(ext, 'modules.btf-base'), 'utf8'), new RegExp(` ${tree.out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/vmlinux$`, 'm'));
  } finally {
    fs.rmSync(path.join(tree.out, 'vmlinux'), { force: true });
  }
});

test.run();
