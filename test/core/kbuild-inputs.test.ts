// When kpipe may take a delegated step as current without asking make (core/state/kbuild-inputs.ts),
// on a small tree laid out as kbuild leaves one: an O= output tree with `.cmd` records, a source tree
// with Makefiles, Kconfig and tools/. Each test changes one thing make would notice and expects the
// check to notice it too, naming it; and the few changes make ignores leave the step current.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Step } from '../../core/planning/step.js';
import { age, COMPILE, IDENTITY, record, write, type KbuildTree as Tree } from '../helpers/kbuild-records.js';
import { checkKbuildInputs, forgetKbuildInputs, keepKbuildInputs, type KbuildContext } from '../../core/state/kbuild-inputs.js';

function makeTree(): Tree {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-kbuild-inputs-'));
  const src = path.join(root, 'src');
  const out = path.join(root, 'out');
  for (const f of ['Makefile', 'Kconfig', 'scripts/Makefile.build', 'scripts/Kbuild.include', 'arch/x86/Makefile', 'kernel/Makefile', 'kernel/Kconfig.hz']) write(path.join(src, f), `# ${f}\n`);
  write(path.join(src, 'kernel/a.c'), 'int a;\n');
  write(path.join(src, 'include/linux/a.h'), '#define A 1\n');
  write(path.join(src, 'arch/x86/entry/syscalls/syscall_64.tbl'), '0 common read sys_read\n');
  write(path.join(src, 'tools/objtool/check.c'), 'int check;\n');
  write(path.join(src, 'tools/objtool/noreturns.h'), '\n');
  write(path.join(out, '.config'), 'CONFIG_FOO=y\n');
  write(path.join(out, 'Makefile'), 'include $(src)/Makefile\n');
  write(path.join(out, 'include/config/auto.conf'), 'CONFIG_FOO=y\n');
  write(path.join(out, 'include/config/auto.conf.cmd'), 'deps_config := \\\n\tKconfig \\\n\tkernel/Kconfig.hz \\\n\n');
  write(path.join(out, 'include/config/FOO'), '');
  write(path.join(out, 'kernel/a.o'), 'obj');
  write(path.join(out, 'kernel/.a.o.cmd'), record('kernel/a.o', `gcc -Wp,-MMD,kernel/.a.o.d -c -o kernel/a.o ${src}/kernel/a.c`, [`${src}/include/linux/a.h`, '$(wildcard include/config/FOO)', '$(wildcard include/config/BAR)'], `${src}/kernel/a.c`));
  write(path.join(out, 'arch/x86/include/generated/asm/unistd_64.h'), '#define __NR_read 0\n');
  write(path.join(out, 'arch/x86/include/generated/asm/.unistd_64.h.cmd'), `savedcmd_arch/x86/include/generated/asm/unistd_64.h := sh ${src}/scripts/syscallhdr.sh ${src}/arch/x86/entry/syscalls/syscall_64.tbl arch/x86/include/generated/asm/unistd_64.h\n`);
  write(path.join(src, 'scripts/syscallhdr.sh'), '#!/bin/sh\n');
  // objtool's own make: absolute target, paths relative to its source directory.
  write(path.join(out, 'tools/objtool/check.o'), 'obj');
  write(path.join(out, 'tools/objtool/.check.o.cmd'), `cmd_${out}/tools/objtool/check.o := gcc -c -o ${out}/tools/objtool/check.o check.c\nsource_${out}/tools/objtool/check.o := check.c\n\ndeps_${out}/tools/objtool/check.o := \\\n  noreturns.h \\\n\n`);
  write(path.join(out, 'vmlinux.a'), 'archive');
  write(path.join(out, '.vmlinux.a.cmd'), 'savedcmd_vmlinux.a := ar cDPrST vmlinux.a kernel/a.o\n');
  // kpipe's own outputs, and a later phase's record that reads one: none of the compile phase's inputs.
  write(path.join(out, 'vmlinux'), 'elf');
  write(path.join(out, '.vmlinux.cmd'), 'savedcmd_vmlinux := scripts/link-vmlinux.sh\n');
  write(path.join(out, 'arch/x86/boot/compressed/vmlinux.bin'), 'bin');
  write(path.join(out, 'arch/x86/boot/compressed/.vmlinux.bin.cmd'), 'savedcmd_arch/x86/boot/compressed/vmlinux.bin := objcopy -R .comment -S vmlinux arch/x86/boot/compressed/vmlinux.bin\n');
  const bin = path.join(root, 'bin');
  write(path.join(bin, 'gcc'), '#!/bin/sh\n');
  fs.chmodSync(path.join(bin, 'gcc'), 0o755);
  age(root);
  const ctx: KbuildContext = { objtree: out, srctree: src, stateDir: out, env: { PATH: bin, ARCH: 'x86_64', OLDPWD: '/a' }, programs: ['gcc'] };
  return { root, src, out, ctx };
}

