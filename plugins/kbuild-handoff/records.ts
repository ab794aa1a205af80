// kbuild-cmd: the saved commands kbuild keeps next to the images it links (`.vmlinux.cmd`,
// `.<module>.ko.cmd`), written by the steps that make the images, so that `make vmlinux modules`
// after `kpipe run` finds the command it would run unchanged and takes kpipe's files as they are.
// kbuild relinks a target when `savedcmd_TARGET` differs from the command it would run now
// (Kbuild.include's `cmd-check`), or when it has no record at all, which is the case after a link
// kbuild did not do. The text is exactly what kbuild writes: vmlinux's through the tree's own fixdep
// (it appends the CONFIG_ options link-vmlinux.sh reads), a module's as Makefile.modfinal's printf.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { KpipePlugin, PluginContext } from '../../core/plugin-api.js';
import { registerBuiltin, type BuiltinFunction } from '../../core/running/builtins.js';
import { builtin, continued, dotCmdFile, linkVmlinuxScript, makeCmd, moduleLinkCommand, moduleLinkerScript, postlinkMakefile, vmlinuxLinkCommand } from '../kbuild.js';

const FIXDEP = 'scripts/basic/fixdep';
export const FIXDEP_BUILTIN = 'kbuild-fixdep';

export const kbuildCmdPlugin: KpipePlugin = {
  name: 'kbuild-cmd',
  description: "kbuild's saved commands for vmlinux and the .ko files (.vmlinux.cmd, .<module>.ko.cmd)",
  apply(hooks, ctx) {
    registerFixdepBuiltin();
    // A tree kbuild did not prepare (no fixdep: a test's fake tree) has nobody to hand off to.
    if (ctx.objtree !== undefined && !fs.existsSync(path.join(ctx.objtree, FIXDEP))) return;
    // vmlinux: link-vmlinux.sh writes `.vmlinux.d` naming itself; if_changed_dep runs fixdep on it.
    hooks.afterObjcopy.for(ctx.stage).tap(ctx.name, (image) => {
      const depfile = `${dotCmdFile(image.path).replace(/\.cmd$/, '.d')}`;
      const record = dotCmdFile(image.path);
      const command = vmlinuxLinkCommand(ctx, postlinkExists(ctx));
      image.produce(ctx.name, continued(builtin(ctx.name, 'CMD', record, 'write-file', [depfile, `${image.path}: ${linkVmlinuxScript(ctx)}\n`])), [], [], [depfile]);
      const fixdep = builtin(ctx.name, 'CMD', record, FIXDEP_BUILTIN, [depfile, image.path, makeCmd(command), record], "kbuild's saved link command, through the tree's fixdep");
      image.produce(ctx.name, continued(fixdep), [record], ctx.srctree ? [FIXDEP, linkVmlinuxScript(ctx)] : [FIXDEP]);
    });
    // Each module: Makefile.modfinal's if_changed_except records `savedcmd_KO := cmd_ld_ko_o`.
    let lds: string | undefined;
    hooks.moduleLinked.for(ctx.stage).tap(ctx.name, (module) => {
      lds ??= moduleLinkerScript(ctx);
      const ko = module.path;
      const text = `savedcmd_${ko} := ${makeCmd(moduleLinkCommand(ctx, ko, ko.replace(/\.ko$/, '.o'), lds))}\n`;
      module.produce(ctx.name, continued(builtin(ctx.name, 'CMD', dotCmdFile(ko), 'write-file', [dotCmdFile(ko), text], "kbuild's saved link command")), [dotCmdFile(ko)]);
    });
  },
};

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
