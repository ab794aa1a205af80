// modules-builtin's byte work, done in-process: Makefile.vmlinux's `sed -i 's/\x00\+$/\x00/g'` and
// `chmod -x` on modules.builtin.modinfo, and its tr/sed/uniq pipeline that makes modules.builtin.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBuiltin } from '../../core/running/builtins.js';
import { registerModulesBuiltinBuiltins } from '../../plugins/modules-builtin/index.js';

registerModulesBuiltinBuiltins();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-modinfo-'));
const ctx = { objtree: dir, resolve: (p: string) => path.resolve(dir, p) };

test('trailing NULs become one and the file loses its execute bits', async () => {
  fs.writeFileSync(path.join(dir, 'm'), Buffer.from('a.file=lib/a\0a.license=GPL\0\0\0\0\0\0\0', 'latin1'), { mode: 0o755 });
  await getBuiltin('modules-builtin-trim')!(['m'], ctx);
  assert.is(fs.readFileSync(path.join(dir, 'm'), 'latin1'), 'a.file=lib/a\0a.license=GPL\0');
  assert.is(fs.statSync(path.join(dir, 'm')).mode & 0o111, 0);
});

test('modules.builtin: each .file= as kernel/FILE.ko, shared objects split, adjacent repeats once', async () => {
  const modinfo = 'crc32.file=lib/crc32\0crc32.license=GPL\0x_y.file=drivers/a drivers/b\0x_y.parmtype=n:int\0z.file=drivers/b\0plain=lib/no\0';
  fs.writeFileSync(path.join(dir, 'mi'), Buffer.from(modinfo, 'latin1'));
  await getBuiltin('modules-builtin-list')!(['mi', 'list'], ctx);
  assert.is(fs.readFileSync(path.join(dir, 'list'), 'utf8'), 'kernel/lib/crc32.ko\nkernel/drivers/a.ko\nkernel/drivers/b.ko\n');
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
test.run();
