// arch/s390: the post-link pass of arch/s390/Makefile.postlink (6.12). s390 is always relocatable (the
// Makefile has no condition, RELOCATABLE is def_bool y, the image is linked --emit-relocs):
//   RELOCS   arch/s390/tools/relocs writes the image's relocations as assembly, arch/s390/boot/relocs.S,
//            which the decompressor (arch/s390/boot) assembles and applies at boot;
//   RSTRIP   the relocation sections leave the image, in place on the temporary image.
import { exec, treeTool } from '../../kbuild.js';
import { postLinkPlugin, stripRelocations } from '../../postlink.js';

const RELOCS_TOOL = 'arch/s390/tools/relocs';
const RELOCS_OUT = 'arch/s390/boot/relocs.S';

export const s390Plugin = postLinkPlugin('arch.s390', "s390's post-link pass: arch/s390/boot/relocs.S and relocation stripping", (image, ctx) => {
  image.produce(ctx.name, exec(ctx.name, 'RELOCS', RELOCS_OUT, [treeTool(RELOCS_TOOL), image.path], { stdout: RELOCS_OUT }), [RELOCS_OUT], [RELOCS_TOOL]);
  image.edit(ctx.name, stripRelocations(ctx, 'RSTRIP', image.path));
});
