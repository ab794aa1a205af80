// modules-builtin: modules.builtin.modinfo and modules.builtin from the linked image, as
// scripts/Makefile.vmlinux makes them from vmlinux.unstripped on newer kernels (6.12 made them from
// vmlinux.o in the compile phase, so the shipped pipeline uses this plugin on 7.2 only):
//   modules.builtin.modinfo: `objcopy -j .modinfo -O binary`, then `sed -i 's/\x00\+$/\x00/g'` (the
//     padding NULs after the last string confuse kmod) and `chmod -x`;
//   modules.builtin: the `.file=` of each entry as `kernel/DIR/NAME.ko` (tr, sed, uniq in kbuild).
// The text edits are builtins: byte work done in-process, no GNU sed.
import fs from 'node:fs';
import type { KpipePlugin } from '../../core/plugin-api.js';
import { ARTIFACTS } from '../../core/plugin-api.js';
import { registerBuiltin, type BuiltinFunction } from '../../core/running/builtins.js';
import { builtin, continued, exec } from '../kbuild.js';

const TRIM_BUILTIN = 'modules-builtin-trim';
const LIST_BUILTIN = 'modules-builtin-list';
const MODINFO = 'modules.builtin.modinfo';
const LIST = 'modules.builtin';

export const modulesBuiltinPlugin: KpipePlugin = {
  name: 'modules-builtin',
  description: 'modules.builtin.modinfo and modules.builtin from the .modinfo of vmlinux.unstripped',
  builtins: { [TRIM_BUILTIN]: trimModinfo, [LIST_BUILTIN]: listModules },
  apply(hooks, ctx) {
    registerModulesBuiltinBuiltins();
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      const image = ctx.artifacts.lookup(ARTIFACTS.unstrippedImage);
      if ('why' in image) throw new Error(`no image to read .modinfo from: ${image.why}`);
      builder.addStep(ctx.name, {
        commands: [
          exec(ctx.name, 'GEN', MODINFO, [...ctx.toolchain.words('OBJCOPY'), '-j', '.modinfo', '-O', 'binary', image.path, MODINFO]),
          continued(builtin(ctx.name, 'GEN', MODINFO, TRIM_BUILTIN, [MODINFO])),
        ],
        inputs: [image.path],
        outputs: [MODINFO],
      });
      builder.addStep(ctx.name, {
        commands: [builtin(ctx.name, 'GEN', LIST, LIST_BUILTIN, [MODINFO, LIST])],
        inputs: [MODINFO],
        outputs: [LIST],
      });
      // Under their own names, for the hand-off's records of them (kbuild-cmd).
      ctx.artifacts.publish(MODINFO, MODINFO);
      ctx.artifacts.publish(LIST, LIST);
    });
  },
};

export function registerModulesBuiltinBuiltins(): void {
  registerBuiltin(TRIM_BUILTIN, trimModinfo);
  registerBuiltin(LIST_BUILTIN, listModules);
}

/** `sed -i 's/\x00\+$/\x00/g' FILE; chmod -x FILE`: each line's trailing NULs become one. */
async function trimModinfo(...[args, ctx]: Parameters<BuiltinFunction>): Promise<void> {
  const file = ctx.resolve(args[0]!);
  const text = (await fs.promises.readFile(file)).toString('latin1');
  await fs.promises.writeFile(file, Buffer.from(text.split('\n').map((line) => line.replace(/\0+$/, '\0')).join('\n'), 'latin1'));
  const { mode } = await fs.promises.stat(file);
  await fs.promises.chmod(file, mode & ~0o111);
}

/**
 * `tr '\0' '\n' < MODINFO | sed -n 's/^[[:alnum:]:_]*\.file=//p' | tr ' ' '\n' | uniq |
 *  sed -e 's:^:kernel/:' -e 's/$/.ko/' > LIST`
 */
async function listModules(...[args, ctx]: Parameters<BuiltinFunction>): Promise<void> {
  const text = (await fs.promises.readFile(ctx.resolve(args[0]!))).toString('latin1');
  const files = text.split(/[\0\n]/).flatMap((entry) => {
    const m = /^[A-Za-z0-9:_]*\.file=(.*)$/s.exec(entry);
    return m ? [m[1]!] : [];
  });
  const lines = files.map((f) => `${f}\n`).join('').replace(/ /g, '\n').split('\n').slice(0, -1);
  const unique = lines.filter((line, i) => i === 0 || line !== lines[i - 1]);
  await fs.promises.writeFile(ctx.resolve(args[1]!), Buffer.from(unique.map((l) => `kernel/${l}.ko\n`).join(''), 'latin1'));
}