const OTHERS = new Set(['vmlinux', '.vmlinux.cmd']);

function keep(t: Tree, ctx: KbuildContext = t.ctx, startedMs = Date.now(), endedMs = Date.now()): string | undefined {
  return keepKbuildInputs(COMPILE, IDENTITY, 'tree', ctx, OTHERS, startedMs, endedMs);
}

function check(t: Tree, ctx: KbuildContext = t.ctx) {
  return checkKbuildInputs(COMPILE, IDENTITY, ctx);
}

/** A user's edit (new content, stamped now) or removal of a file, after kbuild's run. */
function edit(file: string, text: string | undefined): void {
  if (text === undefined) fs.rmSync(file);
  else write(file, text);
}

function changedBy(change: (t: Tree) => void): string {
  const t = makeTree();
  try {
    assert.is(keep(t), undefined);
    const before = check(t);
    assert.ok(before.current, JSON.stringify(before));
    change(t);
    const after = check(t);
    assert.not.ok(after.current, 'the change was noticed');
    return after.current ? '' : after.changed;
  } finally {
    fs.rmSync(t.root, { recursive: true, force: true });
  }
}

test('kept after a success: current while nothing changed, with the number of files watched', () => {
  const t = makeTree();
  assert.is(keep(t), undefined);
  const c = check(t);
  assert.ok(c.current);
  if (c.current) assert.ok(c.files > 20, `${c.files} files`);
  // Another command (another -j, another target) is another question for make.
  assert.equal(checkKbuildInputs(COMPILE, 'identity-2', t.ctx), { current: false, changed: 'its command changed' });
  forgetKbuildInputs(t.out, COMPILE.id);
  assert.equal(check(t), { current: false, changed: 'kpipe kept no record of its inputs' });
  fs.rmSync(t.root, { recursive: true, force: true });
});

test('a source, a header, a Kconfig file, .config: each edit is named', () => {
  assert.is(changedBy((t) => edit(path.join(t.src, 'kernel/a.c'), 'int a = 2;\n')), 'kernel/a.c changed');
  assert.is(changedBy((t) => edit(path.join(t.src, 'include/linux/a.h'), '#define A 2\n')), 'include/linux/a.h changed');
  assert.is(changedBy((t) => edit(path.join(t.src, 'kernel/Kconfig.hz'), 'config HZ\n')), 'kernel/Kconfig.hz changed');
  assert.is(changedBy((t) => edit(path.join(t.out, '.config'), 'CONFIG_FOO=n\n')), '.config changed');
});

test('CONFIG_ option files (fixdep wildcards): one appearing or changing counts, as for make', () => {
  assert.is(changedBy((t) => edit(path.join(t.out, 'include/config/BAR'), '')), 'include/config/BAR appeared');
  assert.is(changedBy((t) => edit(path.join(t.out, 'include/config/FOO'), 'x')), 'include/config/FOO changed');
});

test("Makefiles: the record's directory, a new Kbuild beside it, scripts/, the arch's", () => {
  assert.is(changedBy((t) => edit(path.join(t.src, 'kernel/Makefile'), 'obj-y += b.o\n')), 'kernel/Makefile changed');
  assert.is(changedBy((t) => edit(path.join(t.src, 'kernel/Kbuild'), 'obj-y += b.o\n')), 'kernel/Kbuild appeared');
  assert.is(changedBy((t) => edit(path.join(t.src, 'scripts/Makefile.build'), '# new rule\n')), 'scripts/Makefile.build changed');
  assert.is(changedBy((t) => edit(path.join(t.src, 'arch/x86/Makefile'), 'KBUILD_CFLAGS += -O3\n')), 'arch/x86/Makefile changed');
  // The Makefile of the directory of a file a command names (arch/x86/entry/syscalls builds unistd_64.h).
  assert.is(changedBy((t) => edit(path.join(t.src, 'arch/x86/entry/syscalls/Makefile'), 'abis += x32\n')), 'arch/x86/entry/syscalls/Makefile appeared');
});

