import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { thinArchiveMembers } from '../../plugins/link/thin-archive.js';

function header(name: string, size: number): string {
  return `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'644'.padEnd(8)}${String(size).padEnd(10)}\`\n`;
}

const bytes = (...parts: Array<string | Buffer>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));

test('lists the members of a GNU thin archive, long names included, relative to the tree', () => {
  const symtab = 'SYMS';
  const first = 'drivers/tty/serial/8250/8250_core.o/\n';
  const longNames = `${first}kernel/panic.o/\n`;
  // ar pads data of odd size with one '\n', so the next header starts on an even offset.
  const pad = longNames.length % 2 === 1 ? '\n' : '';
  const archive = bytes('!<thin>\n', header('/', symtab.length), symtab, header('//', longNames.length), longNames, pad,
    header('init/main.o/', 1234), header('/0', 99), header(`/${first.length}`, 42));
  assert.equal(thinArchiveMembers(archive, 'vmlinux.a'), ['init/main.o', 'drivers/tty/serial/8250/8250_core.o', 'kernel/panic.o']);
  assert.equal(thinArchiveMembers(bytes('!<thin>\n', header('string.o/', 10)), 'lib/lib.a'), ['lib/string.o']);
});

test('a symbol table whose binary offsets look like UTF-8 does not shift the headers after it', () => {
  // Big-endian offsets such as 0x0002c3a9 and 0x0002e282ac hold valid UTF-8 sequences (é, €): decoded
  // as text they would shrink by three bytes and every later header would be read from the wrong place.
  const symtab = Buffer.from([0, 0, 0, 2, 0, 2, 0xc3, 0xa9, 0, 2, 0xe2, 0x82, 0xac, 0x41, 0x00, 0x42, 0x00, 0x00]);
  const archive = bytes('!<thin>\n', header('/', symtab.length), symtab, header('kernel/panic.o/', 7), header('mm/shrinker.o/', 9));
  assert.equal(thinArchiveMembers(archive, 'vmlinux.a'), ['kernel/panic.o', 'mm/shrinker.o']);
});

test('a regular archive is not thin: its bytes already change with its members', () => {
  assert.is(thinArchiveMembers(bytes('!<arch>\n'), 'x.a'), undefined);
});

test.run();
