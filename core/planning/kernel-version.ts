// The kernel version a plan is for, as the pseudo-symbol KERNELVERSION (kbuild's own name: `make
// kernelversion`), so kbuild.pipeline can say `when KERNELVERSION >= 6.15` and `explain` can say where
// the value came from. Read from the tree, never assumed from kpipe's own release:
//   - an output tree: its source tree's top Makefile (VERSION, PATCHLEVEL, SUBLEVEL, EXTRAVERSION),
//     and KERNELRELEASE from include/config/kernel.release when kbuild has written it;
//   - a profile: its `# kernel-line: 6.1` comment (scripts/prepare-kernel.sh's), else 6.12, the line
//     the profiles without one were made for.
import fs from 'node:fs';
import path from 'node:path';
import type { SymbolOrigin } from './kconfig.js';

export const KERNELVERSION = 'KERNELVERSION';
export const KERNELRELEASE = 'KERNELRELEASE';

export interface KernelVersionFact {
  value: string;
  origin: SymbolOrigin;
}

/** `6.12.117` from a kernel source tree's Makefile; undefined when it has none or names no version. */
export function versionOfSource(srctree: string): KernelVersionFact | undefined {
  const makefile = path.join(srctree, 'Makefile');
  let head: string;
  try {
    // The version is in the first lines; the top Makefile is 70 kB.
    head = fs.readFileSync(makefile, 'utf8').slice(0, 2048);
  } catch {
    return undefined;
  }
  const field = (name: string) => new RegExp(`^${name}\\s*=[ \\t]*(.*)$`, 'm').exec(head)?.[1]?.trim();
  const version = field('VERSION');
  if (version === undefined || !/^[0-9]+$/.test(version)) return undefined;
  // kbuild's KERNELVERSION: $(VERSION)$(if $(PATCHLEVEL),.$(PATCHLEVEL)$(if $(SUBLEVEL),.$(SUBLEVEL)))$(EXTRAVERSION)
  const patchlevel = field('PATCHLEVEL') ?? '';
  const sublevel = field('SUBLEVEL') ?? '';
  const value = `${version}${patchlevel ? `.${patchlevel}${sublevel ? `.${sublevel}` : ''}` : ''}${field('EXTRAVERSION') ?? ''}`;
  return { value, origin: { kind: 'objtree', where: `${makefile} (VERSION, PATCHLEVEL, SUBLEVEL)` } };
}

/** KERNELRELEASE as kbuild wrote it for the tree (with LOCALVERSION), if it has. */
export function releaseOfTree(objtree: string): KernelVersionFact | undefined {
  const file = path.join(objtree, 'include/config/kernel.release');
  try {
    const value = fs.readFileSync(file, 'utf8').trim();
    return value ? { value, origin: { kind: 'objtree', where: file } } : undefined;
  } catch {
    return undefined;
  }
}

/** The line a profile is for: its `# kernel-line: X` comment, else 6.12. */
export function versionOfProfile(text: string, file: string): KernelVersionFact {
  const line = /^# kernel-line:\s*([0-9.]+)\s*$/m.exec(text)?.[1];
  return line
    ? { value: line, origin: { kind: 'profile', where: `${file} (# kernel-line: ${line})` } }
    : { value: '6.12', origin: { kind: 'profile', where: `${file} (no # kernel-line: comment: 6.12)` } };
}

/** True when `version` is on the line `line` names: `6.1` is 6.1.*, `6` is 6.*, `6.12.117` only itself. */
export function onLine(version: string, line: string): boolean {
  const v = /^[0-9]+(?:\.[0-9]+)*/.exec(version)?.[0]?.split('.') ?? [];
  const l = line.split('.');
  return l.length <= v.length && l.every((part, i) => Number(part) === Number(v[i]));
}
