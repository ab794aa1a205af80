// arch/mips: the post-link pass of arch/mips/Makefile.postlink (6.12), in its order:
//   LLSCCHK  (CPU_LOONGSON3_WORKAROUNDS=y) arch/mips/tools/loongson3-llsc-check: every LL/SC loop has
//            the Loongson3 erratum's sync; a failure fails the link;
//   RELOCS   (RELOCATABLE=y) arch/mips/boot/tools/relocs: the relocations the image was linked with
//            (--emit-relocs) are written, in the kernel's own compact format, into the image's
//            .data.reloc section, in place, where the kernel reads them to relocate itself.
// Both tools are host programs kbuild builds in `archscripts`, before the compile phase ends.
import { exec, treeTool } from '../../kbuild.js';
import { postLinkPlugin } from '../../postlink.js';

const LLSC_TOOL = 'arch/mips/tools/loongson3-llsc-check';
const RELOCS_TOOL = 'arch/mips/boot/tools/relocs';

export const mipsPlugin = postLinkPlugin('arch.mips', "mips's post-link pass: the Loongson3 LL/SC check and relocations into .data.reloc (RELOCATABLE)", (image, ctx) => {
  if (ctx.kconfig.isEnabled('CPU_LOONGSON3_WORKAROUNDS')) {
    image.produce(ctx.name, exec(ctx.name, 'LLSCCHK', image.path, [treeTool(LLSC_TOOL), image.path]), [], [LLSC_TOOL]);
  }
  if (ctx.kconfig.isEnabled('RELOCATABLE')) {
    image.edit(ctx.name, exec(ctx.name, 'RELOCS', image.path, [treeTool(RELOCS_TOOL), image.path]), [RELOCS_TOOL]);
  }
});
