// What `make modules_install` does to each module under the tree's config (scripts/Makefile.modinst),
// read from the tree so kpipe's install is kbuild's (issue 16, point 3): the install strip, signing
// when CONFIG_MODULE_SIG_ALL, compression per CONFIG_MODULE_COMPRESS_*, and depmod. The compression
// commands are taken from the tree's own Makefile.modinst because they change between releases (6.1
// runs `zstd -T0`, 6.12 plain `zstd`; 6.12 compresses only with MODULE_COMPRESS_ALL, 6.1 always).
import fs from 'node:fs';
import path from 'node:path';
import type { Kconfig } from '../planning/kconfig.js';

export interface Compression {
  /** kbuild's quiet tag: GZIP, XZ, ZSTD. */
  tag: string;
  /** What the tool appends to the file it compresses (and removes the original, as `-f`/`--rm` do). */
  suffix: string;
  /** The program and options of `cmd_<tool>`; the file to compress follows. */
  argv: string[];
}

export interface Signing {
  /** CONFIG_MODULE_SIG_HASH. */
  hash: string;
  /** The key as sign-file gets it: a pkcs11: URI as is, else a path (relative to the tree unless absolute). */
  key: string;
  /** When the key is a file: its absolute path, to check before signing. */
  keyFile?: string;
  cert: string;
  /** scripts/sign-file of the tree, absolute. */
  tool: string;
}

export interface ModinstPolicy {
  compression?: Compression;
  signing?: Signing;
}

const METHODS = [
  { symbol: 'MODULE_COMPRESS_GZIP', tool: 'gzip', tag: 'GZIP', suffix: '.gz', program: 'KGZIP', fallback: ['-n', '-f'] },
  { symbol: 'MODULE_COMPRESS_XZ', tool: 'xz', tag: 'XZ', suffix: '.xz', program: 'XZ', fallback: ['--check=crc32', '--lzma2=dict=1MiB', '-f'] },
  { symbol: 'MODULE_COMPRESS_ZSTD', tool: 'zstd', tag: 'ZSTD', suffix: '.zst', program: 'ZSTD', fallback: ['--rm', '-f', '-q'] },
] as const;

/** The program variables of the compressors ($(KGZIP), $(XZ), $(ZSTD)), as the tree's make has them. */
export type CompressorPrograms = Partial<Record<'KGZIP' | 'XZ' | 'ZSTD', string[]>>;

/**
 * `modinst`: the text of the tree's scripts/Makefile.modinst (undefined when absent: 6.12's rules).
 * `srctree`-relative paths are resolved against `objtree`, where kbuild runs the install.
 */
export function modinstPolicy(kconfig: Kconfig, objtree: string, modinst: string | undefined, programs: CompressorPrograms): ModinstPolicy {
  const policy: ModinstPolicy = {};
  const method = METHODS.find((m) => kconfig.isEnabled(m.symbol));
  // 6.12: `ifdef CONFIG_MODULE_COMPRESS_ALL` around the suffixes; older trees compress whenever a method is chosen.
  const gated = modinst === undefined || modinst.includes('CONFIG_MODULE_COMPRESS_ALL');
  if (method && (!gated || kconfig.isEnabled('MODULE_COMPRESS_ALL'))) {
    const program = programs[method.program]?.length ? programs[method.program]! : [method.tool];
    policy.compression = { tag: method.tag, suffix: method.suffix, argv: [...program, ...(compressOptions(modinst, method.tool, method.program) ?? method.fallback)] };
  }
  if (kconfig.isEnabled('MODULE_SIG_ALL')) {
    const key = kconfig.get('MODULE_SIG_KEY') ?? 'certs/signing_key.pem';
    const hash = kconfig.get('MODULE_SIG_HASH') ?? 'sha512';
    const signing: Signing = { hash, key, cert: 'certs/signing_key.x509', tool: path.join(objtree, 'scripts/sign-file') };
    if (!key.startsWith('pkcs11:')) signing.keyFile = path.resolve(objtree, key);
    policy.signing = signing;
  }
  return policy;
}

/** The options of `cmd_<tool> = $(PROGRAM) OPTIONS $<` in Makefile.modinst's text, if it has that line. */
function compressOptions(modinst: string | undefined, tool: string, program: string): string[] | undefined {
  if (modinst === undefined) return undefined;
  const m = new RegExp(`^\\s*cmd_${tool}\\s*=\\s*\\$\\(${program}\\)(.*?)\\$<\\s*$`, 'm').exec(modinst);
  return m ? m[1]!.split(/\s+/).filter((w) => w.length > 0) : undefined;
}

/** The tree's Makefile.modinst: in its source tree (`srctree`), or beside the tree's own scripts. */
export function readModinst(objtree: string, srctree: string | undefined): string | undefined {
  for (const dir of [srctree, objtree]) {
    if (dir === undefined) continue;
    try {
      return fs.readFileSync(path.join(dir, 'scripts/Makefile.modinst'), 'utf8');
    } catch {
      // Not there: try the next.
    }
  }
  return undefined;
}
