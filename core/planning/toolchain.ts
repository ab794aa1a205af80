// kbuild's variables for the link (LD, KBUILD_LDFLAGS, PAHOLE_FLAGS, ...) come from the tree itself,
// never from kpipe's own guesses: a goal of kpipe's own (scripts/kpipe-variables.mk, read after the
// tree's Makefile) prints them exactly as kbuild would use them, for any architecture, toolchain
// (CROSS_COMPILE, LLVM=1) and kernel line (6.1 has no `run-command`). One make call costs about a second, so the
// values are cached in `.kpipe/toolchain.json` and refreshed when what they derive from changes:
// the .config, the top and arch Makefiles, the environment given to kpipe (ARCH, CROSS_COMPILE,
// LLVM, PATH, ...; core/planning/kbuild-environment.ts) and the compiler's executable.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { error, KpipeError } from '../diagnostic.js';
import { shellQuote } from '../shell-quote.js';
import { packageTreeNote } from './tree-kind.js';
import { findExecutable, kbuildEnvironment } from './kbuild-environment.js';
import { kpipeCacheDir } from '../paths.js';

/** kpipe's own makefile for the read (shipped in scripts/, beside the package's dist/). */
const VARIABLES_MAKEFILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'scripts', 'kpipe-variables.mk');

/** Every variable a built-in plugin may ask for. Org plugins may ask for more (see `extra`). */
export const TOOLCHAIN_VARIABLES = [
  'LD', 'KBUILD_LDFLAGS', 'LDFLAGS_vmlinux', 'KBUILD_LDS', 'KBUILD_VMLINUX_LIBS', 'NM', 'OBJCOPY', 'CC',
  'NOSTDINC_FLAGS', 'LINUXINCLUDE', 'KBUILD_CPPFLAGS', 'KBUILD_AFLAGS', 'KBUILD_AFLAGS_KERNEL',
  'PAHOLE', 'PAHOLE_FLAGS', 'MODULE_PAHOLE_FLAGS', 'RESOLVE_BTFIDS', 'KBUILD_LDFLAGS_MODULE', 'LDFLAGS_MODULE',
  'srctree', 'SRCARCH', 'CONFIG_SHELL', 'KERNELRELEASE', 'MAKE', 'STRIP', 'INSTALL_MOD_STRIP',
  // The arch post-link checks (arch/*/tools/*_check.sh) are given these, as Makefile.postlink does.
  'OBJDUMP', 'BASH',
  // kpipe install compresses modules with the tree's compressors, as Makefile.modinst does.
  'KGZIP', 'XZ', 'ZSTD',
  // gen-btf.sh (7.x) compiles an empty C object for vmlinux's BTF and passes resolve_btfids its flags.
  'KBUILD_CFLAGS', 'CLANG_FLAGS', 'RESOLVE_BTFIDS_FLAGS',
  // The hand-off's records of Makefile.vmlinux's objcopy recipes (7.x) and of the module link.
  'OBJCOPYFLAGS', 'objtree',
] as const;

export type ToolchainVariable = (typeof TOOLCHAIN_VARIABLES)[number];

export interface Toolchain {
  /** 'tree': read from an output tree; 'placeholder': no tree (explain --profile), values are `$(VAR)`. */
  readonly kind: 'tree' | 'placeholder';
  /** The raw value, as make expands it. */
  value(name: ToolchainVariable): string;
  /** The value split into argv words, as link-vmlinux.sh's unquoted expansion does. */
  words(name: ToolchainVariable): string[];
  /** Where the values came from, for `kpipe explain -v`. */
  readonly origin: string;
  /**
   * The environment kbuild's top Makefile exports to its sub-makes (srctree, KBUILD_CFLAGS, ...), so a
   * delegated compile (`make -f scripts/Makefile.build obj=init init/version-timestamp.o`) runs as
   * link-vmlinux.sh runs it, without re-reading the top Makefile (0.1 s instead of 0.8 s).
   */
  readonly kbuildEnv: Readonly<Record<string, string>>;
}

/** The make program and the variables kbuild needs on every call (it does not remember ARCH). */
export interface MakeEnvironment {
  make: string;
  /** ARCH, CROSS_COMPILE, LLVM, KBUILD_BUILD_* ... as given to kpipe, passed to every make call. */
  env: NodeJS.ProcessEnv;
  /**
   * `M=DIR`: an external module directory (absolute). kbuild reads M only from make's command line
   * (`ifeq ("$(origin M)", "command line")`), so it travels as a word, not in the environment.
   */
  extmod?: string;
}

