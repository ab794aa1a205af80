// The plan for the shipped kbuild.pipeline and the shipped profiles: stage orderings, the merge of
// temporary links, kbuild's step order, and the errors a plan can have.
import os from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planFor, profileKconfig, kconfigOf } from '../helpers/plan.js';
import { builtinRegistry } from '../../core/loading/plugin-registry.js';
import type { KpipePlugin } from '../../core/plugin-api.js';

// DESIGN.md section 4: what kbuild prints for the reference config, in order (its own UPD line aside),
// with 6.12's `vmlinux` being kpipe's `vmlinux.unstripped`, and kpipe's two additions marked.
// init/version-timestamp.o is compiled by the first link itself (only when it relinks), so its line
// comes right before that link's, after kallsyms pass 0 (which does not depend on it).
const KBUILD_ORDER = [
  'CC .vmlinux.export.o',
  'KSYMS .tmp_vmlinux0.kallsyms.S',
  'AS .tmp_vmlinux0.kallsyms.o',
  'CC init/version-timestamp.o',
  'LD .tmp_vmlinux1',
  'BTF .tmp_vmlinux1.btf.o',
  'NM .tmp_vmlinux1.syms',
  'KSYMS .tmp_vmlinux1.kallsyms.S',
  'AS .tmp_vmlinux1.kallsyms.o',
  'LD .tmp_vmlinux2',
  'NM .tmp_vmlinux2.syms',
  'KSYMS .tmp_vmlinux2.kallsyms.S',
  'AS .tmp_vmlinux2.kallsyms.o',
  'KSYMS .tmp_vmlinux3.kallsyms.o', // kpipe: the conditional third pass, decided at run time
  'LD vmlinux.unstripped',
  'BTFIDS vmlinux.unstripped',
  'NM System.map',
  'SORTTAB vmlinux.unstripped',
  'CHECK System.map', // kpipe: link-vmlinux.sh's silent `cmp -s System.map` made visible
];

test('reference profile: the vmlinux.unstripped steps come out in kbuild order', () => {
  const plan = planFor(profileKconfig('x86_64-reference'));
  assert.equal(plan.diagnostics, []);
  const vmlinuxSteps = plan.steps.filter((s) => s.stage === 'vmlinux.unstripped');
  const labels = vmlinuxSteps.flatMap((s) => s.commands.filter((c) => c.label).map((c) => `${c.label!.tag} ${c.label!.target}`));
  assert.equal(labels, KBUILD_ORDER);
});

test('init/version-timestamp.o is compiled by the first link, never a step (or an input) that could relink by itself', () => {
  for (const profile of ['x86_64-reference', 'x86_64-nobtf']) {
    const plan = planFor(profileKconfig(profile));
    const writers = plan.steps.filter((s) => s.outputs.includes('init/version-timestamp.o'));
    assert.equal(writers.map((s) => s.id), ['vmlinux.unstripped:.tmp_vmlinux1'], profile);
    const first = writers[0]!;
    assert.not.ok(first.inputs.includes('init/version-timestamp.o'), 'its own compile is not an input of the first link');
    assert.not.ok(first.delegated, 'the link itself is decided by kpipe');
    const compile = first.commands[0]!.action;
    assert.ok(compile.kind === 'exec' && compile.kbuildWrites?.includes('init/version-timestamp.o'), 'kbuild writes it in place');
  }
});

test('one temporary link serves both BTF and kallsyms pass 1, and keeps its debug info (seed 004)', () => {
  const plan = planFor(profileKconfig('x86_64-reference'));
  const tmp1 = plan.steps.find((s) => s.outputs.includes('.tmp_vmlinux1'))!;
  const link = tmp1.commands.find((c) => c.label?.tag === 'LD')!;
  assert.match(link.note ?? '', /kallsyms pass 1/);
  assert.match(link.note ?? '', /BTF/);
  const argv = link.action.kind === 'exec' ? link.action.argv : [];
  assert.not.ok(argv.includes('--strip-debug'), 'pahole reads DWARF from this link');
  const tmp2 = plan.steps.find((s) => s.outputs.includes('.tmp_vmlinux2'))!;
  const argv2 = tmp2.commands[0]!.action.kind === 'exec' ? tmp2.commands[0]!.action.argv : [];
  assert.ok(argv2.includes('--strip-debug'), 'kallsyms pass 2 needs no debug info');
  assert.equal(argv2.slice(-2), ['.tmp_vmlinux1.kallsyms.o', '.tmp_vmlinux1.btf.o'], "link-vmlinux.sh's object order");
  assert.equal(plan.steps.filter((s) => s.outputs.some((o) => /^\.tmp_vmlinux\d$/.test(o))).length, 2);
});

