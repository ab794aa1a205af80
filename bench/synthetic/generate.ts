// A synthetic output tree the size of a distribution kernel's module set (seed 002: about 5,500
// modules), with the module steps of DESIGN.md done by cheap stand-in tools:
//   CC [M]  m.mod.o            (cat m.mod.c > m.mod.o)
//   LD [M]  m.ko  + BTF [M] m.ko   (one step: cat the objects > m.ko, then append the BTF base in place)
// plus a short vmlinux chain (LD .tmp_vmlinux1, BTF .tmp_vmlinux1.btf.o, LD + BTFIDS vmlinux) whose BTF
// every module reads, as module BTF does.
import fs from 'node:fs';
import path from 'node:path';
import type { Command, Step } from '../../core/planning/step.js';

const TOOLS: Record<string, string> = {
  // btf FILE BASE: appends BASE's bytes to FILE, in place (pahole --btf_base BASE -J FILE)
  btf: '#!/bin/sh\ncat "$2" >> "$1"\n',
  // btfids FILE: appends a marker in place (resolve_btfids FILE)
  btfids: '#!/bin/sh\nprintf ids >> "$1"\n',
};

export interface SyntheticTree {
  dir: string;
  steps: Step[];
}

const c = (tag: string, target: string, argv: string[], extra: Record<string, string> = {}): Command => ({
  label: { tag, target },
  plugin: 'synthetic',
  action: { kind: 'exec', argv, ...extra },
});

/** The plan only (no files): what the planner would hand to the executor. */
export function syntheticSteps(dir: string, modules: number): Step[] {
  const tool = (name: string) => path.join(dir, 'tools', name);
  const steps: Step[] = [
    {
      id: 'link-tmp1', stage: 'vmlinux', plugin: 'synthetic', inputs: ['vmlinux.o'], outputs: ['.tmp_vmlinux1'],
      commands: [c('LD', '.tmp_vmlinux1', ['cat', 'vmlinux.o'], { stdout: '.tmp_vmlinux1' })],
    },
    {
      id: 'btf-tmp1', stage: 'vmlinux', plugin: 'synthetic', inputs: ['.tmp_vmlinux1'], outputs: ['.tmp_vmlinux1.btf.o'],
      commands: [c('BTF', '.tmp_vmlinux1.btf.o', ['head', '-c', '64', '.tmp_vmlinux1'], { stdout: '.tmp_vmlinux1.btf.o' })],
    },
    {
      id: 'link-vmlinux', stage: 'vmlinux', plugin: 'synthetic', inputs: ['vmlinux.o', '.tmp_vmlinux1.btf.o'], outputs: ['vmlinux'],
      commands: [
        c('LD', 'vmlinux', ['cat', 'vmlinux.o', '.tmp_vmlinux1.btf.o'], { stdout: 'vmlinux' }),
        c('BTFIDS', 'vmlinux', [tool('btfids'), 'vmlinux'], { inPlace: 'vmlinux' }),
      ],
    },
  ];
  for (let i = 0; i < modules; i++) {
    const m = modulePath(i);
    steps.push({
      id: `modpost:${m}.mod.o`, stage: 'modules', plugin: 'synthetic', inputs: [`${m}.mod.c`], outputs: [`${m}.mod.o`],
      commands: [c('CC [M]', `${m}.mod.o`, ['cat', `${m}.mod.c`], { stdout: `${m}.mod.o` })],
    });
    steps.push({
      id: `modfinal:${m}.ko`, stage: 'modules', plugin: 'synthetic',
      inputs: [`${m}.o`, `${m}.mod.o`, '.module-common.o', 'scripts/module.lds', '.tmp_vmlinux1.btf.o'],
      outputs: [`${m}.ko`],
      commands: [
        c('LD [M]', `${m}.ko`, ['cat', `${m}.o`, `${m}.mod.o`, '.module-common.o'], { stdout: `${m}.ko` }),
        c('BTF [M]', `${m}.ko`, [tool('btf'), `${m}.ko`, '.tmp_vmlinux1.btf.o'], { inPlace: `${m}.ko` }),
      ],
    });
  }
  return steps;
}

/** 100 modules per directory, like drivers/<subsystem>/. */
function modulePath(i: number): string {
  return `drivers/d${Math.floor(i / 100)}/m${i}`;
}

/** Writes the sources and stand-in tools; returns the plan. */
export function generateSyntheticTree(dir: string, modules: number): SyntheticTree {
  fs.mkdirSync(path.join(dir, 'tools'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'scripts'), { recursive: true });
  for (const [name, text] of Object.entries(TOOLS)) fs.writeFileSync(path.join(dir, 'tools', name), text, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'vmlinux.o'), 'V'.repeat(1 << 20));
  fs.writeFileSync(path.join(dir, '.module-common.o'), 'common\n');
  fs.writeFileSync(path.join(dir, 'scripts/module.lds'), 'SECTIONS {}\n');
  for (let i = 0; i < modules; i++) {
    const m = modulePath(i);
    if (i % 100 === 0) fs.mkdirSync(path.join(dir, path.dirname(m)), { recursive: true });
    fs.writeFileSync(path.join(dir, `${m}.o`), `object of module ${i}\n`.repeat(64));
    fs.writeFileSync(path.join(dir, `${m}.mod.c`), `MODULE_INFO(name, "m${i}");\n`);
  }
  return { dir, steps: syntheticSteps(dir, modules) };
}
