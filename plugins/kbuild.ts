// Small helpers every built-in plugin uses to speak kbuild: quiet labels, exec commands, and
// delegating a compile to kbuild itself.
import fs from 'node:fs';
import os from 'node:os';
import { modulesOrderObjects } from '../core/state/kbuild-record.js';
import type { Command, PluginContext } from '../core/plugin-api.js';

export function exec(plugin: string, tag: string, target: string, argv: string[], extra: { stdout?: string; env?: Record<string, string>; envName?: string; note?: string; quietOnSuccess?: boolean } = {}): Command {
  const action: Command['action'] = { kind: 'exec', argv };
  if (extra.quietOnSuccess) action.quietOnSuccess = true;
  if (extra.stdout) action.stdout = extra.stdout;
  if (extra.env) action.env = extra.env;
  if (extra.envName) action.envName = extra.envName;
  const command: Command = { label: { tag, target }, plugin, action };
  if (extra.note) command.note = extra.note;
  return command;
}

export function builtin(plugin: string, tag: string, target: string, name: string, args: string[], note?: string): Command {
  const command: Command = { label: { tag, target }, plugin, action: { kind: 'builtin', name, args } };
  if (note) command.note = note;
  return command;
}

/**
 * `make -f $(srctree)/scripts/Makefile.build obj=DIR TARGET`, run like link-vmlinux.sh runs it: with
 * the environment kbuild's top Makefile exports (captured once per tree, see core/planning/toolchain.ts).
 */
export function kbuildMake(ctx: PluginContext, tag: string, label: string, makefileArgs: string[], targets: string[] = [label]): Command {
  const srctree = ctx.srctree ?? '$(srctree)';
  const argv = [ctx.make.make, '-s', '-f', ...makefileArgs.map((a) => a.replace('$(srctree)', srctree)), ...targets];
  const env = ctx.toolchain.kind === 'tree' ? { ...ctx.toolchain.kbuildEnv } : undefined;
  // -v names the environment rather than printing its 150-odd variables (issue 16, point 7).
  const envName = `kbuild's exported environment (${Object.keys(env ?? {}).length} variables from make run-command, kept in .kpipe/toolchain.json)`;
  return exec(ctx.name, tag, label, argv, env ? { env, envName, note: 'delegated to kbuild' } : { note: 'delegated to kbuild' });
}

/** The `jobs` option of every plugin that runs a make of its own (with makeJobs below). */
export const MAKE_JOBS_OPTION = { description: "make's -j (default: the number of cores)" };

/** make's -j for a plugin's delegated make: its `jobs` option, else the number of cores. */
export function makeJobs(ctx: PluginContext): number {
  return typeof ctx.options.jobs === 'number' ? ctx.options.jobs : os.availableParallelism();
}

/** Tools built in the output tree are run by path (`./scripts/kallsyms`), never looked up on PATH. */
export function treeTool(relative: string): string {
  return relative.startsWith('/') || relative.startsWith('./') ? relative : `./${relative}`;
}

/** A command that continues the previous one's quiet line (no line of its own). */
export function continued<C extends Omit<Command, 'plugin'>>(command: C): Omit<C, 'label'> {
  const { label: _label, ...rest } = command;
  return rest;
}

/**
 * How the tree's scripts/mksysmap is run: a sed script (`nm -n IN | sed -f scripts/mksysmap > OUT`,
 * from 6.4), or before that a shell script run as `$(CONFIG_SHELL) scripts/mksysmap IN OUT`. The
 * `mksysmap` option of the plugins that make symbol maps (kbuild.pipeline sets it per kernel line).
 */
export type MksysmapStyle = 'sed' | 'shell';

export function mksysmapStyle(ctx: PluginContext): MksysmapStyle {
  const style = ctx.options.mksysmap ?? 'sed';
  if (style !== 'sed' && style !== 'shell') throw new Error(`option mksysmap must be "sed" or "shell", not ${JSON.stringify(style)}`);
  return style;
}

export const MKSYSMAP_OPTION = {
  description: 'how scripts/mksysmap runs: "sed" (nm -n | sed -f, from 6.4) or "shell" (the older shell script)',
  default: 'sed',
} as const;

/**
 * scripts/link-vmlinux.sh's `mksysmap IN OUT`. The sed form runs as two commands through a scratch
 * file instead of a shell pipeline, so a failing nm is not hidden behind sed's exit status. The
 * script is the tree's own: it changes between kernel versions. `commands[last]` writes OUT.
 */
