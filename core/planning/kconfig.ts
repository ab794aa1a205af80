// The Kconfig symbols a plan is resolved against, each with where its value came from, so
// `kpipe explain` can say "MODULE_HASHES=y (from --set)" and not just "on".
//
// Sources, later ones winning: a profile in configs/ (--profile) or the output tree's
// include/config/auto.conf (falling back to .config) (-C DIR); then --set SYM=VALUE.
// Symbols are stored without the CONFIG_ prefix. `ARCH` is a pseudo-symbol: the kernel's source
// architecture directory (SRCARCH: `x86` for ARCH=x86_64 or i386), so `when ARCH=x86` reads as in kbuild.
// `KBUILD_EXTMOD` is another: y when kpipe builds external modules (`M=DIR`), as kbuild's variable.
// `KERNELVERSION` (and `KERNELRELEASE`) are the tree's kernel version: core/planning/kernel-version.ts.
import fs from 'node:fs';
import path from 'node:path';
import { error, KpipeError, type Diagnostic } from '../diagnostic.js';
import { packageTreeNote } from './tree-kind.js';
import { KERNELRELEASE, KERNELVERSION, releaseOfTree, versionOfProfile, versionOfSource } from './kernel-version.js';

export interface SymbolOrigin {
  kind: 'objtree' | 'profile' | 'set' | 'environment' | 'derived';
  /** The file, or the option as typed. */
  where: string;
}

export interface SymbolValue {
  value: string;
  origin: SymbolOrigin;
}

export class Kconfig {
  private readonly symbols = new Map<string, SymbolValue>();

  /** y, m, n, a number, or a string without its quotes; undefined when not set at all. */
  get(symbol: string): string | undefined {
    return this.symbols.get(symbol)?.value;
  }

  /** Kconfig's truth: a bool or tristate is on when it is y or m. */
  isEnabled(symbol: string): boolean {
    const v = this.get(symbol);
    return v === 'y' || v === 'm';
  }

  origin(symbol: string): SymbolOrigin | undefined {
    return this.symbols.get(symbol)?.origin;
  }

  set(symbol: string, value: string, origin: SymbolOrigin): void {
    this.symbols.set(symbol, { value, origin });
  }

  names(): string[] {
    return [...this.symbols.keys()];
  }

  /** "MODULE_HASHES=y (--set MODULE_HASHES=y)" or "MODULE_HASHES is not set". */
  describe(symbol: string): string {
    const entry = this.symbols.get(symbol);
    if (!entry || entry.value === 'n') return `${symbol} is not set`;
    return `${symbol}=${entry.value}`;
  }
}

/**
 * Parses `.config` / `auto.conf` text: `CONFIG_FOO=y`, `CONFIG_BAR="text"`, `# CONFIG_BAZ is not set`.
 * Lines that are neither are ignored, as Kconfig itself does.
 */
export function parseKconfigText(text: string, origin: SymbolOrigin, into: Kconfig = new Kconfig()): Kconfig {
  for (const line of text.split('\n')) {
    const set = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (set) {
      into.set(set[1]!, unquote(set[2]!), origin);
      continue;
    }
    const unset = /^# CONFIG_([A-Za-z0-9_]+) is not set$/.exec(line);
    if (unset) into.set(unset[1]!, 'n', origin);
  }
  return into;
}

