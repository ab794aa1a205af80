// Module hashes on the real kernel (DESIGN.md section 5): with `--set MODULE_HASHES=y` kpipe orders
// vmlinux.unstripped -> modules -> vmlinux without a cycle, vmlinux.unstripped is still kbuild's
// vmlinux byte for byte, vmlinux carries the Merkle root of the modules, and installed modules
// verify against it, while a tampered one is named.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/session.js';
import { readElfSection } from '../../core/elf-section.js';
import { env, kbuildReference, prepareTree, restore, run, type KernelTree } from '../helpers/kernel-tree.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
let tree: KernelTree;
let reference: string;
let modPath: string;

test.before(() => {
  tree = prepareTree('x86_64-reference');
  reference = kbuildReference(tree, 'clean');
  restore(tree);
  modPath = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-modpath-'));
});
test.after(() => fs.rmSync(modPath, { recursive: true, force: true }));

test('MODULE_HASHES: the image is kbuild\'s, vmlinux carries the root, installed modules verify', () => {
  run([process.execPath, KPIPE, 'run', '-C', tree.out, '-j2', '--skip', 'compile', '--set', 'MODULE_HASHES=y'], { stdio: ['ignore', 'pipe', 'pipe'] });
  assert.ok(fs.readFileSync(path.join(reference, 'vmlinux')).equals(fs.readFileSync(path.join(tree.out, 'vmlinux.unstripped'))), 'vmlinux.unstripped is kbuild\'s vmlinux');
  const section = readElfSection(fs.readFileSync(path.join(tree.out, 'vmlinux')), '.module_hashes');
  assert.ok(section, 'vmlinux has a .module_hashes section');
  assert.is(section!.length, 36);
  run([process.execPath, KPIPE, 'install', '-C', tree.out, '--skip', 'compile', '--set', 'MODULE_HASHES=y', '--mod-path', modPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const verify = (extra: string[] = []) => spawnSync(process.execPath, [KPIPE, 'verify-modules', '-C', tree.out, '--skip', 'compile', '--set', 'MODULE_HASHES=y', '--mod-path', modPath, ...extra], { env: env(), encoding: 'utf8' });
  const ok = verify();
  assert.is(ok.status, 0, ok.stdout + ok.stderr);
  const release = fs.readFileSync(path.join(tree.out, 'include/config/kernel.release'), 'utf8').trim();
  const victim = path.join(modPath, 'lib/modules', release, 'kernel/lib/crc8.ko');
  const bytes = fs.readFileSync(victim);
  bytes[100] = bytes[100]! ^ 0xff;
  fs.writeFileSync(victim, bytes);
  const bad = verify();
  assert.is(bad.status, 1);
  assert.match(bad.stdout + bad.stderr, /crc8\.ko/);
  assert.not.match(bad.stdout + bad.stderr, /crc7\.ko/);
});

test.run();