test('a file only the command line names (syscall_64.tbl), and the target itself, gone', () => {
  assert.is(changedBy((t) => edit(path.join(t.src, 'arch/x86/entry/syscalls/syscall_64.tbl'), '0 common read sys_read2\n')), 'arch/x86/entry/syscalls/syscall_64.tbl changed');
  assert.is(changedBy((t) => edit(path.join(t.out, 'kernel/a.o'), undefined)), 'kernel/a.o is gone');
  assert.is(changedBy((t) => edit(path.join(t.out, 'kernel/.a.o.cmd'), undefined)), 'kernel/.a.o.cmd is gone');
});

test("tools/' own records: paths relative to the tool's source directory are found there", () => {
  assert.is(changedBy((t) => edit(path.join(t.src, 'tools/objtool/noreturns.h'), '#define X\n')), 'tools/objtool/noreturns.h changed');
  assert.is(changedBy((t) => edit(path.join(t.src, 'tools/objtool/check.c'), 'int check2;\n')), 'tools/objtool/check.c changed');
});

test('the environment, the tools, localversion files and git state count; shell-only variables do not', () => {
  const t = makeTree();
  keep(t);
  assert.equal(check(t, { ...t.ctx, env: { ...t.ctx.env, KCFLAGS: '-O2' } }), { current: false, changed: 'KCFLAGS changed in the environment' });
  assert.equal(check(t, { ...t.ctx, env: { ...t.ctx.env, ARCH: undefined } }), { current: false, changed: 'ARCH changed in the environment' });
  assert.ok(check(t, { ...t.ctx, env: { ...t.ctx.env, OLDPWD: '/elsewhere', SHLVL: '3' } }).current, 'OLDPWD and SHLVL are no business of kbuild');
  // Another terminal: an editor's (a per-window IPC socket), tmux's, a desktop session's.
  const terminal = { VSCODE_GIT_IPC_HANDLE: '/run/user/0/vscode-git-1.sock', TERM_PROGRAM: 'vscode', COLORTERM: 'truecolor', TMUX_PANE: '%3', XDG_SESSION_ID: '7', GPG_TTY: '/dev/pts/4', INVOCATION_ID: 'f00' };
  assert.ok(check(t, { ...t.ctx, env: { ...t.ctx.env, ...terminal } }).current, "a new terminal's session variables are no business of kbuild");
  assert.equal(check(t, { ...t.ctx, env: { ...t.ctx.env, TERMS: 'x' } }), { current: false, changed: 'TERMS changed in the environment' }, 'only the families listed, not a name that starts alike');
  edit(path.join(t.src, 'localversion-test'), '-x\n');
  assert.equal(check(t), { current: false, changed: 'a localversion file came or went' });
  fs.rmSync(path.join(t.src, 'localversion-test'));
  assert.ok(check(t).current);
  edit(path.join(t.root, 'bin/gcc'), '#!/bin/sh\n# 15.1\n');
  assert.equal(check(t), { current: false, changed: `${path.join(t.root, 'bin/gcc')} changed` });
  fs.rmSync(t.root, { recursive: true, force: true });
});

test("a git source tree: a commit (HEAD's branch, the index) is seen (setlocalversion's release string)", () => {
  const t = makeTree();
  write(path.join(t.src, '.git/HEAD'), 'ref: refs/heads/main\n');
  write(path.join(t.src, '.git/refs/heads/main'), 'aaaa\n');
  write(path.join(t.src, '.git/index'), 'index');
  age(t.src);
  keep(t);
  assert.ok(check(t).current);
  edit(path.join(t.src, '.git/refs/heads/main'), 'bbbb\n');
  assert.equal(check(t), { current: false, changed: '.git/refs/heads/main changed' });
  fs.rmSync(t.root, { recursive: true, force: true });
});

