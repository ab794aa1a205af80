// A hand-made little-endian ELF64 with a null section, one named section holding `content`, and
// .shstrtab: the smallest file core/elf's readers accept, for tests that need a section (.BTF, ...)
// without a compiler.

/** `type`: e_type (1 ET_REL, 2 ET_EXEC); `trailer`: bytes appended after the section headers. */
export function elfWithSection(name: string, content: Buffer, options: { type?: number; trailer?: Buffer } = {}): Buffer {
  const shstrtab = Buffer.from(`\0${name}\0.shstrtab\0`, 'latin1');
  const dataOffset = 64;
  const strOffset = dataOffset + content.length;
  const shOffset = (strOffset + shstrtab.length + 7) & ~7;
  const elf = Buffer.alloc(shOffset + 3 * 64);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf[4] = 2; // ELFCLASS64
  elf[5] = 1; // little-endian
  elf[6] = 1;
  elf.writeUInt16LE(options.type ?? 1, 16);
  elf.writeUInt16LE(62, 18); // x86-64
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(BigInt(shOffset), 40);
  elf.writeUInt16LE(64, 52); // e_ehsize
  elf.writeUInt16LE(64, 58); // e_shentsize
  elf.writeUInt16LE(3, 60); // e_shnum
  elf.writeUInt16LE(2, 62); // e_shstrndx
  content.copy(elf, dataOffset);
  shstrtab.copy(elf, strOffset);
  const header = (i: number, nameAt: number, type: number, offset: number, size: number) => {
    const at = shOffset + i * 64;
    elf.writeUInt32LE(nameAt, at);
    elf.writeUInt32LE(type, at + 4);
    elf.writeBigUInt64LE(BigInt(offset), at + 24);
    elf.writeBigUInt64LE(BigInt(size), at + 32);
  };
  header(1, 1, 1 /* PROGBITS */, dataOffset, content.length);
  header(2, 2 + name.length, 3 /* STRTAB */, strOffset, shstrtab.length);
  return options.trailer ? Buffer.concat([elf, options.trailer]) : elf;
}