/** The words every make call of the tree carries besides its targets: `M=DIR` for external modules. */
export function makeWords(makeEnv: MakeEnvironment): string[] {
  return makeEnv.extmod ? [`M=${makeEnv.extmod}`] : [];
}

export function placeholderToolchain(reason: string): Toolchain {
  return {
    kind: 'placeholder',
    origin: reason,
    value: (name) => `$(${name})`,
    words: (name) => [`$(${name})`],
    kbuildEnv: {},
  };
}

function treeToolchain(values: Record<string, string>, kbuildEnv: Record<string, string>, origin: string): Toolchain {
  return {
    kind: 'tree',
    origin,
    kbuildEnv,
    value: (name) => values[name] ?? '',
    words: (name) => (values[name] ?? '').split(/\s+/).filter((w) => w.length > 0),
  };
}

/** The source tree an O= output tree was configured from (kbuild leaves a `source` symlink). */
export function srctreeOf(objtree: string): string | undefined {
  try {
    return fs.realpathSync(path.join(objtree, 'source'));
  } catch {
    const makefile = path.join(objtree, 'Makefile');
    if (!fs.existsSync(makefile)) return undefined;
    const m = /^include (.+)\/Makefile$/m.exec(fs.readFileSync(makefile, 'utf8'));
    return m ? m[1] : fs.existsSync(path.join(objtree, 'Kconfig')) ? objtree : undefined;
  }
}

// 3: OBJDUMP and BASH were added (an older cache would answer '' for them). 4: KGZIP, XZ, ZSTD. 5: read
// through scripts/kpipe-variables.mk, with KBUILD_CFLAGS, CLANG_FLAGS and RESOLVE_BTFIDS_FLAGS.
const CACHE_VERSION = 5;

interface CachedToolchain {
  version: number;
  key: string;
  values: Record<string, string>;
  kbuildEnv: Record<string, string>;
}

/**
 * Where the read is cached: the state directory's `.kpipe/` (the output tree, or the external module
 * directory) and, for `M=DIR`, also kpipe's cache directory (core/paths.ts kpipeCacheDir), under the key:
 * a fresh checkout of a module, or `git clean -dfx` in it, would otherwise pay the make call again,
 * and so would each module built against the same packaged headers at the same path.
 */
function cacheFiles(stateDir: string, makeEnv: MakeEnvironment, key: string): string[] {
  const own = path.join(stateDir, '.kpipe', 'toolchain.json');
  return makeEnv.extmod ? [own, path.join(kpipeCacheDir(makeEnv.env), 'toolchain', `${key.slice(0, 32)}.json`)] : [own];
}

/** `stateDir`: where `.kpipe/` lives (the output tree, or the external module directory). */
export function loadToolchain(objtree: string, makeEnv: MakeEnvironment, stateDir = objtree): Toolchain {
  const key = cacheKey(objtree, makeEnv);
  const files = cacheFiles(stateDir, makeEnv, key);
  for (const file of files) {
    const cached = readCache(file, key);
    if (!cached) continue;
    // Found outside the state directory: kept there too, for the next run.
    if (file !== files[0]) writeCache(files[0]!, cached);
    return treeToolchain(cached.values, cached.kbuildEnv, `${file} (cached make kpipe-variables)`);
  }
  const { values, kbuildEnv } = askMake(objtree, makeEnv);
  for (const file of files) writeCache(file, { version: CACHE_VERSION, key, values, kbuildEnv });
  return treeToolchain(values, kbuildEnv, `make -C ${objtree} -f Makefile -f ${VARIABLES_MAKEFILE} kpipe-variables`);
}

/** The cached read in `file` if it is of this version and key. */
function readCache(file: string, key: string): CachedToolchain | undefined {
  try {
    const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as CachedToolchain;
    return cached.version === CACHE_VERSION && cached.key === key ? cached : undefined;
  } catch {
    return undefined; // no cache, or an unreadable one
  }
}

function writeCache(file: string, cached: CachedToolchain): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify(cached, null, 2));
    fs.renameSync(tmp, file);
  } catch {
    // Only a cache: a read-only or full tree can still be explained (run reports the tree itself).
    fs.rmSync(tmp, { force: true });
  }
}

