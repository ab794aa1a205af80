// The three kernel lines of the shipped pipeline: KERNELVERSION, its ordered comparisons, the use
// variants that replace a default use on one line, the plan each line gets (one test per version
// rule), and the refusal of a version the pipeline does not describe.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planFor, profileKconfig, kconfigOf } from '../helpers/plan.js';
import { compareVersions } from '../../core/planning/condition.js';
import { evaluateCondition } from '../../core/planning/condition-text.js';
import { onLine, versionOfSource } from '../../core/planning/kernel-version.js';
import { loadKconfig } from '../../core/planning/kconfig.js';
import { refuseUndescribedKernel } from '../../core/planning/kernel-lines.js';
import { loadPipeline } from '../../dsl/load.js';
import { SHIPPED_PIPELINE } from '../helpers/plan.js';
import { paholeFlags } from '../../plugins/btf/index.js';
import type { PluginContext } from '../../core/plugin-api.js';
import type { Step } from '../../core/planning/step.js';

const labels = (steps: Step[], stage?: string) =>
  steps.filter((s) => stage === undefined || s.stage === stage).flatMap((s) => s.commands.filter((c) => c.label).map((c) => `${c.label!.tag} ${c.label!.target}`));
const argvOf = (step: Step | undefined, i = 0) => {
  const a = step?.commands[i]?.action;
  return a?.kind === 'exec' ? a.argv : a?.kind === 'builtin' ? [a.name, ...a.args] : [];
};
const stepWriting = (steps: Step[], file: string) => steps.find((s) => s.outputs.includes(file));

test('versions compare component by component; a missing component is 0; non-numbers do not compare', () => {
  assert.is(compareVersions('6.12.117', '6.12'), 1);
  assert.is(compareVersions('6.12', '6.12.0'), 0);
  assert.is(compareVersions('6.1.192', '6.12'), -1);
  assert.is(compareVersions('7.2.13', '7.2'), 1);
  assert.is(compareVersions('6.15.0-rc1', '6.15'), 0);
  assert.is(compareVersions('0x40', '64'), 0);
  assert.is(compareVersions(undefined, '6.1'), undefined);
  assert.is(compareVersions('y', '6.1'), undefined);
});

test('ordered comparisons in conditions: KERNELVERSION and Kconfig numbers; unset is false both ways', () => {
  const k = kconfigOf('CONFIG_NR_CPUS=64');
  k.set('KERNELVERSION', '6.1.192', { kind: 'objtree', where: 'Makefile' });
  assert.ok(evaluateCondition('KERNELVERSION < 6.12', k).value);
  assert.ok(evaluateCondition('KERNELVERSION >= 6.1', k).value);
  assert.not.ok(evaluateCondition('KERNELVERSION > 6.1.192', k).value);
  assert.ok(evaluateCondition('KERNELVERSION <= 6.1.192 && NR_CPUS > 32', k).value);
  assert.equal(evaluateCondition('KERNELVERSION >= 7.2', k).because, ['KERNELVERSION=6.1.192']);
  const none = kconfigOf('');
  assert.not.ok(evaluateCondition('KERNELVERSION < 6.12', none).value);
  assert.not.ok(evaluateCondition('KERNELVERSION >= 6.12', none).value);
});

test("KERNELVERSION of a tree comes from its source's Makefile, with where; of a profile from its kernel line", () => {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-src-'));
  fs.writeFileSync(path.join(src, 'Makefile'), '# SPDX\nVERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\nNAME = Curry Ramen\n');
  assert.equal(versionOfSource(src)?.value, '6.1.192');
  const objtree = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-obj-'));
  fs.writeFileSync(path.join(objtree, '.config'), 'CONFIG_X86=y\n');
  const k = loadKconfig({ objtree, srctree: src });
  assert.is(k.get('KERNELVERSION'), '6.1.192');
  assert.match(k.origin('KERNELVERSION')!.where, /Makefile \(VERSION, PATCHLEVEL, SUBLEVEL\)$/);
  assert.is(loadKconfig({ objtree, srctree: src, sets: ['KERNELVERSION=7.2.0'] }).get('KERNELVERSION'), '7.2.0', '--set wins');
  assert.is(profileKconfig('x86_64-reference-6.1').get('KERNELVERSION'), '6.1');
  assert.is(profileKconfig('x86_64-reference-7.2').get('KERNELVERSION'), '7.2');
  assert.is(profileKconfig('x86_64-reference').get('KERNELVERSION'), '6.12', 'a profile without a kernel line is 6.12');
  fs.rmSync(src, { recursive: true });
  fs.rmSync(objtree, { recursive: true });
});

