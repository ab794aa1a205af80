// kbuild-compile: kbuild's compile phase as a stage of its own (DESIGN.md section 4):
// `make KBUILD_MODULES=1 vmlinux_o modpost` leaves vmlinux.a, vmlinux.o, every module's .o and .mod.c,
// .vmlinux.export.c and Module.symvers, and no vmlinux. With it, `kpipe run -C out` is a whole kernel
// build: kbuild compiles, kpipe links. The plan reads what this step writes (modules.order, the thin
// archive's members), so kpipe runs it first and plans again; `--skip compile` leaves it to you.
import type { KpipePlugin } from '../../core/plugin-api.js';
import { error, KpipeError } from '../../core/diagnostic.js';
import { exec, extmodPrefix, MAKE_JOBS_OPTION, makeJobs } from '../kbuild.js';

export const kbuildCompilePlugin: KpipePlugin = {
  name: 'kbuild-compile',
  description: "kbuild's compile phase: make KBUILD_MODULES=1 vmlinux_o modpost",
  options: {
    jobs: MAKE_JOBS_OPTION,
    ask_make: {
      description:
        '"always": run make on every kpipe run; default "when-inputs-change": not while every file kbuild\'s .cmd records, Makefiles and configuration name, its tools and the environment are as after its last success',
      default: 'when-inputs-change',
    },
    narrow: {
      description:
        'with ask_make "when-inputs-change": when only sources and headers changed, true (default) asks kbuild\'s makefiles for the objects, archives and vmlinux.o they reach, not the whole traversal; false: the whole traversal',
      default: true,
    },
  },
  apply(hooks, ctx) {
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      const jobs = makeJobs(ctx);
      const askMake = ctx.options.ask_make ?? 'when-inputs-change';
      if (askMake !== 'always' && askMake !== 'when-inputs-change') {
        throw new KpipeError([error('bad-option', `${ctx.name}: ask_make is "always" or "when-inputs-change", not ${JSON.stringify(askMake)}`, { plugin: ctx.name })]);
      }
      if (ctx.make.extmod) {
        // `make M=DIR modpost`: compiles the external modules and runs modpost; the tree is not touched.
        const dir = extmodPrefix(ctx);
        builder.addStep(ctx.name, {
          id: `${ctx.stage}:M=modpost`,
          commands: [exec(ctx.name, 'MAKE', `M=${ctx.make.extmod} modpost`, [ctx.make.make, '-s', `-j${jobs}`, `M=${ctx.make.extmod}`, 'modpost'], { note: "kbuild's compile phase for external modules, delegated" })],
          inputs: [],
          outputs: [`${dir}modules.order`, `${dir}Module.symvers`],
          delegated: true,
          ...(askMake === 'when-inputs-change' ? { kbuildInputs: 'tree' as const } : {}),
          replan: true,
        });
        return;
      }
      const outputs = ['vmlinux.a', 'vmlinux.o', 'modules.order', 'Module.symvers'];
      if (ctx.kconfig.isEnabled('MODULES')) outputs.push('.vmlinux.export.c');
      const narrow = ctx.options.narrow ?? true;
      if (typeof narrow !== 'boolean') throw new KpipeError([error('bad-option', `${ctx.name}: narrow is true or false, not ${JSON.stringify(narrow)}`, { plugin: ctx.name })]);
      // The narrow make runs kbuild's sub-makefiles with the environment its top Makefile exports.
      const canNarrow = narrow && askMake === 'when-inputs-change' && ctx.srctree !== undefined && ctx.toolchain.kind === 'tree';
      builder.addStep(ctx.name, {
        id: `${ctx.stage}:vmlinux_o+modpost`,
        commands: [exec(ctx.name, 'MAKE', 'vmlinux_o modpost', [ctx.make.make, '-s', `-j${jobs}`, 'KBUILD_MODULES=1', 'vmlinux_o', 'modpost'], { note: "kbuild's compile phase, delegated" })],
        inputs: [],
        outputs,
        delegated: true,
        // A no-op make here is 7 to 10 s of kbuild reading its records again (core/state/kbuild-inputs.ts).
        ...(askMake === 'when-inputs-change' ? { kbuildInputs: 'tree' as const } : {}),
        ...(canNarrow ? { kbuildNarrow: { make: ctx.make.make, jobs, srctree: ctx.srctree!, env: ctx.toolchain.kbuildEnv, variables: ['KBUILD_MODULES=1'] } } : {}),
        replan: true,
      });
    });
  },
};
