// The edit loop's narrow compile (core/state/kbuild-narrow.ts): from what changed since kbuild's last
// success, which of kbuild's makefiles to ask for what, on a small tree laid out as kbuild leaves one
// (records of objects, nested thin archives, vmlinux.a, vmlinux.o, modpost's Module.symvers, a module),
// and when make must be asked for its whole traversal instead.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { age, COMPILE, IDENTITY, record, write, type KbuildTree as Tree } from '../helpers/kbuild-records.js';
import { forgetKbuildInputs, keepKbuildInputs, type KbuildContext } from '../../core/state/kbuild-inputs.js';
import { archiveMembers, narrowCompile, shellCommand, type NarrowCompile } from '../../core/state/kbuild-narrow.js';

/** A compiled object: the file and fixdep's record of it. */
function object(out: string, src: string, target: string, headers: string[]): void {
  const source = `${src}/${target.replace(/\.o$/, '.c')}`;
  write(path.join(out, target), 'obj');
  const slash = target.lastIndexOf('/');
  write(path.join(out, `${target.slice(0, slash)}/.${target.slice(slash + 1)}.cmd`), record(target, `gcc -c -o ${target} ${source}`, headers.map((h) => `${src}/${h}`), source));
  write(source, `int x; /* ${target} */\n`);
}

function makeTree(): Tree {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-kbuild-narrow-'));
  const src = path.join(root, 'src');
  const out = path.join(root, 'out');
  for (const f of ['Makefile', 'Kbuild', 'Kconfig', 'scripts/Makefile.build', 'scripts/Makefile.vmlinux_o', 'scripts/Makefile.modpost', 'scripts/head-object-list.txt', 'kernel/Makefile', 'kernel/sub/Makefile', 'drivers/Makefile', 'drivers/m/Makefile', 'arch/x86/kernel/Makefile']) write(path.join(src, f), `# ${f}\n`);
  write(path.join(src, 'include/linux/a.h'), '#define A 1\n');
  write(path.join(src, 'include/linux/offsets.h'), '#define O 1\n');
  write(path.join(out, '.config'), 'CONFIG_FOO=y\n');
  write(path.join(out, 'include/config/auto.conf'), 'CONFIG_FOO=y\n');
  object(out, src, 'kernel/a.o', ['include/linux/a.h']);
  object(out, src, 'kernel/sub/b.o', ['include/linux/a.h']);
  object(out, src, 'drivers/m/m.o', []);
  object(out, src, 'arch/x86/kernel/setup.o', []);
  write(path.join(out, 'kernel/sub/built-in.a'), 'ar');
  write(path.join(out, 'kernel/sub/.built-in.a.cmd'), record('kernel/sub/built-in.a', 'rm -f kernel/sub/built-in.a;  printf "kernel/sub/%s " b.o | xargs ar cDPrST kernel/sub/built-in.a'));
  write(path.join(out, 'kernel/built-in.a'), 'ar');
  write(path.join(out, 'kernel/.built-in.a.cmd'), record('kernel/built-in.a', 'rm -f kernel/built-in.a;  printf "kernel/%s " a.o sub/built-in.a | xargs ar cDPrST kernel/built-in.a'));
  write(path.join(out, 'arch/x86/kernel/built-in.a'), 'ar');
  write(path.join(out, 'arch/x86/kernel/.built-in.a.cmd'), record('arch/x86/kernel/built-in.a', 'rm -f arch/x86/kernel/built-in.a;  printf "arch/x86/kernel/%s " setup.o | xargs ar cDPrST arch/x86/kernel/built-in.a'));
  write(path.join(out, 'built-in.a'), 'ar');
  write(path.join(out, '.built-in.a.cmd'), record('built-in.a', 'rm -f built-in.a;  printf "./%s " kernel/built-in.a arch/x86/kernel/built-in.a | xargs ar cDPrST built-in.a'));
  write(path.join(out, 'vmlinux.a'), 'ar');
  write(path.join(out, '.vmlinux.a.cmd'), record('vmlinux.a', `rm -f vmlinux.a; ar cDPrST vmlinux.a ./built-in.a ; ar mPiT $$(ar t vmlinux.a | sed -n 1p) vmlinux.a $$(ar t vmlinux.a | grep -F -f ${src}/scripts/head-object-list.txt)`));
  write(path.join(out, 'vmlinux.o'), 'elf');
  write(path.join(out, '.vmlinux.o.cmd'), record('vmlinux.o', 'ld -r -o vmlinux.o --whole-archive vmlinux.a --no-whole-archive'));
  write(path.join(out, 'Module.symvers'), 'symvers');
  write(path.join(out, '.Module.symvers.cmd'), record('Module.symvers', 'scripts/mod/modpost -M -o Module.symvers -T modules.order vmlinux.o'));
  write(path.join(out, 'modules.order'), 'drivers/m/m.o\n');
  // asm-offsets: a generated file made from a header, which only the whole traversal remakes.
  write(path.join(out, 'arch/x86/kernel/asm-offsets.s'), 'asm');
  write(path.join(out, 'arch/x86/kernel/.asm-offsets.s.cmd'), record('arch/x86/kernel/asm-offsets.s', `gcc -S -o arch/x86/kernel/asm-offsets.s ${src}/arch/x86/kernel/asm-offsets.c`, [`${src}/include/linux/offsets.h`], `${src}/arch/x86/kernel/asm-offsets.c`));
  write(path.join(src, 'arch/x86/kernel/asm-offsets.c'), 'int o;\n');
  age(root);
  const ctx: KbuildContext = { objtree: out, srctree: src, stateDir: out, env: { PATH: '/nonexistent', ARCH: 'x86_64' }, programs: [] };
  return { root, src, out, ctx };
}

