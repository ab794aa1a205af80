// Small helpers every built-in plugin uses to speak kbuild: quiet labels, exec commands, and
// delegating a compile to kbuild itself.
import type { Command, PluginContext } from '../core/plugin-api.js';

export function exec(plugin: string, tag: string, target: string, argv: string[], extra: { stdout?: string; env?: Record<string, string>; note?: string; quietOnSuccess?: boolean } = {}): Command {
  const action: Command['action'] = { kind: 'exec', argv };
  if (extra.quietOnSuccess) action.quietOnSuccess = true;
  if (extra.stdout) action.stdout = extra.stdout;
  if (extra.env) action.env = extra.env;
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
 * the environment kbuild's top Makefile exports (captured once per tree, see core/toolchain.ts).
 */
export function kbuildMake(ctx: PluginContext, tag: string, label: string, makefileArgs: string[], targets: string[] = [label]): Command {
  const srctree = ctx.srctree ?? '$(srctree)';
  const argv = [ctx.make.make, '-s', '-f', ...makefileArgs.map((a) => a.replace('$(srctree)', srctree)), ...targets];
  const env = ctx.toolchain.kind === 'tree' ? { ...ctx.toolchain.kbuildEnv } : undefined;
  return exec(ctx.name, tag, label, argv, env ? { env, note: 'delegated to kbuild' } : { note: 'delegated to kbuild' });
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
 * scripts/link-vmlinux.sh's `mksysmap IN OUT`: `nm -n IN | sed -f $(srctree)/scripts/mksysmap > OUT`,
 * as two commands through a scratch file instead of a shell pipeline, so a failing nm is not hidden
 * behind sed's exit status. The sed script is the tree's own: it changes between kernel versions.
 */
export function mksysmap(ctx: PluginContext, input: string, output: string): { commands: Command[]; scratch: string; script: string[] } {
  const scratch = `${output}.nm`;
  const srctree = ctx.srctree ?? '$(srctree)';
  return {
    // The sed script is an input too (a source, so only when the source tree is known).
    script: ctx.srctree ? [`${ctx.srctree}/scripts/mksysmap`] : [],
    commands: [
      exec(ctx.name, 'NM', output, [...ctx.toolchain.words('NM'), '-n', input], { stdout: scratch }),
      continued(exec(ctx.name, 'NM', output, ['sed', '-f', `${srctree}/scripts/mksysmap`, scratch], { stdout: output })),
    ],
    scratch,
  };
}