/** The step stays current after `change`: something make does not look at. */
function currentAfter(change: (t: Tree) => void): void {
  const t = makeTree();
  try {
    keep(t);
    change(t);
    const c = check(t);
    assert.ok(c.current, JSON.stringify(c));
  } finally {
    fs.rmSync(t.root, { recursive: true, force: true });
  }
}

test("what a no-op make writes again leaves the step current: the O= tree's wrapper Makefile, depfiles", () => {
  currentAfter((t) => {
    // scripts/mkmakefile rewrites the wrapper on every call; `.missing-syscalls.d` too (no record).
    edit(path.join(t.out, 'Makefile'), 'include $(src)/Makefile\n');
    edit(path.join(t.out, '.missing-syscalls.d'), 'deps\n');
  });
});

test("kpipe's own outputs, and records made from them, are not the compile phase's", () => {
  currentAfter((t) => {
    edit(path.join(t.out, 'vmlinux'), 'new elf');
    edit(path.join(t.out, '.vmlinux.cmd'), 'savedcmd_vmlinux := scripts/link-vmlinux.sh again\n');
    edit(path.join(t.out, 'arch/x86/boot/compressed/vmlinux.bin'), 'new bin');
  });
});

test('nothing is kept when a record cannot be told, or a watched file changed while kbuild ran', () => {
  const t = makeTree();
  // fixdep named a header that exists nowhere: make remakes kernel/a.o on every call, as it just did.
  const started = Date.now() - 1000;
  edit(path.join(t.out, 'kernel/.a.o.cmd'), record('kernel/a.o', 'gcc -c kernel/a.c', ['include/linux/gone.h']));
  edit(path.join(t.out, 'kernel/a.o'), 'remade');
  const why = keep(t, t.ctx, started);
  assert.match(why ?? '', /kernel\/\.a\.o\.cmd names include\/linux\/gone\.h, which does not exist: make remakes kernel\/a\.o every time/);
  assert.equal(check(t), { current: false, changed: `kpipe could not keep its inputs: ${why}` }, 'explain --why says why make is asked');
  // The same record with a target this make did not remake: an object of an earlier configuration.
  age(t.out);
  assert.is(keep(t), undefined);
  assert.ok(check(t).current);
  fs.rmSync(t.root, { recursive: true, force: true });

  const u = makeTree();
  // Edited a moment ago, after the step started: make may have read it before or after.
  edit(path.join(u.src, 'kernel/a.c'), 'int a = 3;\n');
  assert.is(keep(u, u.ctx, started), 'kernel/a.c changed while kbuild ran');
  assert.not.ok(check(u).current);
  // What kbuild itself wrote during the run is its own work, not an edit.
  fs.utimesSync(path.join(u.src, 'kernel/a.c'), new Date(started - 5000), new Date(started - 5000));
  edit(path.join(u.out, 'kernel/a.o'), 'new obj');
  edit(path.join(u.out, 'include/config/auto.conf'), 'CONFIG_FOO=y\n');
  assert.is(keep(u, u.ctx, started), undefined);
  assert.ok(check(u).current);
  fs.rmSync(u.root, { recursive: true, force: true });

  // A keep made after the step ended (beside the next steps, core/running/kbuild-keeps.ts): what
  // was written since the end, even a file kbuild itself writes, is not what its make saw.
  const w = makeTree();
  const ended = Date.now() - 500;
  edit(path.join(w.out, 'kernel/a.o'), 'written by a later step');
  assert.is(keep(w, w.ctx, started, ended), 'kernel/a.o changed after kbuild ran');
  fs.utimesSync(path.join(w.out, 'kernel/a.o'), new Date(ended - 100), new Date(ended - 100));
  assert.is(keep(w, w.ctx, started, ended), undefined, 'written before the end: kbuild\'s own');
  fs.rmSync(w.root, { recursive: true, force: true });
});