test('without BTF, .tmp_vmlinux1 serves kallsyms alone and is linked with --strip-debug', () => {
  const plan = planFor(profileKconfig('x86_64-nobtf'));
  assert.equal(plan.diagnostics, []);
  const tmp1 = plan.steps.find((s) => s.outputs.includes('.tmp_vmlinux1'))!;
  const link = tmp1.commands.find((c) => c.label?.tag === 'LD')!;
  const argv = link.action.kind === 'exec' ? link.action.argv : [];
  assert.ok(argv.includes('--strip-debug'));
  assert.not.ok(plan.labels.some((l) => l.startsWith('BTF')));
  assert.not.ok(plan.labels.some((l) => l.startsWith('BTFIDS')));
});

test('module BTF is based on vmlinux BTF object, not on vmlinux (DESIGN.md section 4)', () => {
  const plan = planFor(profileKconfig('x86_64-reference'));
  const ko = plan.steps.find((s) => s.stage === 'modules' && s.outputs.some((o) => o.endsWith('.ko')))!;
  assert.ok(ko.inputs.includes('.tmp_vmlinux1.btf.o'));
  assert.not.ok(ko.inputs.includes('vmlinux') || ko.inputs.includes('vmlinux.unstripped'));
  // kbuild-cmd's record of the link follows on the same temporary .ko.
  assert.equal(ko.commands.filter((c) => c.plugin !== 'kbuild-cmd').map((c) => c.label?.tag ?? '...'), ['LD [M]', 'BTF [M]', '...']);
  const pahole = ko.commands[1]!.action;
  assert.ok(pahole.kind === 'exec' && pahole.inPlace === ko.outputs[0], 'pahole edits the temporary .ko in place');
});

test("the .mod.o make gets make's -j, as kbuild's modfinal runs under the top make's jobserver", () => {
  const plan = planFor(profileKconfig('x86_64-reference'));
  const modO = plan.steps.find((s) => s.id === 'modules:mod.o')!;
  const make = modO.commands[0]!.action;
  assert.ok(make.kind === 'exec' && make.argv.includes('-f'), 'a make of Makefile.modfinal');
  assert.ok(make.kind === 'exec' && make.argv.includes(`-j${os.availableParallelism()}`), JSON.stringify(make));
});

test('MODULE_HASHES orders vmlinux after modules without a cycle, in all four combinations', () => {
  for (const btfModules of ['y', 'n']) {
    for (const hashes of ['y', 'n']) {
      const plan = planFor(profileKconfig('x86_64-reference', [`DEBUG_INFO_BTF_MODULES=${btfModules}`, `MODULE_HASHES=${hashes}`]));
      assert.equal(plan.diagnostics, [], `BTF_MODULES=${btfModules} MODULE_HASHES=${hashes}`);
      const stages = [...new Set(plan.steps.map((s) => s.stage))];
      if (hashes === 'y') assert.ok(stages.indexOf('modules') < stages.indexOf('vmlinux'));
    }
  }
});

test("seed 000/001's cycle is reported whole, with each edge's condition and the fix", () => {
  const pipeline = `stage vmlinux.unstripped {
  use link
}
stage modules {
  use modfinal
}
stage vmlinux {
  use objcopy
}
modules: vmlinux when DEBUG_INFO_BTF_MODULES
vmlinux: vmlinux.unstripped
vmlinux: modules when MODULE_HASHES
`;
  const plan = planFor(kconfigOf('CONFIG_DEBUG_INFO_BTF_MODULES=y\nCONFIG_MODULE_HASHES=y\nCONFIG_MODULES=y'), pipeline);
  const cycle = plan.diagnostics.find((d) => d.code === 'stage-cycle');
  assert.ok(cycle, 'a cycle diagnostic');
  assert.match(cycle!.message, /vmlinux -> modules -> vmlinux|modules -> vmlinux -> modules/);
  assert.is(cycle!.related?.length, 2);
  assert.ok(cycle!.related!.every((r) => r.range && r.range.start.line >= 10));
  assert.match(cycle!.related!.map((r) => r.message).join('\n'), /MODULE_HASHES=y/);
  assert.match(cycle!.hint ?? '', /vmlinux\.unstripped -> modules -> vmlinux/);
  // The same file without MODULE_HASHES has no cycle: the edge is off.
  assert.equal(planFor(kconfigOf('CONFIG_DEBUG_INFO_BTF_MODULES=y\nCONFIG_MODULES=y'), pipeline).diagnostics.filter((d) => d.code === 'stage-cycle'), []);
});

