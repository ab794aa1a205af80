// kbuild-image: the architecture's boot image (x86's bzImage), delegated to kbuild as arch/x86/Makefile
// does it (`$(MAKE) $(build)=$(boot) $(KBUILD_IMAGE)`), from the vmlinux kpipe made. It calls the boot
// directory's Makefile.build directly, never the top-level `vmlinux` target, so kbuild cannot relink
// vmlinux on the way; and it waits for kbuild's record of vmlinux (.vmlinux.cmd), so that a later
// `make bzImage` by hand takes the same vmlinux. Made on request only (`kpipe run bzImage`): a boot
// image is not part of every link.
import type { KpipePlugin } from '../../core/plugin-api.js';
import { ARTIFACTS } from '../../core/plugin-api.js';
import { dotCmdFile, kbuildMake, MAKE_JOBS_OPTION, makeJobs } from '../kbuild.js';

export const kbuildImagePlugin: KpipePlugin = {
  name: 'kbuild-image',
  description: "the arch's boot image from kpipe's vmlinux, delegated to kbuild (x86: arch/x86/boot/bzImage)",
  options: {
    image: { description: 'the image kbuild makes, relative to the tree (KBUILD_IMAGE)', default: 'arch/$(SRCARCH)/boot/bzImage' },
    jobs: MAKE_JOBS_OPTION,
  },
  apply(hooks, ctx) {
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      const vmlinux = ctx.artifacts.lookup(ARTIFACTS.image);
      if ('why' in vmlinux) throw new Error(`no vmlinux to make a boot image from: ${vmlinux.why}`);
      const option = typeof ctx.options.image === 'string' ? ctx.options.image : 'arch/$(SRCARCH)/boot/bzImage';
      const image = option.replace('$(SRCARCH)', ctx.toolchain.kind === 'tree' ? ctx.toolchain.value('SRCARCH') : (ctx.kconfig.get('ARCH') ?? '$(SRCARCH)'));
      const bootDir = image.slice(0, image.lastIndexOf('/'));
      // The boot directory compiles its setup code and compresses vmlinux: worth make's jobs.
      const jobs = makeJobs(ctx);
      builder.addStep(ctx.name, {
        commands: [kbuildMake(ctx, 'BUILD', image, ['$(srctree)/scripts/Makefile.build', `obj=${bootDir}`, `-j${jobs}`], [image])],
        inputs: [vmlinux.path, dotCmdFile(vmlinux.path)],
        outputs: [image],
        delegated: true,
        onRequest: true,
      });
    });
  },
};
