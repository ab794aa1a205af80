// A second real tree: the reference config without BTF (DEBUG_INFO_BTF and DEBUG_INFO_BTF_MODULES off).
// .tmp_vmlinux1 then serves kallsyms alone and is linked with --strip-debug, modules get no BTF, and
// `modules: vmlinux.unstripped` is off: the other two MODULE_HASHES x module-BTF combinations.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { differences, kbuildReference, prepareTree, restore, run, type KernelTree } from '../helpers/kernel-tree.js';
import { checkModuleHashes } from '../helpers/module-hashes-check.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
let tree: KernelTree;
let reference: string;

test.before(() => {
  tree = prepareTree('x86_64-nobtf');
  reference = kbuildReference(tree, 'clean');
  restore(tree);
});

test('no BTF: vmlinux, System.map and every .ko are byte-identical to kbuild', () => {
  const output = run([process.execPath, KPIPE, 'run', '-C', tree.out, '-j2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  assert.not.match(output, /BTF/);
  assert.equal(differences(reference, tree.out), []);
});

test('no module BTF, MODULE_HASHES on: no cycle, the image is kbuild\'s, installed modules verify', () => {
  checkModuleHashes(tree, reference);
});

test.run();
