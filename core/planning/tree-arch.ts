// Which ARCH an output tree is for. kbuild does not remember ARCH: a `make` without it takes the host's
// (SUBARCH) and reconfigures a tree made with another spelling (`x86_64` -> `x86`: .config,
// include/config/auto.conf and include/generated/autoconf.h rewritten). The tree does say which ARCH it
// was configured with, though: the header Kconfig writes into those three files
// (`# Linux/x86_64 6.12.117 Kernel Configuration`), and the arch symbols of the config itself. So kpipe
// takes the tree's ARCH when none is given (and passes it to every make call), refuses one that
// contradicts the tree or that the source tree has no arch/ directory for, and says up front that a
// cross tree needs CROSS_COMPILE, instead of letting a make call fail deep inside kbuild.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { error, KpipeError } from '../diagnostic.js';
import { suggest } from '../suggest.js';
import { srcarchOf } from './kconfig.js';

export interface TreeArch {
  /** ARCH as make takes it (`x86_64`), or undefined when neither the user nor the tree says. */
  arch?: string;
  /** How kpipe knows, for `kpipe explain`: `ARCH=riscv (given)`, `ARCH=x86_64 from the tree's .config (none given)`. */
  origin: string;
  /** True when the user gave ARCH (command line or environment). */
  given: boolean;
}

/** kbuild's architectures when no source tree is at hand (`explain --profile`): 6.12's and 7.2's arch/. */
const KNOWN_ARCHES = ['alpha', 'arc', 'arm', 'arm64', 'csky', 'hexagon', 'ia64', 'loongarch', 'm68k', 'microblaze', 'mips', 'nios2', 'openrisc', 'parisc', 'powerpc', 'riscv', 's390', 'sh', 'sparc', 'um', 'x86', 'xtensa'];

/** The ARCH words the top Makefile maps onto a directory of another name. */
const ARCH_ALIASES = ['i386', 'x86_64', 'sparc32', 'sparc64', 'parisc64'];

export interface TreeArchRequest {
  objtree?: string;
  srctree?: string;
  env: NodeJS.ProcessEnv;
  /** The host's machine (`uname -m`); os.machine() unless a test says otherwise. */
  machine?: string;
}

export function resolveTreeArch(request: TreeArchRequest): TreeArch {
  const given = request.env.ARCH !== undefined && request.env.ARCH !== '' ? request.env.ARCH : undefined;
  // Debian's headers packages pin their ARCH (`override ARCH = x86` in .kernelvariables, which the
  // tree's Makefile includes): whatever ARCH a user has exported, kbuild uses the tree's, so there is
  // nothing to contradict and nothing to reconfigure.
  const forced = request.objtree ? forcedArch(request.objtree) : undefined;
  if (forced !== undefined) {
    return { arch: forced, origin: `ARCH=${forced}, forced by ${path.join(request.objtree!, '.kernelvariables')}${given !== undefined && given !== forced ? ` (the ARCH=${given} given is overridden, as kbuild overrides it)` : ''}`, given: false };
  }
  if (given !== undefined) checkArchName(given, request.srctree);
  const configured = request.objtree ? configuredArch(request.objtree) : undefined;
  if (given !== undefined && configured && given !== configured.arch) {
    throw new KpipeError([
      error('arch-mismatch', `ARCH=${given} contradicts the output tree: ${request.objtree} was configured with ARCH=${configured.arch} (${configured.where})`, {
        hint: `give ARCH=${configured.arch}, or no ARCH at all (kpipe then takes the tree's); with ARCH=${given} kbuild would reconfigure the tree (it rewrites .config, include/config/auto.conf and include/generated/autoconf.h)`,
      }),
    ]);
  }
  const arch = given ?? configured?.arch;
  if (arch !== undefined && request.objtree) checkCrossCompile(arch, request.objtree, request.env, request.machine ?? os.machine());
  if (given !== undefined) return { arch: given, origin: `ARCH=${given}, given`, given: true };
  if (configured) return { arch: configured.arch, origin: `ARCH=${configured.arch} from ${configured.where}; none given`, given: false };
  return { origin: 'none given, and the tree does not say', given: false };
}

/** The ARCH a tree's `.kernelvariables` forces with `override ARCH = ...` (Debian's packaged trees). */
function forcedArch(objtree: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(objtree, '.kernelvariables'), 'utf8');
  } catch {
    return undefined;
  }
  return /^override\s+ARCH\s*:?=\s*(\S+)\s*$/m.exec(text)?.[1];
}

