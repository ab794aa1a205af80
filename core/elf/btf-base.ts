// Which BTF a module's split BTF was made from (seed 003: "testing against some pseudo-random file").
// Split BTF is only meaningful on top of the exact base it was generated against, so kpipe writes
// the base's identity next to modules.order (`modules.btf-base`) and `kpipe install` compares it with
// the vmlinux the modules are installed for. The identity is the SHA-256 of the BTF bytes: the
// `.BTF` section of an ELF base (vmlinux, .tmp_vmlinux1.btf.o), or the whole file of a raw one
// (/sys/kernel/btf/vmlinux exposes exactly those bytes), so either form of one kernel's BTF matches.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { readElfSection } from './elf-section.js';

export const BTF_BASE_RECORD = 'modules.btf-base';

export interface BtfBaseRecord {
  /** SHA-256 (hex) of the base's BTF bytes. */
  sha256: string;
  /** The base as it was named when the modules were made (for messages). */
  base: string;
}

/** SHA-256 of a file's BTF; undefined when it is an ELF without a .BTF section. Throws if unreadable. */
export function btfDigest(file: string): string | undefined {
  const bytes = fs.readFileSync(file);
  const isElf = bytes.length >= 4 && bytes.readUInt32BE(0) === 0x7f454c46;
  const btf = isElf ? readElfSection(bytes, '.BTF') : bytes;
  return btf === undefined ? undefined : crypto.createHash('sha256').update(btf).digest('hex');
}

export function formatRecord(record: BtfBaseRecord): string {
  return `# kpipe: the BTF these modules' BTF is based on: sha256 of its bytes, then the base file\n${record.sha256} ${record.base}\n`;
}

/** The record of `text`; undefined when it is not one (an older or hand-edited file is not trusted). */
export function parseRecord(text: string): BtfBaseRecord | undefined {
  const line = text.split('\n').find((l) => l.length > 0 && !l.startsWith('#'));
  const m = line === undefined ? null : /^([0-9a-f]{64}) (.+)$/.exec(line);
  return m ? { sha256: m[1]!, base: m[2]! } : undefined;
}
