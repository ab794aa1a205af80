// core/elf/elf-section.ts on real objects made by gcc and objcopy, and on hand-made big-endian files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { elfSections, readElfSection } from '../../core/elf/elf-section.js';

let dir: string;
test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-elf-'));
});
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(argv: string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, encoding: 'utf8' });
  assert.is(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
}

test('a section objcopy added to a gcc object reads back byte for byte (ELF64 little endian)', () => {
  fs.writeFileSync(path.join(dir, 'a.c'), 'int answer = 42;\n');
  run(['gcc', '-c', 'a.c', '-o', 'a.o']);
  const content = Buffer.from(Array.from({ length: 36 }, (_, i) => (i * 37 + 11) & 0xff));
  fs.writeFileSync(path.join(dir, 'h.bin'), content);
  run(['objcopy', '--add-section', '.module_hashes=h.bin', '--set-section-flags', '.module_hashes=readonly', 'a.o', 'b.o']);
  const elf = fs.readFileSync(path.join(dir, 'b.o'));
  const got = readElfSection(elf, '.module_hashes');
  assert.ok(got && got.equals(content), 'content');
  const info = elfSections(elf);
  assert.is(info.class, 64);
  assert.is(info.littleEndian, true);
  assert.ok(info.sections.some((s) => s.name === '.data'));
  assert.is(readElfSection(fs.readFileSync(path.join(dir, 'a.o')), '.module_hashes'), undefined);
});

test('ELF32 little endian (objcopy -O elf32-little)', () => {
  const r = spawnSync('objcopy', ['-O', 'elf32-little', 'b.o', 'b32.o'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) return; // this objcopy cannot convert: the hand-made files below still cover ELF32
  const elf = fs.readFileSync(path.join(dir, 'b32.o'));
  assert.is(elfSections(elf).class, 32);
  assert.ok(readElfSection(elf, '.module_hashes')?.equals(fs.readFileSync(path.join(dir, 'h.bin'))));
});

/** A minimal ELF: header, one data section, .shstrtab, section headers; big-endian. */
function handMade(is64: boolean, payload: Buffer): Buffer {
  const ehsize = is64 ? 64 : 52;
  const shentsize = is64 ? 64 : 40;
  const names = Buffer.from('\0.module_hashes\0.shstrtab\0', 'latin1');
  const dataOff = ehsize;
  const namesOff = dataOff + payload.length;
  const shoff = namesOff + names.length;
  const b = Buffer.alloc(shoff + 3 * shentsize);
  b.write('\x7fELF', 0, 'latin1');
  b[4] = is64 ? 2 : 1;
  b[5] = 2; // big endian
  b[6] = 1;
  b.writeUInt16BE(1, 16);
  if (is64) {
    b.writeBigUInt64BE(BigInt(shoff), 0x28);
    b.writeUInt16BE(ehsize, 0x34);
    b.writeUInt16BE(shentsize, 0x3a);
    b.writeUInt16BE(3, 0x3c);
    b.writeUInt16BE(2, 0x3e);
  } else {
    b.writeUInt32BE(shoff, 0x20);
    b.writeUInt16BE(ehsize, 0x28);
    b.writeUInt16BE(shentsize, 0x2e);
    b.writeUInt16BE(3, 0x30);
    b.writeUInt16BE(2, 0x32);
  }
  payload.copy(b, dataOff);
  names.copy(b, namesOff);
  const sh = (i: number, name: number, type: number, off: number, size: number) => {
    const o = shoff + i * shentsize;
    b.writeUInt32BE(name, o);
    b.writeUInt32BE(type, o + 4);
    if (is64) {
      b.writeBigUInt64BE(BigInt(off), o + 0x18);
      b.writeBigUInt64BE(BigInt(size), o + 0x20);
    } else {
      b.writeUInt32BE(off, o + 0x10);
      b.writeUInt32BE(size, o + 0x14);
    }
  };
  sh(1, 1, 1, dataOff, payload.length);
  sh(2, 16, 3, namesOff, names.length);
  return b;
}

for (const is64 of [false, true]) {
  test(`hand-made big-endian ELF${is64 ? 64 : 32}`, () => {
    const payload = Buffer.from('0123456789abcdef0123456789abcdef\0\0\0\x05', 'latin1');
    const elf = handMade(is64, payload);
    const info = elfSections(elf);
    assert.is(info.class, is64 ? 64 : 32);
    assert.is(info.littleEndian, false);
    assert.equal(info.sections.map((s) => s.name), ['', '.module_hashes', '.shstrtab']);
    assert.ok(readElfSection(elf, '.module_hashes')!.equals(payload));
  });
}

test('not an ELF, or truncated: a clear error', () => {
  assert.throws(() => elfSections(Buffer.from('hello world, not elf')), /not an ELF/);
  const elf = handMade(true, Buffer.alloc(36));
  assert.throws(() => elfSections(elf.subarray(0, elf.length - 10)), /beyond the end/);
});

test.run();
