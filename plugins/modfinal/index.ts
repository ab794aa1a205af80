// modfinal: the final link of every module in modules.order (scripts/Makefile.modfinal): the `.mod.o`
// and `.module-common.o` compiles delegated to kbuild, then `ld -r` per module, then whatever plugins
// do to the .ko through `moduleLinked` (BTF [M]) on the temporary file. A .ko is therefore always made
// from its original objects: a rerun never runs pahole on a .ko that already has BTF (seed 002).
import { ARTIFACTS, type KpipePlugin, type PluginContext } from '../../core/plugin-api.js';
import { imageBuilder } from '../../core/planning/image-builder.js';
import { error, KpipeError } from '../../core/diagnostic.js';
import { missingInTree } from '../../core/planning/tree-kind.js';
import { exec, extmodPrefix, kbuildMake, MAKE_JOBS_OPTION, makeJobs, moduleLinkerScript, moduleObjects, moduleObjectsOf } from '../kbuild.js';

export const modfinalPlugin: KpipePlugin = {
  name: 'modfinal',
  description: 'links each module of modules.order into its .ko',
  options: {
    common_object: { description: "link .module-common.o into every module (Makefile.modfinal from 6.11 or so; 6.1's has none)", default: true },
    jobs: MAKE_JOBS_OPTION,
  },
  apply(hooks, ctx) {
    const common = ctx.options.common_object !== false;
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      const modules = moduleObjects(ctx);
      const lds = moduleLinkerScript(ctx);
      // External modules take the tree as it is (kbuild: "the kernel used as basis is considered read-only").
      // What restores it depends on whose tree it is: a package's must not be written by make.
      if (ctx.make.extmod && ctx.objtree && ctx.readFile(lds) === undefined) {
        throw new KpipeError([error('unprepared-tree', `${ctx.objtree} has no ${lds}: external modules are linked with it`, { hint: missingInTree(ctx.objtree, lds) })]);
      }
      if (lds === 'scripts/module.lds' && !ctx.make.extmod) {
        // kbuild's modules_prepare makes it, not the compile phase (vmlinux_o modpost).
        builder.addStep(ctx.name, {
          commands: [kbuildMake(ctx, 'LDS', lds, ['$(srctree)/scripts/Makefile.build', 'obj=scripts'])],
          inputs: [],
          outputs: [lds],
          delegated: true,
          kbuildInputs: 'outputs',
          // `make clean` leaves it for external modules; so does `kpipe clean` without --compile.
          compilePhase: true,
        });
      }
      const modObjects = modules.map((m) => m.replace(/\.o$/, '.mod.o'));
      const commonObject = common ? [`${extmodPrefix(ctx)}.module-common.o`] : [];
      builder.addStep(ctx.name, {
        id: `${ctx.stage}:mod.o`,
        commands: [kbuildMake(ctx, 'CC [M]', `${modObjects.length} .mod.o${common ? ', .module-common.o' : ''}`, ['$(srctree)/scripts/Makefile.modfinal', `-j${makeJobs(ctx)}`], [...modObjects, ...commonObject])],
        inputs: modules.map((m) => m.replace(/\.o$/, '.mod.c')),
        outputs: [...modObjects, ...commonObject],
        delegated: true,
        kbuildInputs: 'outputs',
      });
      for (const object of modules) {
        const ko = object.replace(/\.o$/, '.ko');
        const inputs = moduleObjectsOf(object, extmodPrefix(ctx), common);
        const t = ctx.toolchain;
        const link = exec(ctx.name, 'LD [M]', ko, [
          ...t.words('LD'), '-r', ...t.words('KBUILD_LDFLAGS'), ...t.words('KBUILD_LDFLAGS_MODULE'), ...t.words('LDFLAGS_MODULE'),
          '-T', lds, '-o', ko, ...inputs,
        ]);
        const step = builder.addStep(ctx.name, { commands: [link], inputs: [...inputs, lds], outputs: [ko] });
        ctx.artifacts.publish(ARTIFACTS.module(ko), ko);
        hooks.moduleLinked.for(ctx.stage).call(imageBuilder(step, ko));
      }
    });
  },
};