test("the 'outputs' scope: the records of the step's own outputs only; a missing one is said", () => {
  const t = makeTree();
  const step: Step = { ...COMPILE, id: 'x:a.o', outputs: ['kernel/a.o'], kbuildInputs: 'outputs' };
  assert.is(keepKbuildInputs(step, IDENTITY, 'outputs', t.ctx, new Set(), Date.now(), Date.now()), undefined);
  edit(path.join(t.src, 'arch/x86/entry/syscalls/syscall_64.tbl'), 'other\n');
  assert.ok(checkKbuildInputs(step, IDENTITY, t.ctx).current, "another record's input");
  edit(path.join(t.src, 'include/linux/a.h'), '#define A 3\n');
  assert.equal(checkKbuildInputs(step, IDENTITY, t.ctx), { current: false, changed: 'include/linux/a.h changed' });
  const missing: Step = { ...step, id: 'x:b.o', outputs: ['kernel/b.o'] };
  assert.is(keepKbuildInputs(missing, IDENTITY, 'outputs', t.ctx, new Set(), Date.now(), Date.now()), 'kbuild has no record kernel/.b.o.cmd');
  fs.rmSync(t.root, { recursive: true, force: true });
});

test('M=DIR: the records in the module directory, its sources and Kbuild; what kbuild made there may be new', () => {
  const t = makeTree();
  const dir = path.join(t.root, 'ext');
  write(path.join(dir, 'Kbuild'), 'obj-m += hello.o\n');
  write(path.join(dir, 'hello.c'), 'int hello;\n');
  write(path.join(dir, 'hello.h'), '\n');
  write(path.join(dir, 'hello.o'), 'obj');
  write(path.join(dir, '.hello.o.cmd'), record(`${dir}/hello.o`, `gcc -c -o ${dir}/hello.o ${dir}/hello.c`, [`${dir}/hello.h`, '$(wildcard include/config/FOO)'], `${dir}/hello.c`));
  write(path.join(dir, 'hello.mod.c'), 'modinfo');
  age(t.root);
  const ctx: KbuildContext = { ...t.ctx, stateDir: dir, extmod: dir };
  const started = Date.now() - 1000;
  // kbuild's products in DIR, made during the step: its own work.
  edit(path.join(dir, 'hello.o'), 'new obj');
  edit(path.join(dir, 'hello.mod.c'), 'new modinfo');
  assert.is(keep(t, ctx, started), undefined);
  const c = check(t, ctx);
  assert.ok(c.current, JSON.stringify(c));
  // The tree's own records are the basis's, not the module's.
  edit(path.join(t.src, 'kernel/a.c'), 'int a = 5;\n');
  assert.ok(check(t, ctx).current);
  edit(path.join(dir, 'Kbuild'), 'obj-m += hello.o bye.o\n');
  assert.equal(check(t, ctx), { current: false, changed: `${dir}/Kbuild changed` });
  fs.utimesSync(path.join(dir, 'Kbuild'), new Date(started - 5000), new Date(started - 5000));
  assert.is(keep(t, ctx, started), undefined);
  edit(path.join(dir, 'hello.h'), '#define H\n');
  assert.equal(check(t, ctx), { current: false, changed: `${dir}/hello.h changed` });
  // A source edited during the step is an edit, in DIR too.
  assert.is(keep(t, ctx, started), `${dir}/hello.h changed while kbuild ran`);
  fs.rmSync(t.root, { recursive: true, force: true });
});


test("a record whose .cmd is as it was is not read again, also after the run set the kept inputs aside", () => {
  const t = makeTree();
  const cmd = path.join(t.out, 'kernel/.a.o.cmd');
  const stamp = new Date(Date.now() - 7200_000);
  fs.utimesSync(cmd, stamp, stamp);
  write(path.join(t.src, 'include/linux/b.h'), '#define B 1\n');
  age(path.join(t.src, 'include'));
  assert.is(keep(t), undefined);
  // What the executor does before the step runs.
  forgetKbuildInputs(t.out, COMPILE.id);
  // The same inode, size and mtime with other content: only a re-read would see b.h instead of a.h.
  const text = fs.readFileSync(cmd, 'utf8');
  fs.writeFileSync(cmd, text.replace('linux/a.h', 'linux/b.h'), { flag: 'r+' });
  fs.utimesSync(cmd, stamp, stamp);
  assert.is(keep(t), undefined);
  edit(path.join(t.src, 'include/linux/a.h'), '#define A 2\n');
  assert.equal(check(t), { current: false, changed: 'include/linux/a.h changed' });
  fs.rmSync(t.root, { recursive: true, force: true });
});

test.run();
