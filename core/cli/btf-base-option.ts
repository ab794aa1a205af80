// `--btf-base FILE`, checked before any step runs (issue 16, point 4): a base that is missing, not a
// file or holds no BTF used to surface only after the whole compile, as a plan error naming no option
// or as libbpf's "failed to get EHDR" once per module. And split BTF made against another kernel's
// BTF loads nowhere, so a base whose release is not the tree's gets a warning at run time, not only
// at install time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { error, type Diagnostic } from '../diagnostic.js';
import { readElfSection } from '../elf/elf-section.js';
import { releaseOfTree } from '../planning/kernel-version.js';

/** The running kernel's BTF: its release is `uname -r`, whatever the file's bytes say. */
const RUNNING_KERNEL_BTF = '/sys/kernel/btf/vmlinux';

/** BTF's magic, 0xeB9F, in either byte order (a big-endian kernel's BTF reads as 0x9FeB here). */
function isBtf(bytes: Buffer): boolean {
  return bytes.length >= 24 && (bytes.readUInt16LE(0) === 0xeb9f || bytes.readUInt16BE(0) === 0xeb9f);
}

function isElf(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes.readUInt32BE(0) === 0x7f454c46;
}

/** The release in a vmlinux's `linux_banner` ("Linux version 6.12.117 (user@host) ..."), if it has one. */
export function bannerRelease(bytes: Buffer): string | undefined {
  const marker = Buffer.from('Linux version ');
  for (let at = bytes.indexOf(marker); at >= 0; at = bytes.indexOf(marker, at + 1)) {
    const end = bytes.indexOf(' (', at + marker.length);
    if (end < 0) return undefined;
    const release = bytes.subarray(at + marker.length, end).toString('latin1');
    // The banner's release is one printable word; "Linux version %s" format strings are not.
    if (/^[0-9][\x21-\x7e]*$/.test(release)) return release;
  }
  return undefined;
}

/**
 * Errors for a base that cannot be one; a warning when its release differs from the tree's.
 * `file` is absolute; `objtree` the output tree the modules are built against.
 */
export function checkBtfBase(file: string, objtree: string | undefined, runningRelease: string = os.release()): Diagnostic[] {
  const option = `--btf-base ${file}`;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return [error('btf-base', `${option}: ${code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? (e as Error).message})`}`, {
      hint: `give the vmlinux (or ${RUNNING_KERNEL_BTF}) of the kernel the modules are for`,
    })];
  }
  if (!stat.isFile()) return [error('btf-base', `${option}: is a ${stat.isDirectory() ? 'directory' : 'special file'}, not a file holding BTF`)];
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    return [error('btf-base', `${option}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)];
  }
  if (isElf(bytes)) {
    let btf: Buffer | undefined;
    try {
      btf = readElfSection(bytes, '.BTF');
    } catch (e) {
      return [error('btf-base', `${option}: not a readable ELF file (${(e as Error).message})`)];
    }
    if (btf === undefined || !isBtf(btf)) {
      return [error('btf-base', `${option}: an ELF file without BTF (no .BTF section)`, { hint: 'a kernel built with CONFIG_DEBUG_INFO_BTF has one; so does the vmlinux of a headers package' })];
    }
  } else if (!isBtf(bytes)) {
    return [error('btf-base', `${option}: neither an ELF file with a .BTF section nor raw BTF (no BTF magic 0xeb9f)`)];
  }
  return releaseWarning(file, bytes, objtree, runningRelease);
}

function releaseWarning(file: string, bytes: Buffer, objtree: string | undefined, runningRelease: string): Diagnostic[] {
  if (objtree === undefined) return [];
  // A tree without a release cannot be compared (the toolchain read reports it).
  const treeRelease = releaseOfTree(objtree)?.value;
  if (treeRelease === undefined) return [];
  const running = path.resolve(file) === RUNNING_KERNEL_BTF;
  const release = running ? runningRelease : isElf(bytes) ? bannerRelease(bytes) : undefined;
  if (release === undefined || release === treeRelease) return [];
  const what = running ? `the BTF of the running kernel (${release}, uname -r)` : `the BTF of a ${release} kernel (its banner)`;
  return [{
    code: 'btf-base-release',
    severity: 'warning',
    message: `--btf-base ${file} is ${what}, but ${objtree} is ${treeRelease} (include/config/kernel.release): split BTF loads only on the kernel whose BTF it was made against`,
    hint: `for modules to load on ${treeRelease}, give that kernel's vmlinux`,
  }];
}
