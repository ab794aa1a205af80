import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { getBuiltin, registerBuiltin, runBuiltinStandalone } from '../../core/running/builtins.js';
import { makeTree, type Tree } from './fixture.js';
import { DETACHED_BUILTIN, registerDetachedBuiltin, type DetachedPlan } from '../../plugins/btf/detached.js';

let t: Tree;
test.before.each(() => {
  t = makeTree();
});
test.after.each(() => t.remove());

const ctx = (tr: Tree) => ({ objtree: tr.dir, resolve: (p: string) => path.resolve(tr.dir, p) });

/** A 64-byte ELF header with e_type ET_EXEC (2) in the given byte order. */
function elf(data: 1 | 2): Buffer {
  const b = Buffer.alloc(64);
  b.write('\x7fELF', 0, 'latin1');
  b[4] = 2; // ELFCLASS64
  b[5] = data;
  b[6] = 1;
  if (data === 1) b.writeUInt16LE(2, 16);
  else b.writeUInt16BE(2, 16);
  return b;
}

test('elf-set-type-rel: little endian gets 01 00 at offset 16, nothing else changes', async () => {
  fs.writeFileSync(path.join(t.dir, 'x.o'), elf(1));
  await getBuiltin('elf-set-type-rel')!(['x.o'], ctx(t));
  const after = fs.readFileSync(path.join(t.dir, 'x.o'));
  assert.equal([...after.subarray(16, 18)], [1, 0]);
  const expected = elf(1);
  expected.writeUInt16LE(1, 16);
  assert.ok(after.equals(expected));
});

test('elf-set-type-rel: big endian gets 00 01', async () => {
  fs.writeFileSync(path.join(t.dir, 'x.o'), elf(2));
  await getBuiltin('elf-set-type-rel')!(['x.o'], ctx(t));
  assert.equal([...fs.readFileSync(path.join(t.dir, 'x.o')).subarray(16, 18)], [0, 1]);
});

test('elf-set-type-rel: refuses a file that is not ELF, without touching it', async () => {
  t.write('x.o', 'this is not an ELF file at all');
  const run = getBuiltin('elf-set-type-rel')!(['x.o'], ctx(t));
  await run.then(
    () => assert.unreachable('should fail'),
    (e: Error) => assert.match(e.message, /x\.o is not an ELF file/),
  );
  assert.is(t.read('x.o'), 'this is not an ELF file at all');
});

test('files-equal: passes on equal files, fails with the given message otherwise', async () => {
  t.write('a', 'same bytes'.repeat(200_000));
  t.write('b', 'same bytes'.repeat(200_000));
  t.write('c', `${'same bytes'.repeat(199_999)}same bytez`);
  const eq = getBuiltin('files-equal')!;
  await eq(['a', 'b', 'differ'], ctx(t));
  await eq(['a', 'c', 'System.map and .tmp_vmlinux2.syms differ'], ctx(t)).then(
    () => assert.unreachable('should fail'),
    (e: Error) => assert.is(e.message, 'System.map and .tmp_vmlinux2.syms differ'),
  );
});

test('copy and write-file', async () => {
  t.write('src', 'payload');
  await getBuiltin('copy')!(['src', 'dst'], ctx(t));
  await getBuiltin('write-file')!(['note', 'two\nlines'], ctx(t));
  assert.is(t.read('dst'), 'payload');
  assert.is(t.read('note'), 'two\nlines');
});

test('wrong argument counts are plain errors', async () => {
  await getBuiltin('copy')!(['only-one'], ctx(t)).then(
    () => assert.unreachable('should fail'),
    (e: Error) => assert.match(e.message, /copy: expected SRC DST, got 1 argument/),
  );
});

test('plugins register more; names are unique', async () => {
  const fn = async () => {};
  registerBuiltin('test-plugin-thing', fn);
  assert.is(getBuiltin('test-plugin-thing'), fn);
  assert.throws(() => registerBuiltin('test-plugin-thing', async () => {}), /already registered/);
});

test('runBuiltinStandalone (kpipe builtin NAME ARGS...) maps failures to exit statuses', async () => {
  t.write('a', 'x');
  t.write('b', 'y');
  assert.equal(await runBuiltinStandalone('files-equal', ['a', 'b', 'nope'], t.dir), { status: 1, message: 'nope' });
  assert.is((await runBuiltinStandalone('no-such', [], t.dir)).status, 2);
  assert.equal(await runBuiltinStandalone('copy', ['a', 'c'], t.dir), { status: 0 });
});

test("btf-detached for vmlinux, run in place as under ninja: the link it reads is left as it is", async () => {
  registerDetachedBuiltin();
  // Stand-ins for pahole and resolve_btfids that insist on reading a regular file, as the tools do;
  // the compiler and objcopy are the real ones.
  const tool = (name: string, body: string) => {
    t.write(`bin/${name}`, `#!/bin/sh\n${body}\n`);
    fs.chmodSync(path.join(t.dir, 'bin', name), 0o755);
    return path.join(t.dir, 'bin', name);
  };
  const pahole = tool('pahole', 'for a; do elf=$a; done; [ -f "$elf" ] && [ ! -L "$elf" ] || { echo "$elf: Invalid argument" >&2; exit 1; }\nfor a; do case $a in --btf_encode_detached=*) echo btf > "${a#*=}";; esac; done');
  const resolveBtfids = tool('resolve_btfids', 'for a; do elf=$a; done; [ -f "$elf" ] || exit 1; echo btf > "$elf.BTF"; echo ids > "$elf.BTF_ids"');
  t.write('.tmp_vmlinux1', 'the first link');
  const plan: DetachedPlan = { mode: 'vmlinux', elf: '.tmp_vmlinux1', pahole: [pahole, '-J'], resolveBtfids: [resolveBtfids], objcopy: ['objcopy'], cc: ['cc', '-c', '-x', 'c'], object: '.tmp_vmlinux1.btf.o', ids: '.tmp_vmlinux1.BTF_ids' };
  await getBuiltin(DETACHED_BUILTIN)!([JSON.stringify(plan)], ctx(t));
  assert.is(t.read('.tmp_vmlinux1'), 'the first link');
  assert.not.ok(fs.lstatSync(path.join(t.dir, '.tmp_vmlinux1')).isSymbolicLink());
  assert.is(t.read('.tmp_vmlinux1.BTF_ids'), 'ids\n');
  assert.ok(fs.readFileSync(path.join(t.dir, '.tmp_vmlinux1.btf.o')).subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')));
  assert.not.ok(fs.existsSync(path.join(t.dir, '.tmp_vmlinux1.BTF')), 'scratch removed');
});

test.run();
