// What the arch/*/Makefile.postlink files of Linux 6.12 have in common, for the plugins under
// plugins/arch: the relocation strip several of them run, and the check scripts they call the way
// kbuild calls them (through $(CONFIG_SHELL), with the tool paths as single quoted words).
import type { Command, ImageBuilder, KpipePlugin, PluginContext } from '../core/plugin-api.js';
import { AFTER_LINK_ORDER } from '../core/plugin-api.js';
import { exec } from './kbuild.js';

/**
 * An arch post-link plugin: Makefile.vmlinux runs `$(MAKE) -f arch/$(SRCARCH)/Makefile.postlink vmlinux`
 * right after link-vmlinux.sh, so `pass` adds its commands to the final link's image after every generic
 * one (BTFIDS, System.map, SORTTAB, the kallsyms check), on the temporary image.
 */
export function postLinkPlugin(name: string, description: string, pass: (image: ImageBuilder, ctx: PluginContext) => void): KpipePlugin {
  return {
    name,
    description,
    apply(hooks, ctx) {
      hooks.afterLink.for(ctx.stage).tap({ name: ctx.name, stage: AFTER_LINK_ORDER.ARCH }, (image) => pass(image, ctx));
    },
  };
}

/**
 * `$(OBJCOPY) --remove-section='.rel.*' ... $@`: the relocations have been extracted (or checked), so
 * they leave the image. Same four patterns in x86, riscv and s390's Makefile.postlink.
 */
export function stripRelocations(ctx: PluginContext, tag: string, image: string): Omit<Command, 'plugin'> {
  return exec(ctx.name, tag, image, [
    ...ctx.toolchain.words('OBJCOPY'),
    '--remove-section=.rel.*', '--remove-section=.rel__*', '--remove-section=.rela.*', '--remove-section=.rela__*',
    image,
  ]);
}

export interface ScriptRun {
  command: Omit<Command, 'plugin'>;
  /** The scripts it runs, as inputs of the step (only when the source tree is known). */
  inputs: string[];
}

/**
 * `$(CONFIG_SHELL) $(srctree)/SCRIPT ARGS...` as Makefile.postlink runs a check: in the output tree,
 * with `srctree` in the environment (relocs_check.sh calls `${srctree}/scripts/relocs_check.sh`).
 * `shell` is CONFIG_SHELL unless the Makefile says `$(BASH)`. `alsoReads` are further scripts the
 * script calls, relative to the source tree. A non-zero exit fails the step with the script's output.
 */
export function checkScript(ctx: PluginContext, opts: { tag: string; target: string; script: string; args: string[]; shell?: 'CONFIG_SHELL' | 'BASH'; alsoReads?: string[] }): ScriptRun {
  const srctree = ctx.srctree ?? '$(srctree)';
  const shell = ctx.toolchain.words(opts.shell ?? 'CONFIG_SHELL');
  const argv = [...(shell.length > 0 ? shell : ['sh']), `${srctree}/${opts.script}`, ...opts.args];
  const env = { srctree };
  return {
    command: exec(ctx.name, opts.tag, opts.target, argv, { env }),
    inputs: ctx.srctree ? [opts.script, ...(opts.alsoReads ?? [])].map((s) => `${ctx.srctree}/${s}`) : [],
  };
}

/**
 * scripts/relocs_check.sh and the arch's filter of it, as `cmd_relocs_check` runs them: objdump and nm
 * are passed as one word each ("$(OBJDUMP)"), the script splits them itself.
 */
export function relocsCheck(ctx: PluginContext, image: string, script: string): ScriptRun {
  return checkScript(ctx, {
    tag: 'CHKREL', target: image, script,
    args: [ctx.toolchain.value('OBJDUMP'), ctx.toolchain.value('NM'), image],
    alsoReads: ['scripts/relocs_check.sh'],
  });
}
