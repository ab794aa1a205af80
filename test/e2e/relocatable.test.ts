// A third real tree: the reference config with KASLR (RELOCATABLE, RANDOMIZE_BASE), so X86_NEED_RELOCS
// turns on arch/x86/Makefile.postlink's pass. kpipe's arch.x86 plugin must leave vmlinux (relocations
// stripped) and arch/x86/boot/compressed/vmlinux.relocs byte-identical to kbuild's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { differences, kbuildReference, prepareTree, restore, run } from '../helpers/kernel-tree.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
const RELOCS = ['arch/x86/boot/compressed/vmlinux.relocs'];

test('x86 post-link: vmlinux and vmlinux.relocs are byte-identical to kbuild', () => {
  const tree = prepareTree('x86_64-relocatable');
  const reference = kbuildReference(tree, 'clean', () => {}, RELOCS);
  restore(tree);
  const output = run([process.execPath, KPIPE, 'run', '-C', tree.out, '-j2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(output, /RELOCS {2}arch\/x86\/boot\/compressed\/vmlinux\.relocs/);
  assert.match(output, /RSTRIP {2}vmlinux\.unstripped/);
  assert.equal(differences(reference, tree.out, RELOCS), []);
});

test.run();
