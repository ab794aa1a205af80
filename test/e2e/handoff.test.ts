// The hand-off to kbuild on the KASLR tree (x86_64-relocatable): after `kpipe run`, kbuild's own
// `make vmlinux modules`, `make bzImage`, `make modules_install` and plain `make` take kpipe's files as
// they are (no link, same bytes, same mtimes), because kpipe wrote the very records kbuild compares
// (`.vmlinux.cmd`, `.<module>.ko.cmd`: byte-identical to kbuild's). The boot image made from kpipe's
// vmlinux boots under qemu, and the modules' BTF is split BTF on top of that vmlinux. The reverse:
// files kbuild relinked behind kpipe's back are adopted only when their content is what kpipe made.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { differences, env, kbuildReference, prepareTree, restore, run } from '../helpers/kernel-tree.js';
import { BZIMAGE, LINK_LINE, bootBanner, make as makeIn, moduleObjects, moduleRecords, snapshot as snapshotOf } from '../helpers/handoff.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
const RELOCS = 'arch/x86/boot/compressed/vmlinux.relocs';

const tree = prepareTree('x86_64-relocatable');
const modules = moduleObjects(tree);
/** kbuild's records of its link: what kpipe must write byte for byte. */
const RECORDS = ['.vmlinux.cmd', ...moduleRecords(tree)];
const reference = kbuildReference(tree, 'handoff', () => {}, [RELOCS, ...RECORDS]);

function kpipe(...args: string[]): string {
  return run([process.execPath, KPIPE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

const make = (...args: string[]) => makeIn(tree, ...args);
const snapshot = () => snapshotOf(tree, [RELOCS]);

test('kpipe run writes the .vmlinux.cmd and .<module>.ko.cmd kbuild writes, byte for byte', () => {
  restore(tree);
  kpipe('run', '-C', tree.out, '-j2');
  assert.equal(differences(reference, tree.out, [RELOCS, ...RECORDS]), []);
});

test('make vmlinux modules after kpipe run links nothing and leaves every output as it was', () => {
  const before = snapshot();
  const output = make('vmlinux', 'modules');
  assert.not.match(output, LINK_LINE);
  assert.equal(snapshot(), before);
});

test('make modules_install installs the .ko files kpipe made', () => {
  const dest = path.join(tree.dir, 'handoff-modinst');
  fs.rmSync(dest, { recursive: true, force: true });
  make('modules_install', `INSTALL_MOD_PATH=${dest}`);
  const release = fs.readFileSync(path.join(tree.out, 'include/config/kernel.release'), 'utf8').trim();
  for (const m of modules) {
    const ko = m.replace(/\.o$/, '.ko');
    const installed = path.join(dest, 'lib/modules', release, 'kernel', ko);
    assert.ok(fs.readFileSync(installed).equals(fs.readFileSync(path.join(tree.out, ko))), `${ko} installed as kpipe made it`);
  }
  fs.rmSync(dest, { recursive: true, force: true });
});

test('kpipe run bzImage makes the boot image from its vmlinux; make bzImage and make take it as is', () => {
  const before = snapshot();
  const output = kpipe('run', '-C', tree.out, '-j2', 'bzImage');
  assert.match(output, /BUILD {3}arch\/x86\/boot\/bzImage/);
  assert.ok(fs.existsSync(path.join(tree.out, BZIMAGE)));
  assert.equal(snapshot(), before);
  const image = fs.readFileSync(path.join(tree.out, BZIMAGE));
  assert.not.match(make('bzImage'), LINK_LINE);
  assert.not.match(make(), LINK_LINE);
  assert.equal(snapshot(), before);
  assert.ok(fs.readFileSync(path.join(tree.out, BZIMAGE)).equals(image), 'make kept the bzImage kpipe ran kbuild for');
  // kbuild's own `make bzImage`, from nothing, makes the same image from kpipe's vmlinux.
  fs.rmSync(path.join(tree.out, BZIMAGE));
  const made = make('bzImage');
  assert.match(made, /BUILD {3}arch\/x86\/boot\/bzImage/);
  assert.not.match(made, LINK_LINE);
  assert.equal(snapshot(), before);
  assert.ok(fs.readFileSync(path.join(tree.out, BZIMAGE)).equals(image), "make bzImage's image is kpipe's, byte for byte");
});

test("the bzImage boots under qemu (TCG) and prints the kernel's banner", () => {
  bootBanner(path.join(tree.out, BZIMAGE), /6\.12\./);
});

test('module BTF is split BTF whose base is that vmlinux (bpftool)', () => {
  const bpftool = fs.existsSync('/usr/sbin/bpftool') ? '/usr/sbin/bpftool' : 'bpftool';
  const lastId = (text: string) => Number([...text.matchAll(/^\[(\d+)\]/gm)].at(-1)?.[1] ?? NaN);
  const vmlinuxTypes = lastId(run([bpftool, 'btf', 'dump', 'file', path.join(tree.out, 'vmlinux')]));
  assert.ok(vmlinuxTypes > 1000, `vmlinux has BTF (${vmlinuxTypes} types)`);
  for (const m of modules) {
    const ko = path.join(tree.out, m.replace(/\.o$/, '.ko'));
    // Alone, split BTF does not load; on top of vmlinux it does, and its ids continue vmlinux's.
    assert.is.not(spawnSync(bpftool, ['btf', 'dump', 'file', ko]).status, 0, `${m}: BTF that needs a base`);
    const dump = run([bpftool, '-B', path.join(tree.out, 'vmlinux'), 'btf', 'dump', 'file', ko]);
    assert.is(Number(/^\[(\d+)\]/.exec(dump)?.[1]), vmlinuxTypes + 1, `${m}: first type id follows vmlinux's last`);
  }
});

test('the reverse: a vmlinux kbuild relinked is adopted only when it is what kpipe made, else rebuilt', () => {
  const stepOf = (id: string) => {
    const last = JSON.parse(fs.readFileSync(path.join(tree.out, '.kpipe/last-run.json'), 'utf8')) as { steps: { id: string; ran: boolean; why: string }[] };
    return last.steps.find((s) => s.id === id)!;
  };
  // kbuild relinks when its record is gone; reproducible, it writes the same bytes: kpipe adopts them.
  fs.rmSync(path.join(tree.out, '.vmlinux.cmd'));
  assert.match(make('vmlinux'), /LD {6}vmlinux/);
  kpipe('run', '-C', tree.out, '-j2');
  assert.is(stepOf('vmlinux:vmlinux').ran, false, 'same content as kpipe wrote: nothing to redo');
  // A link kbuild made differently (another build timestamp): kpipe sees it and makes its own again.
  fs.rmSync(path.join(tree.out, '.vmlinux.cmd'));
  const r = spawnSync('make', ['-j2', 'vmlinux'], { cwd: tree.out, env: { ...env(), KBUILD_BUILD_TIMESTAMP: 'Fri Jan  2 00:00:00 UTC 2026' }, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.ok(differences(reference, tree.out, [RELOCS]).includes('vmlinux: differs'));
  kpipe('run', '-C', tree.out, '-j2');
  const step = stepOf('vmlinux:vmlinux');
  assert.ok(step.ran, 'kbuild changed vmlinux behind kpipe: rebuilt');
  assert.match(step.why, /output vmlinux was changed outside kpipe/);
  assert.equal(differences(reference, tree.out, [RELOCS, ...RECORDS]), []);
  assert.not.match(make('vmlinux', 'modules'), LINK_LINE);
});

test.run();
