// objcopy: vmlinux from vmlinux.unstripped (seed 001's split). Plugins add flags through the `objcopy`
// hook (module hashes, relocation stripping). With no flag at all, as for a 6.12 tree, vmlinux is a
// byte-for-byte copy of vmlinux.unstripped: exactly the bytes kbuild's own vmlinux has.
import type { KpipePlugin, ObjcopySpec } from '../../core/plugin-api.js';
import { ARTIFACTS } from '../../core/plugin-api.js';
import { builtin, continued, exec } from '../kbuild.js';
import { imageBuilder } from '../../core/planning/image-builder.js';

export const objcopyPlugin: KpipePlugin = {
  name: 'objcopy',
  description: 'vmlinux from vmlinux.unstripped, with the flags other plugins add',
  options: {
    remove_sections: { description: "sections vmlinux leaves out, space-separated (7.x's Makefile.vmlinux: \".modinfo\"): first marked noload, then removed" },
    strip_symbols: { description: 'symbol patterns stripped when unneeded, space-separated (7.x: "__mod_device_table__*")' },
  },
  apply(hooks, ctx) {
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      const unstripped = ctx.artifacts.lookup(ARTIFACTS.unstrippedImage);
      if ('why' in unstripped) throw new Error(`nothing to copy from: ${unstripped.why}`);
      const list = (option: string) => (typeof ctx.options[option] === 'string' ? String(ctx.options[option]).split(/\s+/).filter(Boolean) : []);
      const remove = list('remove_sections');
      const symbols = list('strip_symbols');
      // Makefile.vmlinux's cmd_strip_relocs, first half: the sections to go lose their PT_LOAD flag
      // (GNU objcopy warns about empty loadable segments otherwise).
      const initial: ObjcopySpec = { input: unstripped.path, output: ctx.stage, flags: remove.map((r) => ['--set-section-flags', `${r}=noload`]).flat(), inputs: [] };
      const spec = hooks.objcopy.for(ctx.stage).call(initial);
      const command = spec.flags.length === 0
        ? builtin(ctx.name, 'OBJCOPY', spec.output, 'copy', [spec.input, spec.output], 'no flags: a byte-for-byte copy')
        : exec(ctx.name, 'OBJCOPY', spec.output, [...ctx.toolchain.words('OBJCOPY'), ...spec.flags, spec.input, spec.output]);
      const commands = [command];
      if (remove.length > 0 || symbols.length > 0) {
        // ... and its second half, on the copy: `--remove-section=` each, `-w --strip-unneeded-symbol=` each.
        const argv = [...ctx.toolchain.words('OBJCOPY'), ...remove.map((r) => `--remove-section=${r}`), ...(symbols.length > 0 ? ['-w', ...symbols.map((p) => `--strip-unneeded-symbol=${p}`)] : []), spec.output];
        commands.push({ ...continued(exec(ctx.name, 'OBJCOPY', spec.output, argv)), plugin: ctx.name, action: { kind: 'exec', argv, inPlace: spec.output } });
      }
      const step = builder.addStep(ctx.name, { commands, inputs: [spec.input, ...spec.inputs], outputs: [spec.output] });
      hooks.afterObjcopy.for(ctx.stage).call(imageBuilder(step, spec.output));
      ctx.artifacts.publish(ARTIFACTS.image, spec.output);
    });
  },
};
