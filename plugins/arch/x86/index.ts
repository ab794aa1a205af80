// arch/x86: the post-link pass of arch/x86/Makefile.postlink (6.12). With CONFIG_X86_NEED_RELOCS the
// relocations are extracted into arch/x86/boot/compressed/vmlinux.relocs (the decompressor reads them
// under that name) and then stripped from the image, in place on the temporary image.
import { ARTIFACTS } from '../../../core/plugin-api.js';
import { continued, exec, treeTool } from '../../kbuild.js';
import { postLinkPlugin, stripRelocations } from '../../postlink.js';

const RELOCS_TOOL = 'arch/x86/tools/relocs';
const RELOCS_OUT = 'arch/x86/boot/compressed/vmlinux.relocs';

export const x86Plugin = postLinkPlugin('arch.x86', "x86's post-link pass: vmlinux.relocs and relocation stripping (X86_NEED_RELOCS)", (image, ctx) => {
  if (!ctx.kconfig.isEnabled('X86_NEED_RELOCS')) return;
  image.produce(ctx.name, exec(ctx.name, 'RELOCS', RELOCS_OUT, [treeTool(RELOCS_TOOL), image.path], { stdout: RELOCS_OUT }), [RELOCS_OUT], [RELOCS_TOOL]);
  ctx.artifacts.publish(ARTIFACTS.relocs, RELOCS_OUT);
  image.produce(ctx.name, continued(exec(ctx.name, 'RELOCS', RELOCS_OUT, [treeTool(RELOCS_TOOL), '--abs-relocs', image.path])), []);
  image.edit(ctx.name, stripRelocations(ctx, 'RSTRIP', image.path));
});
