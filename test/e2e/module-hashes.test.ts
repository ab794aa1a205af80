// Module hashes on the real kernel with module BTF on (DEBUG_INFO_BTF_MODULES=y, MODULE_HASHES=y):
// vmlinux.unstripped -> modules -> vmlinux, no cycle. The module BTF off combinations are in
// nobtf.test.ts; MODULE_HASHES off with module BTF on is kernel.test.ts.
import { test } from 'uvu';
import { kbuildReference, prepareTree, restore } from '../helpers/kernel-tree.js';
import { checkModuleHashes } from '../helpers/module-hashes-check.js';

test('MODULE_HASHES with module BTF: the image is kbuild\'s, vmlinux carries the root, installed modules verify', () => {
  const tree = prepareTree('x86_64-reference');
  const reference = kbuildReference(tree, 'clean');
  restore(tree);
  checkModuleHashes(tree, reference);
});

test.run();
