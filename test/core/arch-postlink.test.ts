// The architecture post-link plugins (plugins/arch/*) as planned from the shipped kbuild.pipeline: each
// is chosen by SRCARCH, each of its commands by the Kconfig symbols of its arch/*/Makefile.postlink,
// in the Makefile's order after the generic post-link commands, and every file it writes is declared
// (so `kpipe clean` removes it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planFor, profileKconfig, type TestPlan } from '../helpers/plan.js';
import { archPlan, finalLink } from '../helpers/arch-plan.js';
import { cleanOutputs } from '../../core/running/clean.js';
import type { Command } from '../../core/planning/step.js';

/** `TAG target` of every command of the final link (`...` for a command continuing the line above). */
function lines(plan: TestPlan, plugin?: string): string[] {
  return finalLink(plan).commands.filter((c) => plugin === undefined || c.plugin === plugin).map((c) => (c.label ? `${c.label.tag} ${c.label.target}` : '...'));
}

function argv(c: Command): string[] {
  return c.action.kind === 'exec' ? c.action.argv : [c.action.name, ...c.action.args];
}

test('riscv RELOCATABLE: relocs_check.sh, vmlinux.relocs, then the strip, after the generic post-link commands', () => {
  const plan = planFor(profileKconfig('riscv64-relocatable'));
  assert.equal(plan.diagnostics, []);
  const all = lines(plan);
  assert.equal(all.slice(-4), ['CHECK System.map', 'CHKREL vmlinux.unstripped', 'CPREL vmlinux.relocs', 'STRIPREL vmlinux.unstripped']);
  const link = finalLink(plan);
  assert.ok(link.outputs.includes('vmlinux.relocs'));
  const [check, copy, strip] = link.commands.filter((c) => c.plugin === 'arch.riscv');
  // As Makefile.postlink: $(CONFIG_SHELL) $(srctree)/arch/riscv/tools/relocs_check.sh "$(OBJDUMP)" "$(NM)" $@
  assert.equal(argv(check!), ['$(CONFIG_SHELL)', '$(srctree)/arch/riscv/tools/relocs_check.sh', '$(OBJDUMP)', '$(NM)', 'vmlinux.unstripped']);
  assert.equal(check!.action.kind === 'exec' && check!.action.env, { srctree: '$(srctree)' }, 'the script calls ${srctree}/scripts/relocs_check.sh');
  assert.equal(argv(copy!), ['copy', 'vmlinux.unstripped', 'vmlinux.relocs'], 'vmlinux.relocs keeps the relocations the strip removes');
  assert.ok(strip!.action.kind === 'exec' && strip!.action.inPlace === 'vmlinux.unstripped');
  assert.ok(argv(strip!).includes('--remove-section=.rela.*'));
});

test('riscv without RELOCATABLE: no post-link pass, no vmlinux.relocs', () => {
  const plan = planFor(profileKconfig('riscv64-relocatable', ['RELOCATABLE=n', 'RANDOMIZE_BASE=n']));
  assert.equal(lines(plan, 'arch.riscv'), []);
  assert.not.ok(finalLink(plan).outputs.includes('vmlinux.relocs'));
});

test('an arch plugin is used for its own SRCARCH only', () => {
  const riscv = planFor(profileKconfig('riscv64-relocatable'));
  const x86 = planFor(profileKconfig('x86_64-relocatable'));
  const archPlugins = (p: TestPlan) => [...new Set(finalLink(p).commands.map((c) => c.plugin).filter((n) => n.startsWith('arch.')))];
  assert.equal(archPlugins(riscv), ['arch.riscv']);
  assert.equal(archPlugins(x86), ['arch.x86']);
  for (const arch of ['powerpc', 'mips', 's390']) {
    assert.equal(archPlugins(archPlan(arch, ['PPC64=y', 'RELOCATABLE=y'])), [`arch.${arch}`]);
  }
});

