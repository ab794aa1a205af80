// arch/riscv: the post-link pass of arch/riscv/Makefile.postlink (6.12). With CONFIG_RELOCATABLE the
// image is linked -shared --emit-relocs; then, in the Makefile's order:
//   CHKREL    arch/riscv/tools/relocs_check.sh: every dynamic relocation but R_RISCV_RELATIVE is
//             suspicious (the script prints them as a warning and exits 0, as in kbuild);
//   CPREL     vmlinux.relocs, a copy of the image with its relocations: arch/riscv/boot/Makefile makes
//             the boot Image from it, since the kernel applies those relocations to itself at boot;
//   STRIPREL  the relocation sections leave the image, in place on the temporary image.
import { builtin } from '../../kbuild.js';
import { postLinkPlugin, relocsCheck, stripRelocations } from '../../postlink.js';

const RELOCS_OUT = 'vmlinux.relocs';

export const riscvPlugin = postLinkPlugin('arch.riscv', "riscv's post-link pass: relocs_check.sh, vmlinux.relocs and relocation stripping (RELOCATABLE)", (image, ctx) => {
  if (!ctx.kconfig.isEnabled('RELOCATABLE')) return;
  const check = relocsCheck(ctx, image.path, 'arch/riscv/tools/relocs_check.sh');
  image.produce(ctx.name, check.command, [], check.inputs);
  image.produce(ctx.name, builtin(ctx.name, 'CPREL', RELOCS_OUT, 'copy', [image.path, RELOCS_OUT]), [RELOCS_OUT]);
  image.edit(ctx.name, stripRelocations(ctx, 'STRIPREL', image.path));
});
