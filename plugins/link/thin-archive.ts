// kbuild links thin archives (`ar cDPrST`): vmlinux.a holds only the paths of its members, so its own
// bytes do not change when kernel/panic.o does. The link's real inputs are the members, read here from
// the archive's name tables (GNU format: "//" holds the long names, each ending in "/\n").
// The archive is bytes, not text: its symbol table holds binary offsets (big-endian on every arch),
// which a text decoding would shorten wherever they happen to form a UTF-8 sequence, shifting every
// header after them (a mips tree's vmlinux.a did).
import path from 'node:path';

const THIN_MAGIC = '!<thin>\n';
const HEADER = 60;

/** Member paths relative to the output tree, or undefined when `bytes` is not a thin archive. */
export function thinArchiveMembers(bytes: Uint8Array, archive: string): string[] | undefined {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const field = (from: number, length: number) => data.toString('latin1', from, from + length);
  if (field(0, THIN_MAGIC.length) !== THIN_MAGIC) return undefined;
  const dir = path.posix.dirname(archive);
  const members: string[] = [];
  let longNames = '';
  let offset = THIN_MAGIC.length;
  while (offset + HEADER <= data.length) {
    const name = field(offset, 16).trimEnd();
    const size = Number(field(offset + 48, 10).trim());
    offset += HEADER;
    if (name === '/' || name === '/SYM64/') {
      offset += size + (size % 2); // the symbol table is stored in a thin archive too
    } else if (name === '//') {
      longNames = data.toString('utf8', offset, offset + size);
      offset += size + (size % 2);
    } else {
      // A member's data stays in its own file; only the header is here.
      const member = name.startsWith('/') ? longNameAt(longNames, Number(name.slice(1))) : name.replace(/\/$/, '');
      members.push(path.posix.normalize(path.posix.join(dir, member)));
    }
  }
  return members;
}

function longNameAt(table: string, at: number): string {
  const end = table.indexOf('/\n', at);
  return table.slice(at, end === -1 ? undefined : end);
}
