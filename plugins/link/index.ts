// link: the `vmlinux_link` of scripts/link-vmlinux.sh as data, and the link session that orders the
// temporary links other plugins ask for. The small compiles the link needs (.vmlinux.export.o,
// init/version-timestamp.o) are delegated to kbuild, which knows their flags and header deps; the
// second runs within the first link, as link-vmlinux.sh runs it.
import type { KpipePlugin, LinkSpec, PluginContext } from '../../core/plugin-api.js';
import { ARTIFACTS } from '../../core/plugin-api.js';
import { runLinkSession } from '../../core/planning/link-session.js';
import { exec, kbuildMake } from '../kbuild.js';
import { thinArchiveMembers } from './thin-archive.js';

export const linkPlugin: KpipePlugin = {
  name: 'link',
  description: 'links vmlinux.a and the objects other plugins add; temporary links on request',
  apply(hooks, ctx) {
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      const { kconfig, toolchain } = ctx;
      // CONFIG_LTO_CLANG and X86_KERNEL_IBT (and 7.x's KLP_BUILD) link vmlinux.o instead of redoing the slow LTO link.
      const useVmlinuxO = kconfig.isEnabled('LTO_CLANG') || kconfig.isEnabled('X86_KERNEL_IBT') || kconfig.isEnabled('KLP_BUILD');
      const wholeArchive = [useVmlinuxO ? 'vmlinux.o' : 'vmlinux.a'];
      if (kconfig.isEnabled('MODULES')) {
        wholeArchive.push('.vmlinux.export.o');
        builder.addStep(ctx.name, {
          commands: [kbuildMake(ctx, 'CC', '.vmlinux.export.o', ['$(srctree)/scripts/Makefile.vmlinux'])],
          inputs: ['.vmlinux.export.c'],
          outputs: ['.vmlinux.export.o'],
          delegated: true,
          kbuildInputs: 'outputs',
        });
      }
      wholeArchive.push('init/version-timestamp.o');
      // link-vmlinux.sh compiles it at its start, so only when vmlinux is relinked anyway: without
      // KBUILD_BUILD_TIMESTAMP every compile gets a new date, and as a step of its own it would relink
      // vmlinux on every run. It is the first link's first command instead (LinkBase.prelude).
      const versionTimestamp = kbuildMake(ctx, 'CC', 'init/version-timestamp.o', ['$(srctree)/scripts/Makefile.build', 'obj=init']);
      if (versionTimestamp.action.kind === 'exec') {
        versionTimestamp.action.kbuildWrites = ['init/version-timestamp.o'];
        // init/Makefile's filechk rewrites it with the build's date and number whenever it compiles.
        versionTimestamp.action.kbuildStamps = ['include/generated/utsversion.h'];
      }
      versionTimestamp.note = 'delegated to kbuild, by the first link: compiled only when it relinks';
      const lds = toolchain.value('KBUILD_LDS');
      const libraries = useVmlinuxO ? [] : toolchain.words('KBUILD_VMLINUX_LIBS');
      const { final } = runLinkSession(hooks, builder, {
        plugin: ctx.name,
        wholeArchive,
        libraries,
        implicitInputs: [lds, ...archiveMembers(ctx, [...wholeArchive, ...libraries])],
        command: (spec) => exec(ctx.name, 'LD', spec.output, linkArgv(ctx, spec, lds)),
        prelude: [versionTimestamp],
      });
      if (kconfig.isEnabled('VMLINUX_MAP')) final.outputs.push(`${ctx.stage}.map`);
      ctx.artifacts.publish(ARTIFACTS.unstrippedImage, ctx.stage);
    });
  },
};

/** The members of the thin archives among the link's objects: what the link really reads. */
function archiveMembers(ctx: PluginContext, objects: string[]): string[] {
  const members: string[] = [];
  for (const object of objects.filter((o) => o.endsWith('.a'))) {
    const bytes = ctx.readBytes(object);
    if (bytes !== undefined) members.push(...(thinArchiveMembers(bytes, object) ?? []));
  }
  return members;
}

/** link-vmlinux.sh's argv, word for word, so the image is byte-identical to kbuild's. */
function linkArgv(ctx: PluginContext, spec: LinkSpec, lds: string): string[] {
  const { toolchain, kconfig } = ctx;
  const flags = [...toolchain.words('KBUILD_LDFLAGS'), ...toolchain.words('LDFLAGS_vmlinux'), `--script=${lds}`];
  if (spec.stripDebug) flags.push('--strip-debug');
  if (kconfig.isEnabled('VMLINUX_MAP')) flags.push(`-Map=${spec.output}.map`);
  return [
    ...toolchain.words('LD'), ...flags, ...spec.flags,
    '-o', spec.output,
    '--whole-archive', ...spec.wholeArchive, '--no-whole-archive',
    '--start-group', ...spec.libraries, '--end-group',
    ...spec.objects,
  ];
}
