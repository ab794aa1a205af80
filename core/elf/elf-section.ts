// Reads a section of an ELF file in-process (no objcopy): ELF32 and ELF64, both byte orders, through the
// section header table and the section-name string table (.shstrtab).

export interface ElfSection {
  name: string;
  type: number;
  flags: bigint;
  offset: number;
  size: number;
}

export interface ElfSections {
  class: 32 | 64;
  littleEndian: boolean;
  sections: ElfSection[];
}

const SHT_NOBITS = 8;
const SHN_UNDEF = 0;
const SHN_XINDEX = 0xffff;

/** Every section header of `elf`, with names. Throws with the reason on a file that is not a sane ELF. */
export function elfSections(elf: Buffer): ElfSections {
  if (elf.length < 16 || elf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  const cls = elf[4];
  const data = elf[5];
  if (cls !== 1 && cls !== 2) throw new Error(`unknown ELF class ${cls}`);
  if (data !== 1 && data !== 2) throw new Error(`unknown ELF data encoding ${data}`);
  const is64 = cls === 2;
  const le = data === 1;
  const ehsize = is64 ? 64 : 52;
  if (elf.length < ehsize) throw new Error('truncated ELF header');
  const u16 = (o: number) => (le ? elf.readUInt16LE(o) : elf.readUInt16BE(o));
  const u32 = (o: number) => (le ? elf.readUInt32LE(o) : elf.readUInt32BE(o));
  const u64 = (o: number) => (le ? elf.readBigUInt64LE(o) : elf.readBigUInt64BE(o));
  const addr = (o: number) => (is64 ? toNumber(u64(o)) : u32(o));
  const shoff = addr(is64 ? 0x28 : 0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  let shnum = u16(is64 ? 0x3c : 0x30);
  let shstrndx = u16(is64 ? 0x3e : 0x32);
  if (shoff === 0) return { class: is64 ? 64 : 32, littleEndian: le, sections: [] };
  const minEnt = is64 ? 64 : 40;
  if (shentsize < minEnt) throw new Error(`section header entry size ${shentsize} is too small`);
  const header = (i: number) => {
    const o = shoff + i * shentsize;
    if (o + minEnt > elf.length) throw new Error(`section header ${i} lies beyond the end of the file`);
    return {
      nameOff: u32(o),
      type: u32(o + 4),
      flags: is64 ? u64(o + 8) : BigInt(u32(o + 8)),
      offset: is64 ? toNumber(u64(o + 0x18)) : u32(o + 0x10),
      size: is64 ? toNumber(u64(o + 0x20)) : u32(o + 0x14),
      link: u32(is64 ? o + 0x28 : o + 0x18),
    };
  };
  // More than 0xff00 sections: the real counts are in section header 0.
  if (shnum === 0) shnum = header(0).size;
  if (shstrndx === SHN_XINDEX) shstrndx = header(0).link;
  const raw = Array.from({ length: shnum }, (_, i) => header(i));
  if (shstrndx === SHN_UNDEF || shstrndx >= shnum) throw new Error('no section name string table');
  const strtab = raw[shstrndx]!;
  if (strtab.offset + strtab.size > elf.length) throw new Error('.shstrtab lies beyond the end of the file');
  const names = elf.subarray(strtab.offset, strtab.offset + strtab.size);
  const nameAt = (off: number) => {
    if (off >= names.length) throw new Error(`section name offset ${off} is outside .shstrtab`);
    const end = names.indexOf(0, off);
    return names.subarray(off, end < 0 ? names.length : end).toString('latin1');
  };
  const sections = raw.map((h) => ({ name: nameAt(h.nameOff), type: h.type, flags: h.flags, offset: h.offset, size: h.size }));
  return { class: is64 ? 64 : 32, littleEndian: le, sections };
}

/** The contents of the section named `name`, or undefined when there is none. */
export function readElfSection(elf: Buffer, name: string): Buffer | undefined {
  const section = elfSections(elf).sections.find((s) => s.name === name);
  if (!section) return undefined;
  if (section.type === SHT_NOBITS) return Buffer.alloc(section.size);
  if (section.offset + section.size > elf.length) throw new Error(`section ${name} lies beyond the end of the file`);
  return Buffer.from(elf.subarray(section.offset, section.offset + section.size));
}

function toNumber(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('an ELF offset or size is too large');
  return Number(v);
}