test('a line names its releases by prefix: 6.1 is 6.1.*, not 6.12', () => {
  assert.ok(onLine('6.1.192', '6.1'));
  assert.not.ok(onLine('6.12.117', '6.1'));
  assert.ok(onLine('6.12.117', '6.12'));
  assert.not.ok(onLine('7.3.1', '7.2'));
  assert.not.ok(onLine('6', '6.1'));
});

test('the shipped pipeline describes 6.1, 6.12 and 7.2 and refuses 5.15 and 7.3 with one error naming them', () => {
  const loaded = loadPipeline(SHIPPED_PIPELINE, { knownPlugins: [] });
  for (const [version, refused] of [['6.1.192', false], ['6.12.117', false], ['7.2.13', false], ['5.15.170', true], ['7.3.1', true]] as const) {
    const k = kconfigOf('');
    k.set('KERNELVERSION', version, { kind: 'objtree', where: '/src/Makefile (VERSION, PATCHLEVEL, SUBLEVEL)' });
    const d = refuseUndescribedKernel(loaded.statements, k, SHIPPED_PIPELINE);
    assert.is(d !== undefined, refused, version);
    if (d) {
      assert.is(d.code, 'unsupported-kernel');
      assert.is(d.message, `Linux ${version} is not a kernel line kbuild.pipeline describes (it describes 6.1, 6.12, 7.2)`);
      assert.match(d.hint!, /--pipeline FILE/);
      assert.match(d.hint!, /\/src\/Makefile/);
      assert.is(d.range?.start.line, loaded.sources.get(SHIPPED_PIPELINE)!.split('\n').findIndex((l) => l.startsWith('kernels ')) + 1);
    }
  }
  const k = kconfigOf('');
  assert.is(refuseUndescribedKernel(loaded.statements, k, SHIPPED_PIPELINE), undefined, 'an unknown version is not refused');
});

test("kernels ... when KBUILD_EXTMOD: the shipped pipeline describes external modules on 6.1 and 6.12, and refuses M= on 7.2 at that line", () => {
  const loaded = loadPipeline(SHIPPED_PIPELINE, { knownPlugins: [] });
  const line = loaded.sources.get(SHIPPED_PIPELINE)!.split('\n').findIndex((l) => l.startsWith('kernels ') && l.includes('when KBUILD_EXTMOD')) + 1;
  assert.ok(line > 0, 'the shipped pipeline has the line');
  for (const [version, extmod, refused] of [['6.1.192', true, false], ['6.12.117', true, false], ['7.2.13', true, true], ['7.2.13', false, false]] as const) {
    const k = kconfigOf('');
    k.set('KERNELVERSION', version, { kind: 'objtree', where: '/src/Makefile (VERSION, PATCHLEVEL, SUBLEVEL)' });
    if (extmod) k.set('KBUILD_EXTMOD', 'y', { kind: 'environment', where: 'M=/ext' });
    const d = refuseUndescribedKernel(loaded.statements, k, SHIPPED_PIPELINE);
    assert.is(d !== undefined, refused, `${version}${extmod ? ' M=' : ''}`);
    if (d) {
      assert.is(d.message, 'Linux 7.2.13 is not a kernel line kbuild.pipeline describes when KBUILD_EXTMOD (KBUILD_EXTMOD=y): it describes 6.1, 6.12 then');
      assert.is(d.range?.start.line, line);
      assert.match(d.hint!, /--pipeline FILE/);
    }
  }
});