/** `ARCH=x68`: name the architectures the source tree has (kbuild would fail with a missing Makefile). */
function checkArchName(arch: string, srctree: string | undefined): void {
  const dirs = srctree ? archDirectories(srctree) : undefined;
  const known = dirs ?? KNOWN_ARCHES;
  if (known.includes(srcarchOf(arch))) return;
  const words = [...known, ...ARCH_ALIASES.filter((a) => known.includes(srcarchOf(a)))];
  const guess = suggest(arch, words);
  const where = srctree ? `the source tree ${srctree} has no arch/${srcarchOf(arch)}` : `kbuild has no architecture '${arch}'`;
  throw new KpipeError([
    error('unknown-arch', `ARCH=${arch}: ${where}`, {
      hint: `${guess ? `did you mean ARCH=${guess}? ` : ''}${dirs ? 'its' : "kbuild's"} architectures: ${known.join(', ')} (and ${ARCH_ALIASES.join(', ')})`,
    }),
  ]);
}

function archDirectories(srctree: string): string[] | undefined {
  try {
    return fs
      .readdirSync(path.join(srctree, 'arch'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return undefined;
  }
}

/**
 * The ARCH the tree was configured with: the Kconfig header of .config, else of auto.conf, else of
 * autoconf.h (`Linux/x86_64`); else the config's own arch symbols.
 */
export function configuredArch(objtree: string): { arch: string; where: string } | undefined {
  for (const file of ['.config', 'include/config/auto.conf', 'include/generated/autoconf.h']) {
    const head = readHead(path.join(objtree, file));
    const m = head === undefined ? null : /^(?:#| \*) Linux\/(\S+) \S+ Kernel Configuration$/m.exec(head);
    if (m) return { arch: m[1]!, where: `the header of the tree's ${file}` };
  }
  const config = readHead(path.join(objtree, '.config'), 1 << 20) ?? '';
  const on = (sym: string) => new RegExp(`^CONFIG_${sym}=y$`, 'm').test(config);
  const bySymbol: Array<[string, string]> = [
    ['X86_64', 'x86_64'], ['X86_32', 'i386'], ['ARM64', 'arm64'], ['ARM', 'arm'], ['RISCV', 'riscv'], ['PPC', 'powerpc'],
    ['MIPS', 'mips'], ['S390', 's390'], ['LOONGARCH', 'loongarch'], ['SPARC64', 'sparc64'], ['SPARC32', 'sparc32'],
  ];
  const hit = bySymbol.find(([sym]) => on(sym));
  return hit ? { arch: hit[1], where: `CONFIG_${hit[0]}=y in the tree's .config` } : undefined;
}

function readHead(file: string, bytes = 512): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(bytes);
    const n = fs.readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** kbuild's SUBARCH: the host's `uname -m` mapped as the top Makefile maps it. */
export function hostSrcarch(machine: string): string {
  const rules: Array<[RegExp, string]> = [
    [/^i.86$/, 'x86'], [/^x86_64$/, 'x86'], [/^sun4u$/, 'sparc'], [/^arm.*/, 'arm'], [/^sa110$/, 'arm'], [/^s390x$/, 's390'],
    [/^ppc.*/, 'powerpc'], [/^mips.*/, 'mips'], [/^sh[234].*/, 'sh'], [/^aarch64.*/, 'arm64'], [/^riscv.*/, 'riscv'], [/^loongarch.*/, 'loongarch'],
  ];
  return rules.find(([re]) => re.test(machine))?.[1] ?? machine;
}

/** A tree for another architecture needs its cross compiler named, as make needs it. */
function checkCrossCompile(arch: string, objtree: string, env: NodeJS.ProcessEnv, machine: string): void {
  if (srcarchOf(arch) === hostSrcarch(machine) || env.CROSS_COMPILE || (env.LLVM !== undefined && env.LLVM !== '' && env.LLVM !== '0')) return;
  // Kconfig records the compiler the tree was configured with: `riscv64-linux-gnu-gcc (Debian ...) 12.2.0`.
  const config = readHead(path.join(objtree, '.config'), 1 << 20) ?? '';
  const cc = /^CONFIG_CC_VERSION_TEXT="(\S+)/m.exec(config)?.[1];
  const prefix = cc && /^(.+-)(gcc|cc)$/.exec(cc)?.[1];
  throw new KpipeError([
    error('no-cross-compile', `${objtree} is a tree for ARCH=${arch} on a ${machine} host: give its cross compiler with CROSS_COMPILE=..., as make needs it`, {
      hint: prefix ? `the tree was configured with ${cc}: add CROSS_COMPILE=${prefix}` : 'e.g. CROSS_COMPILE=riscv64-linux-gnu- (Debian: gcc-riscv64-linux-gnu), or LLVM=1',
    }),
  ]);
}
