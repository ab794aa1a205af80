// What a run prints: kbuild's quiet lines off a terminal, `make V=1` command lines with -v, nothing
// with -q, and a spinner with a summary in a terminal.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cmd, exec, makeTree, step, type Tree } from './fixture.js';
import { shellJoin, shellQuote } from '../../core/shell-quote.js';

let t: Tree;
test.before.each(() => {
  t = makeTree();
  t.write('a.src', 'alpha');
});
test.after.each(() => t.remove());

const steps = (tr: Tree) => [
  step('link', ['a.src'], ['vmlinux', 'System.map'], [
    cmd('LD', 'vmlinux', exec([tr.tool('gen'), 'LD', 'vmlinux', 'a.src'], { env: { LLVM_OBJCOPY: 'objcopy' } })),
    cmd('NM', 'System.map', exec(['cat', 'vmlinux'], { stdout: 'System.map' })),
    // No label: continues the NM line, as `nm | sed` is one line in kbuild.
    { plugin: 'sysmap', action: exec(['sh', '-c', 'printf " %s" "it\'s ok" >> "$0"', 'System.map'], { inPlace: 'System.map' }) },
  ]),
];

test('normal, off a terminal: one quiet line per labelled command', async () => {
  const r = await t.run(steps(t));
  assert.is(r.output, '  LD      vmlinux\n  NM      System.map\n');
});

test('-v: each full command, shell-quoted, with the declared paths', async () => {
  const r = await t.run(steps(t), { verbosity: 'verbose' });
  assert.is(
    r.output,
    [
      `LLVM_OBJCOPY=objcopy ${t.tool('gen')} LD vmlinux a.src`,
      'cat vmlinux > System.map',
      `sh -c 'printf " %s" "it'\\''s ok" >> "$0"' System.map`,
      '',
    ].join('\n'),
  );
});

test('-q: silent', async () => {
  const r = await t.run(steps(t), { verbosity: 'quiet' });
  assert.is(r.output, '');
});

test('in a terminal: a spinner with [done/total], then a summary line', async () => {
  const r = await t.run(steps(t), { interactive: true });
  assert.match(r.output, /\[\d\/1\]/);
  assert.match(r.output, /1 of 1 steps ran, 0 up to date/);
});

test("a delegated (kbuild) step prints its quiet line only when kbuild changed its output", async () => {
  // A stand-in for `make -f scripts/Makefile.build ...`: rewrites the object only when the source is newer.
  const kbuild = () => [step('export', [], ['export.o'], [
    cmd('CC', 'export.o', exec(['sh', '-c', '[ export.o -nt a.src ] || cp a.src export.o'])),
  ], { delegated: true })];
  const first = await t.run(kbuild());
  assert.is(first.output, '  CC      export.o\n');
  const second = await t.run(kbuild());
  assert.is(second.output, '', 'kbuild did nothing, so nothing is printed');
  const verbose = await t.run(kbuild(), { verbosity: 'verbose' });
  assert.match(verbose.output, /export\.o/, '-v still shows the command that ran');
});

test('shell quoting is exact POSIX sh', () => {
  assert.is(shellQuote('plain-word_1.o'), 'plain-word_1.o');
  assert.is(shellQuote(''), "''");
  assert.is(shellQuote('a b'), "'a b'");
  assert.is(shellQuote("it's"), "'it'\\''s'");
  assert.is(shellQuote('$HOME'), "'$HOME'");
  assert.is(shellJoin(['A=b', 'A=b']), "'A=b' A=b");
});

test.run();