test('a use variant replaces the default use only when its condition holds, and says so', () => {
  const pipeline = 'stage s {\n  use link\n  use kallsyms\n  use kallsyms(extra_pass = true) when KERNELVERSION < 6.12\n}\n';
  const old = kconfigOf('CONFIG_KALLSYMS=y');
  old.set('KERNELVERSION', '6.1.192', { kind: 'objtree', where: 'm' });
  const plan = planFor(old, pipeline);
  assert.equal(plan.diagnostics, []);
  const extra = plan.steps.find((s) => s.commands.some((c) => c.action.kind === 'builtin' && c.action.name === 'kallsyms-extra-pass'))!;
  assert.match(JSON.stringify(extra.commands[0]!.action), /\\"force\\":true/);
  const now = kconfigOf('CONFIG_KALLSYMS=y');
  now.set('KERNELVERSION', '6.12.117', { kind: 'objtree', where: 'm' });
  const plan2 = planFor(now, pipeline);
  const extra2 = plan2.steps.find((s) => s.commands.some((c) => c.action.kind === 'builtin' && c.action.name === 'kallsyms-extra-pass'))!;
  assert.match(JSON.stringify(extra2.commands[0]!.action), /\\"force\\":false/);
});

test('6.12: one temporary link for BTF and kallsyms, pass 0, sorttable -s, .module-common.o (the default uses)', () => {
  const plan = planFor(profileKconfig('x86_64-reference'));
  assert.equal(plan.diagnostics, []);
  const l = labels(plan.steps);
  assert.ok(l.includes('LD .tmp_vmlinux1') && l.includes('KSYMS .tmp_vmlinux0.kallsyms.S'));
  assert.not.ok(l.some((x) => x.includes('.tmp_vmlinux.btf')));
  assert.ok(argvOf(plan.steps.find((s) => s.stage === 'modules' && s.outputs[0]?.endsWith('.ko'))).includes('.module-common.o'));
  assert.not.ok(l.includes('GEN modules.builtin'));
});

test('6.1: BTF links .tmp_vmlinux.btf alone, kallsyms .tmp_vmlinux.kallsymsN with the BTF object and no pass 0', () => {
  const plan = planFor(profileKconfig('x86_64-reference-6.1'));
  assert.equal(plan.diagnostics, []);
  assert.equal(labels(plan.steps, 'vmlinux.unstripped').slice(2, 15), [
    'LD .tmp_vmlinux.btf', 'BTF .btf.vmlinux.bin.o',
    'LD .tmp_vmlinux.kallsyms1', 'NM .tmp_vmlinux.kallsyms1.syms', 'KSYMS .tmp_vmlinux.kallsyms1.S', 'AS .tmp_vmlinux.kallsyms1.o',
    'LD .tmp_vmlinux.kallsyms2', 'NM .tmp_vmlinux.kallsyms2.syms', 'KSYMS .tmp_vmlinux.kallsyms2.S', 'AS .tmp_vmlinux.kallsyms2.o',
    'KSYMS .tmp_vmlinux.kallsyms3.o', 'LD vmlinux.unstripped', 'BTFIDS vmlinux.unstripped',
  ]);
  const btfLink = argvOf(stepWriting(plan.steps, '.tmp_vmlinux.btf'));
  assert.not.ok(btfLink.includes('--strip-debug'));
  assert.not.ok(btfLink.some((w) => w.includes('kallsyms')), 'no kallsyms object in the BTF link');
  const k1 = argvOf(stepWriting(plan.steps, '.tmp_vmlinux.kallsyms1'));
  assert.ok(k1.includes('--strip-debug'));
  assert.equal(k1.slice(-1), ['.btf.vmlinux.bin.o'], 'pass 1 carries the BTF object, no table');
  assert.equal(argvOf(stepWriting(plan.steps, '.tmp_vmlinux.kallsyms2')).slice(-2), ['.tmp_vmlinux.kallsyms1.o', '.btf.vmlinux.bin.o']);
  assert.ok(argvOf(stepWriting(plan.steps, '.tmp_vmlinux.kallsyms1.S')).includes('--base-relative'), 'KALLSYMS_BASE_RELATIVE');
});