function kept(): Tree {
  const t = makeTree();
  assert.is(keepKbuildInputs(COMPILE, IDENTITY, 'tree', t.ctx, new Set(), Date.now(), Date.now()), undefined);
  return t;
}

function edit(file: string, text: string): void {
  write(file, text);
}

function plan(t: Tree): NarrowCompile | string {
  return narrowCompile(COMPILE, IDENTITY, { ...t.ctx, seen: new Map() });
}

function narrowed(t: Tree): NarrowCompile {
  const p = plan(t);
  if (typeof p === 'string') assert.unreachable(`narrowed, not: ${p}`);
  return p as NarrowCompile;
}

test('a builtin source edited: its directory, then each archive up to vmlinux.a, deepest first, subdirectories kept out', () => {
  const t = kept();
  edit(path.join(t.src, 'kernel/sub/b.c'), 'int b = 2;\n');
  const p = narrowed(t);
  assert.equal(p.changed, ['kernel/sub/b.c']);
  assert.equal(p.builds, [
    { dir: 'kernel/sub', goals: ['kernel/sub/b.o', 'kernel/sub/built-in.a'], old: [] },
    { dir: 'kernel', goals: ['kernel/built-in.a'], old: ['kernel/sub'] },
    { dir: '.', goals: ['built-in.a'], old: ['./arch', './drivers', './include', './kernel'] },
  ]);
  // vmlinux.a is the top Makefile's: its saved command, as the shell runs it.
  assert.equal(p.rerun.map((r) => r.target), ['vmlinux.a']);
  assert.not.ok(p.vmlinuxA, 'before 7.2 the top Makefile makes vmlinux.a itself');
  assert.match(p.rerun[0]!.command, /ar mPiT \$\(ar t vmlinux\.a \| sed -n 1p\)/);
  assert.equal(p.reached.map((r) => r.target).sort(), ['Module.symvers', 'built-in.a', 'kernel/built-in.a', 'kernel/sub/b.o', 'kernel/sub/built-in.a', 'vmlinux.a', 'vmlinux.o']);
  fs.rmSync(t.root, { recursive: true, force: true });
});

test('7.2 (scripts/Makefile.vmlinux_a): built-in-fixup.a and vmlinux.a are that makefile\'s, asked as the top Makefile\'s vmlinux_a asks it', () => {
  const t = makeTree();
  write(path.join(t.src, 'scripts/Makefile.vmlinux_a'), '# scripts/Makefile.vmlinux_a\n');
  write(path.join(t.out, 'built-in-fixup.a'), 'ar');
  write(path.join(t.out, '.built-in-fixup.a.cmd'), record('built-in-fixup.a', `rm -f built-in-fixup.a; ar cDPrST built-in-fixup.a built-in.a  lib/lib.a; ar mPi $$(ar t built-in-fixup.a | sed -n 1p) built-in-fixup.a $$(ar t built-in-fixup.a | grep -F -f ${t.src}/scripts/head-object-list.txt)`));
  write(path.join(t.out, '.vmlinux.a.cmd'), record('vmlinux.a', 'cat built-in-fixup.a > vmlinux.a'));
  age(t.root);
  assert.is(keepKbuildInputs(COMPILE, IDENTITY, 'tree', t.ctx, new Set(), Date.now(), Date.now()), undefined);
  edit(path.join(t.src, 'kernel/a.c'), 'int a = 2;\n');
  const p = narrowed(t);
  assert.equal(p.builds.map((b) => b.dir), ['kernel', '.']);
  assert.equal(p.rerun, [], 'no saved command is rerun: the makefile decides');
  assert.ok(p.vmlinuxA);
  assert.equal(p.reached.map((r) => r.target).sort(), ['Module.symvers', 'built-in-fixup.a', 'built-in.a', 'kernel/a.o', 'kernel/built-in.a', 'vmlinux.a', 'vmlinux.o']);
  fs.rmSync(t.root, { recursive: true, force: true });
});