export function mksysmap(ctx: PluginContext, input: string, output: string, style: MksysmapStyle = mksysmapStyle(ctx)): { commands: Command[]; scratch: string[]; script: string[] } {
  const srctree = ctx.srctree ?? '$(srctree)';
  // The script is an input too (a source, so only when the source tree is known).
  const script = ctx.srctree ? [`${ctx.srctree}/scripts/mksysmap`] : [];
  if (style === 'shell') {
    // `$NM -n $1 | grep -v ... > $2`: NM comes from the environment kbuild exports.
    const shell = ctx.toolchain.words('CONFIG_SHELL');
    const env = { NM: ctx.toolchain.value('NM') };
    return { script, scratch: [], commands: [exec(ctx.name, 'NM', output, [...(shell.length > 0 ? shell : ['sh']), `${srctree}/scripts/mksysmap`, input, output], { env })] };
  }
  const scratch = `${output}.nm`;
  return {
    script,
    commands: [
      exec(ctx.name, 'NM', output, [...ctx.toolchain.words('NM'), '-n', input], { stdout: scratch }),
      continued(exec(ctx.name, 'NM', output, ['sed', '-f', `${srctree}/scripts/mksysmap`, scratch], { stdout: output })),
    ],
    scratch: [scratch],
  };
}

/**
 * Where module files live: `M=DIR/` for external modules (kbuild's extmod_prefix, absolute), else
 * the output tree itself ('').
 */
export function extmodPrefix(ctx: PluginContext): string {
  return ctx.make.extmod ? `${ctx.make.extmod}/` : '';
}

/**
 * The objects named by modules.order (kbuild's MODORDER: DIR/modules.order with `M=DIR`); without a
 * tree, one stand-in so explain can show the shape.
 */
export function moduleObjects(ctx: PluginContext): string[] {
  const order = ctx.readFile(`${extmodPrefix(ctx)}modules.order`);
  if (order === undefined) return ctx.objtree ? [] : [`${extmodPrefix(ctx)}<module>.o`];
  return modulesOrderObjects(order);
}

// ── What kbuild records about the link (the hand-off: `make` after `kpipe run` takes kpipe's work) ──

/**
 * Kbuild.include's `make-cmd`: a command as `savedcmd_TARGET := ...` holds it in a `.cmd` file, which
 * make reads back as a makefile (`$` doubled, `#` as `$(pound)`). The shell quoting (`escsq`) is not
 * part of the file: kbuild needs it only to pass the text through `printf` or fixdep's argv.
 */