test("a variant takes the place of the use it replaces: 6.1's modules still get btf's base record after modfinal", () => {
  const plan = planFor(profileKconfig('x86_64-reference-6.1'));
  const ids = plan.steps.filter((s) => s.stage === 'modules').map((s) => s.id);
  assert.ok(ids.includes('modules:modules.btf-base'), ids.join(' '));
});

test('6.1: mksysmap is the shell script, sorttable takes the image alone, modules have no .module-common.o', () => {
  const plan = planFor(profileKconfig('x86_64-reference-6.1'));
  const final = stepWriting(plan.steps, 'vmlinux.unstripped')!;
  const commands = final.commands.map((c) => (c.action.kind === 'exec' ? c.action.argv : []));
  assert.ok(commands.some((a) => a[1] === '$(srctree)/scripts/mksysmap' && a[2] === 'vmlinux.unstripped' && a[3] === 'System.map'), JSON.stringify(commands));
  assert.ok(commands.some((a) => a.length === 2 && a[0] === './scripts/sorttable' && a[1] === 'vmlinux.unstripped'));
  const ko = plan.steps.find((s) => s.stage === 'modules' && s.outputs[0]?.endsWith('.ko'))!;
  assert.not.ok(argvOf(ko).includes('.module-common.o'));
  assert.not.ok(stepWriting(plan.steps, '.module-common.o'));
});

test('7.2: gen-btf.sh, resolve_btfids --patch_btfids, kallsyms --pc-relative, objcopy of .modinfo, modules.builtin', () => {
  const plan = planFor(profileKconfig('x86_64-reference-7.2'));
  assert.equal(plan.diagnostics, []);
  const btf = stepWriting(plan.steps, '.tmp_vmlinux1.btf.o')!;
  assert.equal(btf.outputs, ['.tmp_vmlinux1.btf.o', '.tmp_vmlinux1.BTF_ids']);
  assert.is(argvOf(btf)[0], 'btf-detached');
  const final = stepWriting(plan.steps, 'vmlinux.unstripped')!;
  assert.ok(final.commands.some((c) => c.action.kind === 'exec' && c.action.argv.join(' ').endsWith('--patch_btfids .tmp_vmlinux1.BTF_ids vmlinux.unstripped')));
  assert.ok(argvOf(stepWriting(plan.steps, '.tmp_vmlinux1.kallsyms.S')).includes('--pc-relative'));
  const vmlinux = stepWriting(plan.steps, 'vmlinux')!;
  assert.equal(argvOf(vmlinux, 0).slice(1), ['--set-section-flags', '.modinfo=noload', 'vmlinux.unstripped', 'vmlinux']);
  assert.equal(argvOf(vmlinux, 1).slice(1), ['--remove-section=.modinfo', '-w', '--strip-unneeded-symbol=__mod_device_table__*', 'vmlinux']);
  assert.ok(stepWriting(plan.steps, 'modules.builtin.modinfo') && stepWriting(plan.steps, 'modules.builtin'));
  const ko = plan.steps.find((s) => s.stage === 'modules' && s.outputs[0]?.endsWith('.ko'))!;
  assert.ok(ko.commands.some((c) => c.action.kind === 'builtin' && c.action.name === 'btf-detached'));
});

test("pahole's -j is dropped before 1.27 and made reproducible from 1.27", () => {
  const ctx = (flags: string, version: string) => {
    const kconfig = kconfigOf(`CONFIG_PAHOLE_VERSION=${version}`);
    return { options: {}, kconfig, toolchain: { words: () => flags.split(' ').filter(Boolean) } } as unknown as PluginContext;
  };
  assert.equal(paholeFlags(ctx('--btf_gen_floats -j --lang_exclude=rust', '124')), ['--btf_gen_floats', '--lang_exclude=rust']);
  assert.equal(paholeFlags(ctx('-j4 --btf_features=encode_force', '126')), ['--btf_features=encode_force']);
  assert.equal(paholeFlags(ctx('-j --btf_features=x', '127')), ['-j', '--btf_features=x', '--btf_features=+reproducible_build']);
  assert.equal(paholeFlags(ctx('-j --btf_features=+reproducible_build', '130')), ['-j', '--btf_features=+reproducible_build']);
});

test.run();
