// kallsyms: the symbol table linked into vmlinux, in link-vmlinux.sh's passes:
//   0) an empty table, so the first link has a __kallsyms section at all;
//   1) symbols of .tmp_vmlinux1 -> a table of the right size;
//   2) symbols of .tmp_vmlinux2, linked with that table -> the right addresses;
//   3) only if pass 2's table differs from pass 1's (the table itself moved symbols): one more pass,
//      decided at run time by the `kallsyms-extra-pass` builtin, in-process (size, then `nm -n`).
// Then System.map must equal the last pass's map, or the image is inconsistent.
import type { Command, KpipePlugin, LinkSession, PluginContext, StageBuilder } from '../../core/plugin-api.js';
import { AFTER_LINK_ORDER, ARTIFACTS, LINK_OBJECT_ORDER, LINK_READER_ORDER } from '../../core/plugin-api.js';
import { exec, builtin, mksysmap, treeTool } from '../kbuild.js';
import { registerExtraPassBuiltin, EXTRA_PASS_BUILTIN } from './extra-pass.js';

export const kallsymsPlugin: KpipePlugin = {
  name: 'kallsyms',
  description: 'the kernel symbol table (CONFIG_KALLSYMS), in two or three link passes',
  options: {
    extra_pass: { description: 'always run the third pass (KALLSYMS_EXTRA_PASS=1)', default: false },
  },
  apply(hooks, ctx) {
    registerExtraPassBuiltin();
    let lastSyms: string | undefined;
    hooks.beforeLinks.for(ctx.stage).tap(ctx.name, (session) => {
      addTable(ctx, session.builder, '/dev/null', '.tmp_vmlinux0.kallsyms', 'pass 0: an empty table');
      session.setLinkObject('kallsyms', '.tmp_vmlinux0.kallsyms.o', LINK_OBJECT_ORDER.SYMBOLS);
      session.requestTemporaryLink({
        plugin: ctx.name,
        debugInfo: 'not-needed',
        purpose: 'kallsyms pass 1',
        order: LINK_READER_ORDER.SYMBOLS,
        onLinked(image1, s1) {
          pass(ctx, s1, image1.path, 1);
          s1.requestTemporaryLink({
            plugin: ctx.name,
            debugInfo: 'not-needed',
            purpose: 'kallsyms pass 2',
            order: LINK_READER_ORDER.SYMBOLS,
            onLinked(image2, s2) {
              pass(ctx, s2, image2.path, 2);
              lastSyms = extraPass(ctx, s2);
            },
          });
        },
      });
    });
    // link-vmlinux.sh's "step a": System.map must equal the map of the last pass.
    hooks.afterLink.for(ctx.stage).tap({ name: ctx.name, stage: AFTER_LINK_ORDER.CHECKS }, (image) => {
      const sysmap = ctx.artifacts.lookup(ARTIFACTS.systemMap);
      if ('why' in sysmap || !lastSyms) return;
      image.produce(ctx.name, {
        label: { tag: 'CHECK', target: 'System.map' },
        action: { kind: 'builtin', name: 'files-equal', args: [sysmap.path, lastSyms, 'Inconsistent kallsyms data: System.map differs from the last kallsyms pass; try `use kallsyms(extra_pass = true)` (KALLSYMS_EXTRA_PASS=1) as a workaround'] },
        note: 'System.map must match the symbols kallsyms was built from',
      }, [], [lastSyms]);
    });
  },
};

/** `kallsyms`: map in, .S out, then the assembler. Returns the object. */
function addTable(ctx: PluginContext, builder: StageBuilder, syms: string, base: string, note: string): string {
  builder.addStep(ctx.name, {
    commands: [exec(ctx.name, 'KSYMS', `${base}.S`, kallsymsArgv(ctx, syms), { stdout: `${base}.S`, note })],
    inputs: [...(syms === '/dev/null' ? [] : [syms]), 'scripts/kallsyms'],
    outputs: [`${base}.S`],
  });
  builder.addStep(ctx.name, { commands: [assemble(ctx, base)], inputs: [`${base}.S`], outputs: [`${base}.o`] });
  return `${base}.o`;
}