function unquote(raw: string): string {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) {
    return raw.slice(1, -1).replace(/\\(["\\])/g, '$1');
  }
  return raw;
}

/** Kbuild's SRCARCH for an ARCH value (the top Makefile's own mapping). */
export function srcarchOf(arch: string): string {
  if (arch === 'x86_64' || arch === 'i386') return 'x86';
  if (arch === 'sparc32' || arch === 'sparc64') return 'sparc';
  if (arch === 'parisc64') return 'parisc';
  return arch;
}

/** The architecture a config was made for, from the symbols every arch's Kconfig defines. */
function archFromSymbols(kconfig: Kconfig): string | undefined {
  const bySymbol: Array<[string, string]> = [
    ['X86', 'x86'], ['ARM64', 'arm64'], ['ARM', 'arm'], ['RISCV', 'riscv'], ['PPC', 'powerpc'],
    ['MIPS', 'mips'], ['S390', 's390'], ['LOONGARCH', 'loongarch'], ['SPARC', 'sparc'], ['UML', 'um'],
  ];
  return bySymbol.find(([sym]) => kconfig.isEnabled(sym))?.[1];
}

export interface KconfigRequest {
  /** Output tree (`-C DIR`). */
  objtree?: string;
  /** Path of a profile file (`--profile NAME` resolved by the caller). */
  profileFile?: string;
  /** `--set SYM=VALUE`, in order. */
  sets?: readonly string[];
  /** ARCH as make gets it: given, or the tree's (core/planning/tree-arch.ts). */
  envArch?: string;
  /** How that ARCH is known, for explain (default: `ARCH=<envArch>`). */
  archOrigin?: string;
  /** `M=DIR`: sets the pseudo-symbol KBUILD_EXTMOD, so a pipeline can say what an external build skips. */
  extmod?: string;
  /** The output tree's source tree, where KERNELVERSION is read (core/planning/kernel-version.ts). */
  srctree?: string;
}

export function loadKconfig(request: KconfigRequest): Kconfig {
  const kconfig = new Kconfig();
  const diagnostics: Diagnostic[] = [];
  if (request.profileFile) {
    readInto(kconfig, request.profileFile, 'profile', diagnostics);
  } else if (request.objtree) {
    const autoConf = path.join(request.objtree, 'include/config/auto.conf');
    const dotConfig = path.join(request.objtree, '.config');
    const file = fs.existsSync(autoConf) ? autoConf : dotConfig;
    if (!fs.existsSync(file)) {
      diagnostics.push(error('no-kconfig', `no Kconfig in ${request.objtree}: neither include/config/auto.conf nor .config exists`, {
        // A package's tree is restored by the package manager, never configured by make.
        hint: packageTreeNote(request.objtree).trim() || 'run `make O=DIR olddefconfig` (or a *config target) first, or use --profile NAME',
      }));
    } else {
      readInto(kconfig, file, 'objtree', diagnostics);
    }
  }
  // Before --set, so `--set KERNELVERSION=6.1.0` plans a tree as another release would be planned.
  const version = request.profileFile
    ? versionOfProfile(readText(request.profileFile), request.profileFile)
    : request.srctree !== undefined ? versionOfSource(request.srctree) : undefined;
  if (version) kconfig.set(KERNELVERSION, version.value, version.origin);
  const release = request.objtree !== undefined && !request.profileFile ? releaseOfTree(request.objtree) : undefined;
  if (release) kconfig.set(KERNELRELEASE, release.value, release.origin);
  for (const assignment of request.sets ?? []) {
    const m = /^(?:CONFIG_)?([A-Za-z0-9_]+)=(.*)$/s.exec(assignment);
    if (!m) {
      diagnostics.push(error('bad-set', `--set expects SYM=VALUE, got '${assignment}'`));
      continue;
    }
    kconfig.set(m[1]!, unquote(m[2]!), { kind: 'set', where: `--set ${assignment}` });
  }
  if (diagnostics.length > 0) throw new KpipeError(diagnostics);
  if (request.extmod !== undefined) kconfig.set('KBUILD_EXTMOD', 'y', { kind: 'environment', where: `M=${request.extmod}` });
  if (kconfig.get('ARCH') === undefined) {
    const fromEnv = request.envArch;
    const arch = fromEnv ? srcarchOf(fromEnv) : archFromSymbols(kconfig);
    if (arch) kconfig.set('ARCH', arch, fromEnv ? { kind: 'environment', where: request.archOrigin ?? `ARCH=${fromEnv}` } : { kind: 'derived', where: `CONFIG_${arch === 'x86' ? 'X86' : arch.toUpperCase()}` });
  } else {
    kconfig.set('ARCH', srcarchOf(kconfig.get('ARCH')!), kconfig.origin('ARCH')!);
  }
  return kconfig;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return ''; // reported by readInto
  }
}

function readInto(kconfig: Kconfig, file: string, kind: 'objtree' | 'profile', diagnostics: Diagnostic[]): void {
  try {
    parseKconfigText(fs.readFileSync(file, 'utf8'), { kind, where: file }, kconfig);
  } catch (e) {
    diagnostics.push(error('no-kconfig', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`));
  }
}
