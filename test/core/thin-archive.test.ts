import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { thinArchiveMembers } from '../../plugins/link/thin-archive.js';

function header(name: string, size: number): string {
  return `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'644'.padEnd(8)}${String(size).padEnd(10)}\`\n`;
}

test('lists the members of a GNU thin archive, long names included, relative to the tree', () => {
  const symtab = 'SYMS';
  const first = 'drivers/tty/serial/8250/8250_core.o/\n';
  const longNames = `${first}kernel/panic.o/\n`;
  // ar pads data of odd size with one '\n', so the next header starts on an even offset.
  const pad = longNames.length % 2 === 1 ? '\n' : '';
  const text = '!<thin>\n' + header('/', symtab.length) + symtab + header('//', longNames.length) + longNames + pad
    + header('init/main.o/', 1234) + header('/0', 99) + header(`/${first.length}`, 42);
  assert.equal(thinArchiveMembers(text, 'vmlinux.a'), ['init/main.o', 'drivers/tty/serial/8250/8250_core.o', 'kernel/panic.o']);
  assert.equal(thinArchiveMembers('!<thin>\n' + header('string.o/', 10), 'lib/lib.a'), ['lib/string.o']);
});

test('a regular archive is not thin: its bytes already change with its members', () => {
  assert.is(thinArchiveMembers('!<arch>\n', 'x.a'), undefined);
});

test.run();