test('a header two objects include: both directories; a module source: its directory alone, no archive', () => {
  const t = kept();
  edit(path.join(t.src, 'include/linux/a.h'), '#define A 2\n');
  const p = narrowed(t);
  assert.equal(p.builds.map((b) => [b.dir, b.goals]), [
    ['kernel/sub', ['kernel/sub/b.o', 'kernel/sub/built-in.a']],
    ['kernel', ['kernel/a.o', 'kernel/built-in.a']],
    ['.', ['built-in.a']],
  ]);
  fs.rmSync(t.root, { recursive: true, force: true });

  const u = kept();
  edit(path.join(u.src, 'drivers/m/m.c'), 'int m = 2;\n');
  const q = narrowed(u);
  assert.equal(q.builds.map((b) => [b.dir, b.goals]), [['drivers/m', ['drivers/m/m.o']]]);
  assert.equal(q.rerun, []);
  fs.rmSync(u.root, { recursive: true, force: true });
});

test('the whole traversal: a Makefile, the configuration, a generated file reached, a file gone', () => {
  const cases: [(t: Tree) => void, string | RegExp][] = [
    [(t) => edit(path.join(t.src, 'kernel/Makefile'), 'obj-y += c.o\n'), 'kernel/Makefile changed'],
    [(t) => edit(path.join(t.out, '.config'), 'CONFIG_FOO=n\n'), '.config changed'],
    [(t) => edit(path.join(t.src, 'include/linux/offsets.h'), '#define O 2\n'), /^arch\/x86\/kernel\/asm-offsets\.s is made from include\/linux\/offsets\.h, which only kbuild's whole traversal remakes$/],
    [(t) => fs.rmSync(path.join(t.src, 'include/linux/a.h')), 'include/linux/a.h is gone'],
    [(t) => edit(path.join(t.out, 'kernel/a.o'), 'edited by hand'), 'kernel/a.o changed, and nothing it is made from did'],
  ];
  for (const [change, why] of cases) {
    const t = kept();
    change(t);
    const p = plan(t);
    if (typeof why === 'string') assert.is(p, why);
    else assert.match(typeof p === 'string' ? p : JSON.stringify(p), why);
    fs.rmSync(t.root, { recursive: true, force: true });
  }
  const t = kept();
  assert.is(narrowCompile(COMPILE, 'identity-2', t.ctx), 'its command changed');
  assert.is(narrowCompile(COMPILE, IDENTITY, { ...t.ctx, env: { ...t.ctx.env, KCFLAGS: '-O3' } }), 'KCFLAGS changed in the environment');
  fs.rmSync(t.root, { recursive: true, force: true });
});

test('after a compile that failed or was killed: what it remade on the way is reached again, and narrowed', () => {
  const t = kept();
  edit(path.join(t.src, 'kernel/a.c'), 'int a = 2;\n');
  // The run starts (its kept inputs set aside), compiles a.o, and dies before the archives.
  forgetKbuildInputs(t.out, COMPILE.id);
  edit(path.join(t.out, 'kernel/a.o'), 'new obj');
  const p = narrowed(t);
  assert.equal([...p.changed].sort(), ['kernel/a.c', 'kernel/a.o']);
  assert.equal(p.builds.map((b) => b.dir), ['kernel', '.']);
  fs.rmSync(t.root, { recursive: true, force: true });
});

test("archive members and saved commands, as kbuild writes them", () => {
  assert.equal(archiveMembers('rm -f kernel/built-in.a;  printf "kernel/%s " fork.o sched/built-in.a | xargs ar cDPrST kernel/built-in.a', 'kernel/built-in.a'), ['kernel/fork.o', 'kernel/sched/built-in.a']);
  assert.equal(archiveMembers('rm -f built-in.a;  printf "./%s " init/built-in.a | xargs ar cDPrST built-in.a', 'built-in.a'), ['init/built-in.a']);
  assert.equal(archiveMembers('rm -f lib/lib.a; ar cDPrsT lib/lib.a lib/a.o lib/b.o', 'lib/lib.a'), ['lib/a.o', 'lib/b.o']);
  assert.is(shellCommand("echo $$(date) '$(pound)x'"), "echo $(date) '#x'");
});

test.run();
