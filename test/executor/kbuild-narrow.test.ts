// The narrow compile through runSteps (core/running/kbuild-narrow-run.ts): with a stand-in make that
// writes kbuild's records, an edited source is compiled by asking Makefile.build for its directory and
// each archive up, vmlinux.a's saved command, then Makefile.vmlinux_o and Makefile.modpost; when the
// narrow make leaves a record it reached as it was, or fails, make's whole traversal runs after all.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cmd, exec, makeTree, step, type Tree } from './fixture.js';
import type { Step } from '../../core/planning/step.js';

// The whole traversal writes every file and record; Makefile.build calls make their goals only.
const STAND_IN_MAKE = `#!/bin/sh
S=$KP_SRC
echo "$*" >> make.log
record() { printf 'savedcmd_%s := %s\\n' "$1" "$2" > "$3"; }
case "$*" in
  *scripts/Makefile.build*)
    [ -f standin-fail ] && { echo "kernel/a.c:1:1: error: expected ';'" >&2; exit 2; }
    [ -f standin-lazy ] && exit 0
    skip=
    for w in "$@"; do
      if [ -n "$skip" ]; then skip=; continue; fi
      case "$w" in -o|-f) skip=1;; -*|*=*) ;; *.o) cp "$S/\${w%.o}.c" "$w";; *.a) cat kernel/a.o > "$w";; esac
    done;;
  *scripts/Makefile.vmlinux_o*) cat vmlinux.a > vmlinux.o;;
  *scripts/Makefile.modpost*) cat vmlinux.o > Module.symvers;;
  *)
    mkdir -p kernel
    cp "$S/kernel/a.c" kernel/a.o
    printf 'savedcmd_kernel/a.o := cc -c -o kernel/a.o %s/kernel/a.c\\n\\nsource_kernel/a.o := %s/kernel/a.c\\n\\ndeps_kernel/a.o := \\\\\\n  %s/include/a.h \\\\\\n\\n' "$S" "$S" "$S" > kernel/.a.o.cmd
    cat kernel/a.o > kernel/built-in.a
    record kernel/built-in.a 'rm -f kernel/built-in.a;  printf "kernel/%s " a.o | xargs ar cDPrST kernel/built-in.a' kernel/.built-in.a.cmd
    cat kernel/built-in.a > built-in.a
    record built-in.a 'rm -f built-in.a;  printf "./%s " kernel/built-in.a | xargs ar cDPrST built-in.a' .built-in.a.cmd
    cat built-in.a > vmlinux.a
    record vmlinux.a 'rm -f vmlinux.a; cat built-in.a > vmlinux.a; echo $$PPID > /dev/null' .vmlinux.a.cmd
    cat vmlinux.a > vmlinux.o
    record vmlinux.o 'ld -r -o vmlinux.o vmlinux.a' .vmlinux.o.cmd
    cat vmlinux.o > Module.symvers
    record Module.symvers 'modpost -o Module.symvers vmlinux.o' .Module.symvers.cmd;;
esac
`;

let t: Tree;
let src: string;
test.before.each(() => {
  t = makeTree();
  src = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-narrow-src-')));
  for (const f of ['Makefile', 'Kbuild', 'kernel/Makefile', 'scripts/Makefile.build', 'scripts/Makefile.vmlinux_o', 'scripts/Makefile.modpost']) writeSrc(f, `# ${f}\n`);
  writeSrc('kernel/a.c', 'int a;\n');
  writeSrc('include/a.h', '#define A\n');
  t.write('bin/make', STAND_IN_MAKE);
  fs.chmodSync(path.join(t.dir, 'bin/make'), 0o755);
  process.env.KP_SRC = src;
});
test.after.each(() => {
  t.remove();
  fs.rmSync(src, { recursive: true, force: true });
});

/** A source written a minute ago: an edit made before the run, as a user's is. */
function writeSrc(f: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
  fs.writeFileSync(path.join(src, f), text);
  const then = new Date(Date.now() - 60_000 + Math.random() * 1000);
  fs.utimesSync(path.join(src, f), then, then);
}

