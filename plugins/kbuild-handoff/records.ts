// kbuild-cmd: the saved commands kbuild keeps next to the images it links (`.vmlinux.cmd`,
// `.<module>.ko.cmd`), written by the steps that make the images, so that `make vmlinux modules`
// after `kpipe run` finds the command it would run unchanged and takes kpipe's files as they are.
// kbuild relinks a target when `savedcmd_TARGET` (`cmd_TARGET` before 6.2) differs from the command it would run now
// (Kbuild.include's `cmd-check`), or when it has no record at all, which is the case after a link
// kbuild did not do. The text is exactly what kbuild writes: vmlinux's through the tree's own fixdep
// (it appends the CONFIG_ options link-vmlinux.sh reads), a module's as Makefile.modfinal's printf.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { Command, ImageBuilder, KpipePlugin, PluginContext } from '../../core/plugin-api.js';
import { registerBuiltin, type BuiltinFunction } from '../../core/running/builtins.js';
import { builtin, continued, dotCmdFile, linkVmlinuxScript, makeCmd, moduleLinkCommand, moduleLinkerScript, postlinkMakefile, vmlinuxLinkCommand } from '../kbuild.js';

const FIXDEP = 'scripts/basic/fixdep';
export const FIXDEP_BUILTIN = 'kbuild-fixdep';

export const kbuildCmdPlugin: KpipePlugin = {
  name: 'kbuild-cmd',
  description: "kbuild's saved commands for vmlinux and the .ko files (.vmlinux.cmd, .<module>.ko.cmd)",
  options: {
    saved_prefix: { description: 'the variable a .cmd file saves the command in: "savedcmd" (6.2 on) or "cmd" (before)', default: 'savedcmd' },
    common_object: { description: "Makefile.modfinal links .module-common.o into each module (as modfinal's option of the same name)", default: true },
    module_postlink: { description: "Makefile.modfinal's module link runs the arch's Makefile.postlink after ld -r (6.1's does; 6.12's not)", default: false },
    module_lds_objtree: { description: 'Makefile.modfinal names the module linker script $(objtree)/scripts/module.lds (7.x), not scripts/module.lds', default: false },
    image_flow: { description: '"link": link-vmlinux.sh writes vmlinux, whose record is the link (before 6.15); "unstripped": it writes vmlinux.unstripped, and vmlinux, modules.builtin.modinfo and modules.builtin are Makefile.vmlinux\'s objcopy, sed and tr, each with its record (6.15 on)', default: 'link' },
  },
  apply(hooks, ctx) {
    const prefix = ctx.options.saved_prefix ?? 'savedcmd';
    if (prefix !== 'savedcmd' && prefix !== 'cmd') throw new Error(`option saved_prefix must be "savedcmd" or "cmd", not ${JSON.stringify(prefix)}`);
    const flow = imageFlow(ctx);
    const shape = { common: ctx.options.common_object !== false, postlink: ctx.options.module_postlink === true };
    registerFixdepBuiltin();
    // A tree kbuild did not prepare (no fixdep: a test's fake tree) has nobody to hand off to.
    if (ctx.objtree !== undefined && !fs.existsSync(path.join(ctx.objtree, FIXDEP))) return;
    // The image link-vmlinux.sh writes: it writes `.IMAGE.d` naming itself, and if_changed_dep runs
    // fixdep on it. Before 6.15 that image is vmlinux (kpipe's objcopy is a copy of the link); from
    // 6.15 it is vmlinux.unstripped, named on the command line ("$@"), and vmlinux is an objcopy.
    const linkRecord = (image: ImageBuilder, target?: string) => {
      const depfile = `${dotCmdFile(image.path).replace(/\.cmd$/, '.d')}`;
      const record = dotCmdFile(image.path);
      const command = vmlinuxLinkCommand(ctx, postlinkExists(ctx), target);
      image.produce(ctx.name, continued(builtin(ctx.name, 'CMD', record, 'write-file', [depfile, `${image.path}: ${linkVmlinuxScript(ctx)}\n`])), [], [], [depfile]);
      const fixdep = builtin(ctx.name, 'CMD', record, FIXDEP_BUILTIN, [depfile, image.path, makeCmd(command), record], "kbuild's saved link command, through the tree's fixdep");
      image.produce(ctx.name, continued(fixdep), [record], ctx.srctree ? [FIXDEP, linkVmlinuxScript(ctx)] : [FIXDEP]);
    };
    const saved = (target: string, command: string) => `${prefix}_${target} := ${makeCmd(command)}\n`;
    if (flow === 'link') {
      hooks.afterObjcopy.for(ctx.stage).tap(ctx.name, (image) => linkRecord(image));
    } else {
      hooks.afterLink.for(ctx.stage).tap(ctx.name, (image) => linkRecord(image, image.path));
      // Makefile.vmlinux's `vmlinux: vmlinux.unstripped` with if_changed,strip_relocs: the objcopy
      // plugin's commands are that recipe, word for word.
      hooks.afterObjcopy.for(ctx.stage).tap(ctx.name, (image) => {
        const text = saved(image.path, recipeText(image.step.commands.filter((c) => c.plugin === image.step.plugin)));
        image.produce(ctx.name, continued(builtin(ctx.name, 'CMD', dotCmdFile(image.path), 'write-file', [dotCmdFile(image.path), text], "kbuild's saved objcopy command")), [dotCmdFile(image.path)]);
      });
      // modules.builtin.modinfo and modules.builtin, when a plugin of this stage made them (planned
      // after the stage's other plugins, so their files are published by then).
      hooks.stage.for(ctx.stage).tap({ name: ctx.name, stage: 100 }, (builder) => {
        for (const [file, command] of builtinListCommands(ctx)) {
          const found = ctx.artifacts.lookup(file);
          if ('why' in found || found.stage !== ctx.stage) continue;
          const record = dotCmdFile(file);
          builder.addStep(ctx.name, {
            id: `${ctx.stage}:${record}`,
            commands: [continued(builtin(ctx.name, 'CMD', record, 'write-file', [record, saved(file, command)], `kbuild's saved command for ${file}`))],
            // After the file it describes: make must never see the record before the file.
            inputs: [file],
            outputs: [record],
          });
        }
      });
    }
    // Each module: Makefile.modfinal's if_changed(_except) records `savedcmd_KO := cmd_ld_ko_o`.
    let lds: string | undefined;
    hooks.moduleLinked.for(ctx.stage).tap(ctx.name, (module) => {
      lds ??= ctx.options.module_lds_objtree === true ? `${ctx.toolchain.value('objtree') || '.'}/${moduleLinkerScript(ctx)}` : moduleLinkerScript(ctx);
      const ko = module.path;
      const text = saved(ko, moduleLinkCommand(ctx, ko, ko.replace(/\.ko$/, '.o'), lds, shape));
      module.produce(ctx.name, continued(builtin(ctx.name, 'CMD', dotCmdFile(ko), 'write-file', [dotCmdFile(ko), text], "kbuild's saved link command")), [dotCmdFile(ko)]);
    });
  },
};

