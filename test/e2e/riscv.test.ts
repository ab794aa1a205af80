// A cross-compiled tree (scripts/cross-tree.sh: Debian's riscv64-linux-gnu- gcc): the reference config
// for riscv64 with RELOCATABLE and RANDOMIZE_BASE, BTF and module BTF on. kpipe is told the arch as
// kbuild is (`ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu-` words); its link and arch.riscv's post-link
// pass (relocs_check.sh, vmlinux.relocs, relocation strip) must leave vmlinux, System.map, every .ko
// and vmlinux.relocs byte-identical to `make vmlinux modules` in the same tree, and show what the
// relocation check says.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { differences, kbuildReference, prepareTree, restore, run } from '../helpers/kernel-tree.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
const POSTLINK = ['vmlinux.relocs'];

test('riscv post-link: vmlinux, System.map, modules and vmlinux.relocs are byte-identical to kbuild', () => {
  const tree = prepareTree('riscv64-relocatable');
  assert.equal(tree.makeArgs, ['ARCH=riscv', 'CROSS_COMPILE=riscv64-linux-gnu-']);
  const reference = kbuildReference(tree, 'clean', () => {}, POSTLINK);
  restore(tree);
  const output = run([process.execPath, KPIPE, 'run', '-C', tree.out, '-j2', ...tree.makeArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(output, /CHKREL {2}vmlinux\.unstripped\n/);
  // relocs_check.sh warns (and exits 0) about the R_RISCV_NONE slots binutils 2.40 leaves in .rela.dyn;
  // kbuild prints that warning on every link of this tree, and kpipe must print the same, word for word:
  // the script run on kbuild's vmlinux.relocs (its image before the strip) says what to expect.
  const check = path.join(tree.src, 'arch/riscv/tools/relocs_check.sh');
  const warning = run(['sh', check, 'riscv64-linux-gnu-objdump', 'riscv64-linux-gnu-nm', path.join(reference, 'vmlinux.relocs')], { env: { ...process.env, srctree: tree.src } });
  assert.match(warning, /^WARNING: \d+ bad relocations\n/);
  // kpipe keeps the first and last 128 KiB of a tool's output (core/running/runner.ts): compare the head.
  const head = warning.slice(0, 64 * 1024);
  assert.ok(output.includes(`CHKREL  vmlinux.unstripped\n${head}`), "kpipe shows the check's warning as kbuild does");
  assert.match(output, /CPREL {3}vmlinux\.relocs/);
  assert.match(output, /STRIPREL vmlinux\.unstripped/);
  assert.equal(differences(reference, tree.out, POSTLINK), []);
  // The relocations really left the image, and stayed in vmlinux.relocs.
  const sections = (f: string) => run(['riscv64-linux-gnu-readelf', '-S', '-W', path.join(tree.out, f)]);
  assert.not.match(sections('vmlinux'), /\.rela\.text/);
  assert.match(sections('vmlinux.relocs'), /\.rela\.text/);
});

test.run();