function compileStep(): Step[] {
  const make = path.join(t.dir, 'bin/make');
  return [
    step('compile', [], ['vmlinux.a', 'vmlinux.o', 'Module.symvers'], [cmd('MAKE', 'vmlinux_o modpost', exec([make, '-s', 'KBUILD_MODULES=1', 'vmlinux_o', 'modpost']), 'kbuild-compile')], {
      delegated: true,
      kbuildInputs: 'tree',
      kbuildNarrow: { make, jobs: 2, srctree: src, env: { KBUILD_BUILTIN: '1' }, variables: ['KBUILD_MODULES=1'] },
    }),
  ];
}

const makeCalls = () => t.read('make.log').split('\n').filter(Boolean);

test('an edited source: Makefile.build for its directory and the top, vmlinux.a as kbuild saved it, then vmlinux_o and modpost', async () => {
  await t.run(compileStep(), { srctree: src });
  assert.equal(makeCalls(), ['-s KBUILD_MODULES=1 vmlinux_o modpost']);
  const r0 = await t.run(compileStep(), { srctree: src });
  assert.is(r0.output, '', 'a no-op asks make nothing');
  writeSrc('kernel/a.c', 'int a = 2;\n');
  fs.rmSync(path.join(t.dir, 'make.log'));
  const r = await t.run(compileStep(), { srctree: src });
  assert.is(r.status, 'ok', r.output);
  assert.equal(makeCalls(), [
    `-s -j2 -f ${src}/scripts/Makefile.build obj=kernel need-builtin=1 need-modorder=1 kernel/a.o kernel/built-in.a KBUILD_MODULES=1`,
    `-s -j2 -f ${src}/scripts/Makefile.build obj=. need-builtin=1 need-modorder=1 -o ./bin -o ./kernel -o ./tools built-in.a KBUILD_MODULES=1`,
    `-s -j2 -f ${src}/scripts/Makefile.vmlinux_o KBUILD_MODULES=1`,
    `-s -j2 -f ${src}/scripts/Makefile.modpost KBUILD_MODULES=1`,
  ]);
  assert.is(t.read('vmlinux.o'), 'int a = 2;\n', 'the edit reached vmlinux.o through every archive');
  assert.is(r.output, '  MAKE    kernel/\n  MAKE    ./\n  AR      vmlinux.a\n  MAKE    vmlinux_o\n  MAKE    modpost\n');
  // And what it left is kept: the next run asks nothing.
  fs.rmSync(path.join(t.dir, 'make.log'));
  await t.run(compileStep(), { srctree: src });
  assert.not.ok(t.exists('make.log'));
});

test('a narrow make that leaves what it reached as it was, or fails, is followed by the whole traversal', async () => {
  await t.run(compileStep(), { srctree: src });
  writeSrc('kernel/a.c', 'int a = 3;\n');
  t.write('standin-lazy', '');
  fs.rmSync(path.join(t.dir, 'make.log'));
  const r = await t.run(compileStep(), { srctree: src, verbosity: 'verbose' });
  assert.is(r.status, 'ok');
  assert.is(makeCalls().at(-1), '-s KBUILD_MODULES=1 vmlinux_o modpost');
  assert.match(r.output, /the narrow make missed \([\w./-]+ was not remade\): asking make for everything/);
  assert.is(t.read('vmlinux.o'), 'int a = 3;\n');
  fs.rmSync(path.join(t.dir, 'standin-lazy'));

  writeSrc('kernel/a.c', 'int a = 4\n');
  t.write('standin-fail', '');
  fs.rmSync(path.join(t.dir, 'make.log'));
  const f = await t.run(compileStep(), { srctree: src });
  assert.is(f.status, 'ok', 'the whole traversal (the stand-in) succeeds where the narrow one failed');
  assert.equal(makeCalls().length, 2);
  assert.is(makeCalls()[1], '-s KBUILD_MODULES=1 vmlinux_o modpost');
});

test('a Makefile edited: the whole traversal, without a narrow make', async () => {
  await t.run(compileStep(), { srctree: src });
  writeSrc('kernel/Makefile', 'obj-y += b.o\n');
  fs.rmSync(path.join(t.dir, 'make.log'));
  const r = await t.run(compileStep(), { srctree: src, verbosity: 'verbose' });
  assert.equal(makeCalls(), ['-s KBUILD_MODULES=1 vmlinux_o modpost']);
  assert.match(r.output, /compile: the whole traversal: kernel\/Makefile changed/);
});

test.run();
