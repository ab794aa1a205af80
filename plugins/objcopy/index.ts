// objcopy: vmlinux from vmlinux.unstripped (seed 001's split). Plugins add flags through the `objcopy`
// hook (module hashes, relocation stripping). With no flag at all, as for a 6.12 tree, vmlinux is a
// byte-for-byte copy of vmlinux.unstripped: exactly the bytes kbuild's own vmlinux has.
import type { KpipePlugin, ObjcopySpec } from '../../core/plugin-api.js';
import { ARTIFACTS } from '../../core/plugin-api.js';
import { builtin, exec } from '../kbuild.js';
import { imageBuilder } from '../../core/planning/image-builder.js';

export const objcopyPlugin: KpipePlugin = {
  name: 'objcopy',
  description: 'vmlinux from vmlinux.unstripped, with the flags other plugins add',
  apply(hooks, ctx) {
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      const unstripped = ctx.artifacts.lookup(ARTIFACTS.unstrippedImage);
      if ('why' in unstripped) throw new Error(`nothing to copy from: ${unstripped.why}`);
      const initial: ObjcopySpec = { input: unstripped.path, output: ctx.stage, flags: [], inputs: [] };
      const spec = hooks.objcopy.for(ctx.stage).call(initial);
      const command = spec.flags.length === 0
        ? builtin(ctx.name, 'OBJCOPY', spec.output, 'copy', [spec.input, spec.output], 'no flags: a byte-for-byte copy')
        : exec(ctx.name, 'OBJCOPY', spec.output, [...ctx.toolchain.words('OBJCOPY'), ...spec.flags, spec.input, spec.output]);
      const step = builder.addStep(ctx.name, { commands: [command], inputs: [spec.input, ...spec.inputs], outputs: [spec.output] });
      hooks.afterObjcopy.for(ctx.stage).call(imageBuilder(step, spec.output));
      ctx.artifacts.publish(ARTIFACTS.image, spec.output);
    });
  },
};
