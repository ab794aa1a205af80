// A small tree laid out as kbuild leaves one, for the tests of kbuild's kept inputs and of the narrow
// compile (test/core/kbuild-inputs.test.ts, kbuild-narrow.test.ts): the compile step they keep for,
// `.cmd` records as if_changed and fixdep write them, and files aged as a tree is after its build.
import fs from 'node:fs';
import path from 'node:path';
import type { Step } from '../../core/planning/step.js';
import type { KbuildContext } from '../../core/state/kbuild-inputs.js';

export const COMPILE: Step = { id: 'compile:x', stage: 'compile', plugin: 'kbuild-compile', commands: [], inputs: [], outputs: ['vmlinux.a'], delegated: true, kbuildInputs: 'tree' };
export const IDENTITY = 'identity-1';

export interface KbuildTree {
  root: string;
  src: string;
  out: string;
  ctx: KbuildContext;
}

export function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** A `.cmd` record's text: the saved command, the source (fixdep's) and the `deps_` list, if any. */
export function record(target: string, command: string, deps: string[] = [], source?: string): string {
  const d = deps.map((x) => `  ${x} \\\n`).join('');
  const depsPart = deps.length > 0 ? `deps_${target} := \\\n${d}\n${target}: $(deps_${target})\n\n$(deps_${target}):\n` : '';
  return `savedcmd_${target} := ${command}\n\n${source ? `source_${target} := ${source}\n\n` : ''}${depsPart}`;
}

/** Every file of the tree an hour old, as a tree is some time after kbuild made it. */
export function age(dir: string): void {
  const past = new Date(Date.now() - 3600_000);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) age(p);
    else if (e.isFile()) fs.utimesSync(p, past, past);
  }
}