function askMake(objtree: string, makeEnv: MakeEnvironment): { values: Record<string, string>; kbuildEnv: Record<string, string> } {
  // ASCII record separators: a value may hold spaces, quotes or '%', never \x1e. The exported
  // environment follows as JSON, printed by this very node binary (no GNU `env -0`).
  const printed = TOOLCHAIN_VARIABLES.map((v) => `"$(${v})"`).join(' ');
  // make expands `$` in the command it is given: a `$` in node's own path must reach sh as `$`.
  const dumpEnv = `${shellQuote(process.execPath).replace(/\$/g, '$$$$')} -e 'process.stdout.write(JSON.stringify(process.env))'`;
  const command = `printf '%s\\036' ${printed}; ${dumpEnv}`;
  const r = spawnSync(makeEnv.make, ['-s', '--no-print-directory', '-C', objtree, '-f', 'Makefile', '-f', VARIABLES_MAKEFILE, 'kpipe-variables', ...makeWords(makeEnv), `KPIPE_COMMAND=${command}`], {
    env: makeEnv.env,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.error || r.status !== 0) {
    throw new KpipeError([
      error('toolchain', `could not read kbuild's variables from ${objtree}`, {
        hint: `the command was: ${makeEnv.make} -s -C ${objtree} -f Makefile -f ${VARIABLES_MAKEFILE} kpipe-variables ...\n${(r.stderr ?? String(r.error ?? '')).trim()}${packageTreeNote(objtree)}`,
      }),
    ]);
  }
  const fields = r.stdout.split('\x1e');
  const values: Record<string, string> = {};
  TOOLCHAIN_VARIABLES.forEach((name, i) => {
    values[name] = (fields[i] ?? '').trim();
  });
  const kbuildEnv = JSON.parse(fields[TOOLCHAIN_VARIABLES.length] ?? '{}') as Record<string, string>;
  // What belonged to that one make call, not to the tree: its jobserver, its level, its command.
  for (const k of ['KPIPE_COMMAND', 'MAKELEVEL', 'MFLAGS', 'MAKEOVERRIDES', 'MAKE_TERMOUT', 'MAKE_TERMERR']) delete kbuildEnv[k];
  kbuildEnv.MAKEFLAGS = 'rR --no-print-directory';
  return { values, kbuildEnv };
}

function cacheKey(objtree: string, makeEnv: MakeEnvironment): string {
  const h = crypto.createHash('sha256');
  const srctree = srctreeOf(objtree) ?? objtree;
  const hashFile = (f: string) => {
    try {
      h.update(f).update(fs.readFileSync(f));
    } catch {
      h.update(`${f}: missing`);
    }
  };
  hashFile(path.join(objtree, '.config'));
  const arch = makeEnv.env.ARCH ?? '';
  for (const f of ['Makefile', 'scripts/Makefile.lib', 'scripts/Kbuild.include', 'scripts/Makefile.compiler']) {
    hashFile(path.join(srctree, f));
  }
  for (const dir of fs.existsSync(path.join(srctree, 'arch')) ? fs.readdirSync(path.join(srctree, 'arch')) : []) {
    if (arch === '' || arch.startsWith(dir) || (dir === 'x86' && /^(x86_64|i386)$/.test(arch))) hashFile(path.join(srctree, 'arch', dir, 'Makefile'));
  }
  h.update(`M=${makeEnv.extmod ?? ''}\n`);
  // The whole environment, not only ARCH, CC, KCFLAGS...: the cached kbuildEnv is the environment
  // make saw, and every delegated make runs with it. A PATH that now finds another compiler, or a
  // shell without the KBUILD_BUILD_* of the last one, must not get the old values back.
  h.update(JSON.stringify(kbuildEnvironment(makeEnv.env)));
  // The compiler itself: kbuild's cc-option and cc-version answers are in the values, and an upgraded
  // compiler at the same path gives others.
  h.update(`compiler ${executableSignature(compilerWord(makeEnv.env), makeEnv.env, objtree)}\n`);
  return h.digest('hex');
}

/** The C compiler kbuild's top Makefile picks: CC, else clang with LLVM=1, else $(CROSS_COMPILE)gcc. */
function compilerWord(env: NodeJS.ProcessEnv): string {
  if (env.CC) return env.CC.split(/\s+/)[0] ?? '';
  const llvm = env.LLVM ?? '';
  if (llvm === '1') return 'clang';
  if (llvm.endsWith('/')) return `${llvm}clang`;
  if (llvm.startsWith('-')) return `clang${llvm}`;
  return `${env.CROSS_COMPILE ?? ''}gcc`;
}

/** The compiler's executable as its resolved path, size and mtime; `-` when PATH has none. */
function executableSignature(word: string, env: NodeJS.ProcessEnv, objtree: string): string {
  const found = findExecutable(word, env.PATH ?? '', objtree);
  try {
    const real = fs.realpathSync(found ?? '');
    const st = fs.statSync(real, { bigint: true });
    return `${real} ${st.size} ${st.mtimeNs}`;
  } catch {
    return '-';
  }
}
