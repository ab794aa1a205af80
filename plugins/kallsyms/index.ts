// kallsyms: the symbol table linked into vmlinux, in link-vmlinux.sh's passes:
//   0) an empty table, so the first link has a __kallsyms section at all;
//   1) symbols of .tmp_vmlinux1 -> a table of the right size;
//   2) symbols of .tmp_vmlinux2, linked with that table -> the right addresses;
//   3) only if pass 2's table differs from pass 1's (the table itself moved symbols): one more pass,
//      decided at run time by the `kallsyms-extra-pass` builtin, in-process (size, then `nm -n`).
// Then System.map must equal the last pass's map, or the image is inconsistent.
// Before 6.11 (option `separate_links`) each pass had a link of its own, `.tmp_vmlinux.kallsymsN`,
// carrying the BTF object, with no empty pass-0 table, and the table files were named after the link.
import type { Command, KpipePlugin, LinkSession, PluginContext, StageBuilder } from '../../core/plugin-api.js';
import { AFTER_LINK_ORDER, ARTIFACTS, LINK_OBJECT_ORDER, LINK_READER_ORDER } from '../../core/plugin-api.js';
import { exec, builtin, mksysmap, MKSYSMAP_OPTION, treeTool } from '../kbuild.js';
import { registerExtraPassBuiltin, EXTRA_PASS_BUILTIN } from './extra-pass.js';

export const kallsymsPlugin: KpipePlugin = {
  name: 'kallsyms',
  description: 'the kernel symbol table (CONFIG_KALLSYMS), in two or three link passes',
  options: {
    extra_pass: { description: 'always run the third pass (KALLSYMS_EXTRA_PASS=1)', default: false },
    separate_links: { description: 'each pass links .tmp_vmlinux.kallsymsN of its own, with no empty pass-0 table (link-vmlinux.sh before 6.11)', default: false },
    pc_relative: { description: 'pass --pc-relative on 64-bit or relocatable kernels (newer link-vmlinux.sh)', default: false },
    mksysmap: MKSYSMAP_OPTION,
  },
  apply(hooks, ctx) {
    registerExtraPassBuiltin();
    let lastSyms: string | undefined;
    const separate = ctx.options.separate_links === true;
    const names = separate ? OWN_LINK_NAMES : SHARED_LINK_NAMES;
    hooks.beforeLinks.for(ctx.stage).tap(ctx.name, (session) => {
      if (!separate) {
        addTable(ctx, session.builder, '/dev/null', '.tmp_vmlinux0.kallsyms', 'pass 0: an empty table');
        session.setLinkObject('kallsyms', '.tmp_vmlinux0.kallsyms.o', LINK_OBJECT_ORDER.SYMBOLS);
      }
      const own = (n: number) => (separate ? { name: `.tmp_vmlinux.kallsyms${n}` } : {});
      const tables: PassFiles[] = [];
      session.requestTemporaryLink({
        plugin: ctx.name,
        debugInfo: 'not-needed',
        purpose: 'kallsyms pass 1',
        order: LINK_READER_ORDER.SYMBOLS,
        ...own(1),
        onLinked(image1, s1) {
          tables.push(pass(ctx, s1, image1.path, 1, names));
          s1.requestTemporaryLink({
            plugin: ctx.name,
            debugInfo: 'not-needed',
            purpose: 'kallsyms pass 2',
            order: LINK_READER_ORDER.SYMBOLS,
            ...own(2),
            onLinked(image2, s2) {
              tables.push(pass(ctx, s2, image2.path, 2, names));
              lastSyms = extraPass(ctx, s2, names.link(3), tables, names);
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

/** The files of one pass over link N, as link-vmlinux.sh names them. */
interface PassNames {
  /** The temporary link of pass N when kallsyms asks for it by name (only the extra pass, otherwise). */
  link(n: number): string;
  /** The table's base (`.S`, `.o`) for the pass over `image`. */
  table(image: string): string;
}

const SHARED_LINK_NAMES: PassNames = { link: (n) => `.tmp_vmlinux${n}`, table: (image) => `${image}.kallsyms` };
const OWN_LINK_NAMES: PassNames = { link: (n) => `.tmp_vmlinux.kallsyms${n}`, table: (image) => image };

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
  const { kconfig } = ctx;
  const argv = [treeTool('scripts/kallsyms')];
  if (kconfig.isEnabled('KALLSYMS_ALL')) argv.push('--all-symbols');
  if (kconfig.isEnabled('KALLSYMS_ABSOLUTE_PERCPU')) argv.push('--absolute-percpu');
  // Only kernels that still have relative and absolute tables know the symbol (6.1).
  if (kconfig.isEnabled('KALLSYMS_BASE_RELATIVE')) argv.push('--base-relative');
  if (ctx.options.pc_relative === true && (kconfig.isEnabled('64BIT') || kconfig.isEnabled('RELOCATABLE'))) argv.push('--pc-relative');
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

interface PassFiles {
  object: string;
  syms: string;
}

/** One pass over a temporary link: its map, a table from it, and that table in the next links. */
function pass(ctx: PluginContext, session: LinkSession, image: string, n: number, names: PassNames): PassFiles {
  const syms = `${image}.syms`;
  const map = mksysmap(ctx, image, syms);
  session.builder.addStep(ctx.name, {
    commands: map.commands.map((c, i) => (i === 0 ? { ...c, note: `kallsyms pass ${n}: symbols of ${image}` } : c)),
    inputs: [image, ...map.script],
    outputs: [syms],
    scratch: map.scratch,
  });
  const object = addTable(ctx, session.builder, syms, names.table(image), `kallsyms pass ${n}`);
  session.setLinkObject('kallsyms', object, LINK_OBJECT_ORDER.SYMBOLS);
  return { object, syms };
}

/**
 * Pass 3, decided at run time: its outputs always exist (a copy of pass 2's when the pass is not
 * needed), so the graph stays static and the final link always reads `.tmp_vmlinux3.kallsyms.o`.
 */
function extraPass(ctx: PluginContext, session: LinkSession, base: string, tables: PassFiles[], names: PassNames): string {
  const link = session.describeLink(base, true);
  const map = mksysmap(ctx, base, `${base}.syms`);
  const table = names.table(base);
  const plan = {
    force: ctx.options.extra_pass === true,
    previous: tables[0]!.object,
    current: tables[1]!.object,
    currentSyms: tables[1]!.syms,
    nm: ctx.toolchain.words('NM'),
    commands: [link.command, ...map.commands, exec(ctx.name, 'KSYMS', `${table}.S`, kallsymsArgv(ctx, `${base}.syms`), { stdout: `${table}.S` }), assemble(ctx, table)],
    outputs: { object: `${table}.o`, syms: `${base}.syms` },
  };
  session.builder.addStep(ctx.name, {
    commands: [builtin(ctx.name, 'KSYMS', `${table}.o`, EXTRA_PASS_BUILTIN, [JSON.stringify(plan)], 'kallsyms pass 3, only when pass 2 moved symbols (decided at run time)')],
    inputs: [...new Set([...link.inputs, plan.previous, plan.current, plan.currentSyms, 'scripts/kallsyms'])],
    outputs: [plan.outputs.object, plan.outputs.syms],
    scratch: [...new Set([base, ...map.scratch, `${table}.S`])],
  });
  session.setLinkObject('kallsyms', plan.outputs.object, LINK_OBJECT_ORDER.SYMBOLS);
  return plan.outputs.syms;
}