test('a stage reading another stage it is not ordered after is an error naming both and the fix', () => {
  const pipeline = `stage vmlinux.unstripped {
  use link
  use btf
}
stage modules {
  use modfinal
  use btf
}
`;
  const plan = planFor(kconfigOf('CONFIG_MODULES=y'), pipeline);
  // modules is not ordered after vmlinux.unstripped: btf in modules cannot see vmlinux's BTF and
  // says so once, instead of creating a hidden dependency.
  assert.equal(plan.diagnostics, []);
  assert.not.ok(plan.labels.some((l) => l.startsWith('BTF [M]')));
});

test('an exception in a plugin is reported with its name and hook, not a bare trace', () => {
  const registry = builtinRegistry();
  const broken: KpipePlugin = {
    name: 'broken',
    apply(hooks, ctx) {
      hooks.afterLink.for(ctx.stage).tap(ctx.name, () => {
        throw new Error('cannot find signing key');
      });
    },
  };
  registry.register({ plugin: broken, origin: { kind: 'built-in' }, defaults: {} });
  const plan = planFor(kconfigOf('CONFIG_MODULES=y'), 'stage vmlinux.unstripped {\n  use link\n  use broken\n}\n', registry);
  const d = plan.diagnostics.find((x) => x.code === 'plugin-error');
  assert.ok(d);
  assert.is(d!.plugin, 'broken');
  assert.match(d!.hook ?? '', /afterLink/);
  assert.match(d!.message, /cannot find signing key/);
});

test('an exception after a nested hook call names the plugin that threw, not the last one to run', () => {
  const registry = builtinRegistry();
  const caller: KpipePlugin = {
    name: 'caller',
    apply(hooks, ctx) {
      hooks.stage.for(ctx.stage).tap('CallerPlugin', (builder) => {
        const step = builder.addStep(ctx.name, { commands: [], inputs: [], outputs: ['x.ko'] });
        hooks.moduleLinked.for(ctx.stage).call({ path: 'x.ko', stage: ctx.stage, step, edit() {}, produce() {} });
        throw new Error('caller failed after the hook');
      });
    },
  };
  const reader: KpipePlugin = {
    name: 'reader',
    apply(hooks, ctx) {
      hooks.moduleLinked.for(ctx.stage).tap('ReaderPlugin', () => {});
    },
  };
  for (const plugin of [caller, reader]) registry.register({ plugin, origin: { kind: 'built-in' }, defaults: {} });
  const plan = planFor(kconfigOf('CONFIG_MODULES=y'), 'stage modules {\n  use caller\n  use reader\n}\n', registry);
  const d = plan.diagnostics.find((x) => x.code === 'plugin-error');
  assert.ok(d, JSON.stringify(plan.diagnostics));
  assert.is(d!.plugin, 'caller');
  assert.is(d!.hook, "stage.for('modules')");
});

test('an unknown plugin option is an error at the use line, listing the known ones', () => {
  const plan = planFor(kconfigOf('CONFIG_KALLSYMS=y'), 'stage vmlinux.unstripped {\n  use link\n  use kallsyms(extra_passes = 1)\n}\n');
  const d = plan.diagnostics.find((x) => x.code === 'unknown-option');
  assert.ok(d);
  assert.is(d!.range?.start.line, 3);
  assert.match(d!.hint ?? '', /extra_pass/);
});

test('a plugin that is off contributes nothing, and explain can say why', () => {
  const plan = planFor(profileKconfig('x86_64-reference', ['BUILDTIME_TABLE_SORT=n']));
  assert.not.ok(plan.labels.some((l) => l.startsWith('SORTTAB')));
});

test.run();