export function makeCmd(command: string): string {
  return command.replace(/\$/g, '$$$$').replace(/#/g, '$(pound)');
}

/**
 * The objects of scripts/Makefile.modfinal's `%.ko: %.o %.mod.o .module-common.o`, in its order;
 * without `.module-common.o` when the modfinal plugin's `common_object` is false (6.1's modfinal).
 */
export function moduleObjectsOf(object: string, prefix = '', common = true): string[] {
  return [object, object.replace(/\.o$/, '.mod.o'), ...(common ? [`${prefix}.module-common.o`] : [])];
}

/**
 * Makefile.modfinal's ARCH_MODULE_LDS: scripts/module.lds (generated from the source tree's
 * scripts/module.lds.S), or the arch's own arch/$(SRCARCH)/module.lds where an arch ships one instead.
 */
export function moduleLinkerScript(ctx: PluginContext): string {
  const arch = ctx.kconfig.get('ARCH') ?? '$(SRCARCH)';
  const archScript = `arch/${arch}/module.lds`;
  return ctx.readFile(archScript) !== undefined ? archScript : 'scripts/module.lds';
}

/**
 * Makefile.modfinal's `cmd_ld_ko_o` as make expands it (one space where the recipe continues a line,
 * so an empty LDFLAGS_MODULE leaves two): the text `.KO.cmd` records, not an argv.
 */
export function moduleLinkCommand(ctx: PluginContext, ko: string, object: string, lds: string, shape: ModuleLinkShape = { common: true, postlink: false }): string {
  const t = ctx.toolchain;
  const objects = moduleObjectsOf(object, extmodPrefix(ctx), shape.common).join(' ');
  const link = `${t.value('LD')} -r ${t.value('KBUILD_LDFLAGS')} ${t.value('KBUILD_LDFLAGS_MODULE')} ${t.value('LDFLAGS_MODULE')} -T ${lds} -o ${ko} ${objects}`;
  if (!shape.postlink) return link;
  const makefile = postlinkMakefile(ctx);
  return `${link};${postlinkPass(ctx, makefile !== undefined && fs.existsSync(makefile), ko)}`;
}

/**
 * What Makefile.modfinal's `cmd_ld_ko_o` links and runs, which changed across kernel lines:
 * `common`, `.module-common.o` among the objects (6.11 on); `postlink`, the arch's Makefile.postlink
 * run on each module after `ld -r` (`; $(if $(ARCH_POSTLINK), $(MAKE) -f $(ARCH_POSTLINK) $@, true)`,
 * before 6.3 or so: 6.1 has it, 6.12 not).
 */
export interface ModuleLinkShape {
  common: boolean;
  postlink: boolean;
}

/** `$(srctree)/FILE` as make names a file it found through VPATH: relative when building in the source tree. */
function sourceFile(ctx: PluginContext, file: string): string {
  const srctree = ctx.toolchain.value('srctree');
  return srctree === '' || srctree === '.' ? file : `${srctree}/${file}`;
}

/** scripts/Makefile.vmlinux's `vmlinux: scripts/link-vmlinux.sh vmlinux.o $(KBUILD_LDS)` and the rest. */
export function vmlinuxPrerequisites(ctx: PluginContext, flow: 'link' | 'unstripped' = 'link'): string[] {
  const prerequisites = [linkVmlinuxScript(ctx), 'vmlinux.o', ctx.toolchain.value('KBUILD_LDS')];
  if (ctx.kconfig.isEnabled('MODULES') || flow === 'unstripped') prerequisites.push('.vmlinux.export.o');
  if (ctx.kconfig.isEnabled('BUILDTIME_TABLE_SORT')) prerequisites.push('scripts/sorttable');
  // `vmlinux.unstripped: $(RESOLVE_BTFIDS) $(srctree)/scripts/gen-btf.sh` (7.x's detached BTF).
  if (flow === 'unstripped' && ctx.kconfig.isEnabled('DEBUG_INFO_BTF')) prerequisites.push(ctx.toolchain.value('RESOLVE_BTFIDS'), sourceFile(ctx, 'scripts/gen-btf.sh'));
  return prerequisites;
}

/** `$<` of Makefile.vmlinux's link rule, as link-vmlinux.sh sees itself (`$0`). */
export function linkVmlinuxScript(ctx: PluginContext): string {
  return sourceFile(ctx, 'scripts/link-vmlinux.sh');
}

/**
 * Makefile.vmlinux's `cmd_link_vmlinux` as make expands it: link-vmlinux.sh with LD, KBUILD_LDFLAGS and
 * LDFLAGS_vmlinux, then the arch's Makefile.postlink when the source tree has one, else `true` (the
 * `$(if ...)` keeps the space before either branch: two spaces after the `;`).
 */
export function vmlinuxLinkCommand(ctx: PluginContext, postlinkExists: boolean, target?: string): string {
  const t = ctx.toolchain;
  // From 6.15 the image is named on the command line ("$@": vmlinux.unstripped).
  const link = `${linkVmlinuxScript(ctx)} "${t.value('LD')}" "${t.value('KBUILD_LDFLAGS')}" "${t.value('LDFLAGS_vmlinux')}"${target === undefined ? '' : ` "${target}"`}`;
  return `${link};${postlinkPass(ctx, postlinkExists, target ?? 'vmlinux')}`;
}

/**
 * `$(if $(ARCH_POSTLINK), $(MAKE) -f $(ARCH_POSTLINK) $@, true)` as make expands it after a link's
 * `;`: make keeps the space after each comma, so either branch comes with a leading space.
 */
function postlinkPass(ctx: PluginContext, postlinkExists: boolean, target: string): string {
  const t = ctx.toolchain;
  return postlinkExists ? `  ${t.value('MAKE')} -f ${sourceFile(ctx, `arch/${t.value('SRCARCH')}/Makefile.postlink`)} ${target}` : '  true';
}

/** Where the arch's post-link makefile would be, for the caller to test (absolute when the source tree is known). */
export function postlinkMakefile(ctx: PluginContext): string | undefined {
  return ctx.srctree ? `${ctx.srctree}/arch/${ctx.toolchain.value('SRCARCH')}/Makefile.postlink` : undefined;
}

/** kbuild's record of how TARGET was made: `dir/.name.cmd` (Kbuild.include's `dot-target`). */
export { kbuildRecordOf as dotCmdFile } from '../core/state/kbuild-record.js';