function kallsymsArgv(ctx: PluginContext, syms: string): string[] {
  const argv = [treeTool('scripts/kallsyms')];
  if (ctx.kconfig.isEnabled('KALLSYMS_ALL')) argv.push('--all-symbols');
  if (ctx.kconfig.isEnabled('KALLSYMS_ABSOLUTE_PERCPU')) argv.push('--absolute-percpu');
  argv.push(syms);
  return argv;
}

function assemble(ctx: PluginContext, base: string): Command {
  const t = ctx.toolchain;
  return exec(ctx.name, 'AS', `${base}.o`, [
    ...t.words('CC'), ...t.words('NOSTDINC_FLAGS'), ...t.words('LINUXINCLUDE'), ...t.words('KBUILD_CPPFLAGS'),
    ...t.words('KBUILD_AFLAGS'), ...t.words('KBUILD_AFLAGS_KERNEL'), '-c', '-o', `${base}.o`, `${base}.S`,
  ]);
}

/** One pass over a temporary link: its map, a table from it, and that table in the next links. */
function pass(ctx: PluginContext, session: LinkSession, image: string, n: number): void {
  const syms = `${image}.syms`;
  const map = mksysmap(ctx, image, syms);
  session.builder.addStep(ctx.name, {
    commands: map.commands.map((c, i) => (i === 0 ? { ...c, note: `kallsyms pass ${n}: symbols of ${image}` } : c)),
    inputs: [image, ...map.script],
    outputs: [syms],
    scratch: [map.scratch],
  });
  const object = addTable(ctx, session.builder, syms, `${image}.kallsyms`, `kallsyms pass ${n}`);
  session.setLinkObject('kallsyms', object, LINK_OBJECT_ORDER.SYMBOLS);
}

/**
 * Pass 3, decided at run time: its outputs always exist (a copy of pass 2's when the pass is not
 * needed), so the graph stays static and the final link always reads `.tmp_vmlinux3.kallsyms.o`.
 */
function extraPass(ctx: PluginContext, session: LinkSession): string {
  const base = '.tmp_vmlinux3';
  const link = session.describeLink(base, true);
  const map = mksysmap(ctx, base, `${base}.syms`);
  const plan = {
    force: ctx.options.extra_pass === true,
    previous: '.tmp_vmlinux1.kallsyms.o',
    current: '.tmp_vmlinux2.kallsyms.o',
    currentSyms: '.tmp_vmlinux2.syms',
    nm: ctx.toolchain.words('NM'),
    commands: [link.command, ...map.commands, exec(ctx.name, 'KSYMS', `${base}.kallsyms.S`, kallsymsArgv(ctx, `${base}.syms`), { stdout: `${base}.kallsyms.S` }), assemble(ctx, `${base}.kallsyms`)],
    outputs: { object: `${base}.kallsyms.o`, syms: `${base}.syms` },
  };
  session.builder.addStep(ctx.name, {
    commands: [builtin(ctx.name, 'KSYMS', `${base}.kallsyms.o`, EXTRA_PASS_BUILTIN, [JSON.stringify(plan)], 'kallsyms pass 3, only when pass 2 moved symbols (decided at run time)')],
    inputs: [...new Set([...link.inputs, plan.previous, plan.current, plan.currentSyms, 'scripts/kallsyms'])],
    outputs: [plan.outputs.object, plan.outputs.syms],
    scratch: [base, `${base}.syms.nm`, `${base}.kallsyms.S`],
  });
  session.setLinkObject('kallsyms', plan.outputs.object, LINK_OBJECT_ORDER.SYMBOLS);
  return plan.outputs.syms;
}