export type ImageFlow = 'link' | 'unstripped';

/** The `image_flow` option (kbuild-cmd's and kbuild-mtime's): which image link-vmlinux.sh writes. */
export function imageFlow(ctx: PluginContext): ImageFlow {
  const flow = ctx.options.image_flow ?? 'link';
  if (flow !== 'link' && flow !== 'unstripped') throw new Error(`option image_flow must be "link" or "unstripped", not ${JSON.stringify(flow)}`);
  return flow;
}

/**
 * Makefile.vmlinux's recipes for the lists of built-in modules (6.15 on), as make expands them:
 * `cmd_modules_builtin_modinfo` (cmd_objcopy with OBJCOPYFLAGS_modules.builtin.modinfo, then the sed
 * and chmod) and `cmd_modules_builtin`.
 */
function builtinListCommands(ctx: PluginContext): [string, string][] {
  const t = ctx.toolchain;
  const modinfo = 'modules.builtin.modinfo';
  return [
    [modinfo, `${t.value('OBJCOPY')} ${t.value('OBJCOPYFLAGS')} -j .modinfo -O binary vmlinux.unstripped ${modinfo}; sed -i 's/\\x00\\+$/\\x00/g' ${modinfo}; chmod -x ${modinfo}`],
    ['modules.builtin', `tr '\\0' '\\n' < ${modinfo} | sed -n 's/^[[:alnum:]:_]*\\.file=//p' | tr ' ' '\\n' | uniq | sed -e 's:^:kernel/:' -e 's/$/.ko/' > modules.builtin`],
  ];
}

/**
 * A recipe as make expands it, from the commands that run it: words joined by spaces, commands by
 * `; `. A word with a shell pattern in it is quoted as the makefile quotes it, after its `=` when it
 * has one (`--strip-unneeded-symbol='__mod_device_table__*'`).
 */
export function recipeText(commands: readonly Command[]): string {
  const word = (w: string) => {
    if (!/[*?[\]!]/.test(w)) return w;
    const eq = w.indexOf('=');
    return eq >= 0 ? `${w.slice(0, eq + 1)}'${w.slice(eq + 1)}'` : `'${w}'`;
  };
  return commands.map((c) => (c.action.kind === 'exec' ? c.action.argv.map(word).join(' ') : `kpipe builtin ${c.action.name}`)).join('; ');
}

function postlinkExists(ctx: PluginContext): boolean {
  const file = postlinkMakefile(ctx);
  return file !== undefined && fs.existsSync(file);
}

export function registerFixdepBuiltin(): void {
  registerBuiltin(FIXDEP_BUILTIN, fixdep);
}

/**
 * `kbuild-fixdep DEPFILE TARGET CMDLINE OUTPUT`: `scripts/basic/fixdep DEPFILE TARGET CMDLINE > OUTPUT`,
 * as Kbuild.include's cmd_and_fixdep runs it. A builtin rather than a plain command because TARGET is
 * the image this very step writes: the executor would point an argv word naming it at the temporary,
 * and fixdep would record the temporary's name.
 */
const fixdep: BuiltinFunction = async (args, ctx) => {
  if (args.length !== 4) throw new Error(`${FIXDEP_BUILTIN}: expected DEPFILE TARGET CMDLINE OUTPUT, got ${args.length} argument(s)`);
  const [depfile, target, cmdline, output] = args as [string, string, string, string];
  const out = await fs.promises.open(ctx.resolve(output), 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(path.join(ctx.objtree, FIXDEP), [depfile, target, cmdline], {
        cwd: ctx.objtree,
        env: ctx.env ?? process.env,
        stdio: ['ignore', out.fd, 'pipe'],
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      let stderr = '';
      child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${FIXDEP} exited ${code}: ${stderr.trim()}`))));
    });
  } finally {
    await out.close();
  }
};