test('powerpc: CHKHEAD on PPC64; CHKREL on RELOCATABLE, with unrel_branch_check.sh under bash on PPC_BOOK3S_64', () => {
  const book3s = archPlan('powerpc', ['PPC64=y', 'PPC_BOOK3S_64=y', 'RELOCATABLE=y']);
  assert.equal(lines(book3s, 'arch.powerpc'), ['CHKHEAD vmlinux.unstripped', 'CHKREL vmlinux.unstripped', '...']);
  const [head, relocs, branches] = finalLink(book3s).commands.filter((c) => c.plugin === 'arch.powerpc');
  assert.equal(argv(head!), ['$(CONFIG_SHELL)', '$(srctree)/arch/powerpc/tools/head_check.sh', '$(NM)', 'vmlinux.unstripped']);
  assert.equal(argv(relocs!)[1], '$(srctree)/arch/powerpc/tools/relocs_check.sh');
  assert.equal(argv(branches!).slice(0, 2), ['$(BASH)', '$(srctree)/arch/powerpc/tools/unrel_branch_check.sh']);
  assert.ok(finalLink(book3s).scratch?.includes('.tmp_symbols.txt'), "head_check.sh's leftover is the step's scratch");
  // Checks only: the pass writes nothing the plan must declare.
  // (init/version-timestamp.o is the link's own compile: without kallsyms and BTF the final link is the first.)
  assert.equal(finalLink(book3s).outputs.filter((o) => o !== 'vmlinux.unstripped' && o !== 'System.map' && o !== 'init/version-timestamp.o'), []);

  assert.equal(lines(archPlan('powerpc', ['RELOCATABLE=y']), 'arch.powerpc'), ['CHKREL vmlinux.unstripped'], '32-bit: no head check, no branch check');
  assert.equal(lines(archPlan('powerpc', ['PPC64=y']), 'arch.powerpc'), ['CHKHEAD vmlinux.unstripped']);
});

test('mips: LLSCCHK on CPU_LOONGSON3_WORKAROUNDS, then RELOCS into the image in place on RELOCATABLE', () => {
  assert.equal(lines(archPlan('mips', []), 'arch.mips'), []);
  const both = archPlan('mips', ['CPU_LOONGSON3_WORKAROUNDS=y', 'RELOCATABLE=y']);
  assert.equal(lines(both, 'arch.mips'), ['LLSCCHK vmlinux.unstripped', 'RELOCS vmlinux.unstripped']);
  const [llsc, relocs] = finalLink(both).commands.filter((c) => c.plugin === 'arch.mips');
  assert.equal(argv(llsc!), ['./arch/mips/tools/loongson3-llsc-check', 'vmlinux.unstripped']);
  assert.ok(relocs!.action.kind === 'exec' && relocs!.action.inPlace === 'vmlinux.unstripped');
  assert.ok(finalLink(both).inputs.includes('arch/mips/boot/tools/relocs'), 'the host tool is an input');
});

test('s390: relocs.S and the strip, unconditionally as in its Makefile.postlink', () => {
  const plan = archPlan('s390', []);
  assert.equal(lines(plan, 'arch.s390'), ['RELOCS arch/s390/boot/relocs.S', 'RSTRIP vmlinux.unstripped']);
  const [relocs] = finalLink(plan).commands.filter((c) => c.plugin === 'arch.s390');
  assert.ok(relocs!.action.kind === 'exec' && relocs!.action.stdout === 'arch/s390/boot/relocs.S');
  assert.ok(finalLink(plan).outputs.includes('arch/s390/boot/relocs.S'));
});

test('kpipe clean removes what the arch passes write', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-arch-clean-'));
  try {
    const written = ['vmlinux.relocs', 'arch/s390/boot/relocs.S', '.tmp_symbols.txt'];
    for (const f of written) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), 'x');
    }
    const steps = [
      ...planFor(profileKconfig('riscv64-relocatable')).steps,
      ...archPlan('s390', []).steps,
      ...archPlan('powerpc', ['PPC64=y']).steps,
    ];
    const { removed, diagnostics } = await cleanOutputs(steps, dir);
    assert.equal(diagnostics, []);
    for (const f of written) {
      assert.ok(removed.includes(f), `${f} removed`);
      assert.not.ok(fs.existsSync(path.join(dir, f)));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
