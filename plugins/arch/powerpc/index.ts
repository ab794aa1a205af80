// arch/powerpc: the post-link pass of arch/powerpc/Makefile.postlink (6.12). It changes nothing; it
// checks the linked image, and a failed check fails the link (kbuild deletes vmlinux, kpipe never
// renames the temporary image into place):
//   CHKHEAD  (PPC64) arch/powerpc/tools/head_check.sh: the fixed-address head code starts where
//            head-64.h expects it, i.e. the linker put no branch stubs in front of it;
//   CHKREL   (RELOCATABLE) arch/powerpc/tools/relocs_check.sh: dynamic relocations other than the
//            RELATIVE/NONE kinds are printed as a warning; then, on PPC_BOOK3S_64,
//            unrel_branch_check.sh: no branch from the unrelocated interrupt code to relocated code.
//            As in kbuild's `relocs_check.sh ...; unrel_branch_check.sh ...`, the latter decides.
import { continued } from '../../kbuild.js';
import { checkScript, postLinkPlugin, relocsCheck } from '../../postlink.js';

export const powerpcPlugin = postLinkPlugin(
  'arch.powerpc',
  "powerpc's post-link checks: head_check.sh (PPC64), relocs_check.sh and unrel_branch_check.sh (RELOCATABLE)",
  (image, ctx) => {
    const { kconfig, toolchain } = ctx;
    if (kconfig.isEnabled('PPC64')) {
      // head_check.sh keeps the symbols it grepped in .tmp_symbols.txt, removed when the check passes.
      const head = checkScript(ctx, { tag: 'CHKHEAD', target: image.path, script: 'arch/powerpc/tools/head_check.sh', args: [toolchain.value('NM'), image.path] });
      image.produce(ctx.name, head.command, [], head.inputs, ['.tmp_symbols.txt']);
    }
    if (kconfig.isEnabled('RELOCATABLE')) {
      const relocs = relocsCheck(ctx, image.path, 'arch/powerpc/tools/relocs_check.sh');
      image.produce(ctx.name, relocs.command, [], relocs.inputs);
      if (kconfig.isEnabled('PPC_BOOK3S_64')) {
        const branches = checkScript(ctx, {
          tag: 'CHKREL', target: image.path, script: 'arch/powerpc/tools/unrel_branch_check.sh', shell: 'BASH',
          args: [toolchain.value('OBJDUMP'), toolchain.value('NM'), image.path],
        });
        image.produce(ctx.name, continued(branches.command), [], branches.inputs);
      }
    }
  },
);
