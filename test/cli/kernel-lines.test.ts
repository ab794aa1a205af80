// The kernel lines at the command line: golden `kpipe explain --profile` output for each line's
// reference profile (KERNELVERSION, the variants on and off, the steps), and the refusal of a tree
// whose version the pipeline does not describe: one error with a frame at the `kernels` line, exit 2,
// nothing written, for run and explain alike. KPIPE_UPDATE_GOLDEN=1 rewrites the golden files: read
// their diff before committing it.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIXTURES, REPO, SHIPPED_PIPELINE, assertExit, assertFrame, kpipe, removeTempDirs, show, tempDir } from './helpers.js';

test.after(removeTempDirs);

const GOLDEN = path.join(FIXTURES, 'explain-lines');

for (const profile of ['x86_64-reference-6.1', 'x86_64-reference', 'x86_64-reference-7.2']) {
  test(`explain --profile ${profile} matches its golden output`, () => {
    const r = kpipe(['explain', '--profile', profile]);
    assertExit(r, 0);
    const text = r.stdout.split(SHIPPED_PIPELINE).join('kbuild.pipeline').split(`${REPO}/`).join('');
    const file = path.join(GOLDEN, `${profile}.txt`);
    if (process.env['KPIPE_UPDATE_GOLDEN'] === '1') fs.writeFileSync(file, text);
    assert.fixture(text, fs.readFileSync(file, 'utf8'));
  });
}

/** A tree kbuild configured from a source of `version` (only what kpipe reads before refusing). */
function treeOf(version: [number, number, number]): string {
  const root = tempDir('tree');
  const src = path.join(root, 'src');
  const out = path.join(root, 'out');
  fs.mkdirSync(src);
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(src, 'Makefile'), `VERSION = ${version[0]}\nPATCHLEVEL = ${version[1]}\nSUBLEVEL = ${version[2]}\nEXTRAVERSION =\n`);
  fs.symlinkSync(src, path.join(out, 'source'));
  fs.writeFileSync(path.join(out, 'Makefile'), `include ${src}/Makefile\n`);
  fs.writeFileSync(path.join(out, '.config'), 'CONFIG_X86=y\nCONFIG_64BIT=y\n');
  return out;
}

const listing = (dir: string) => fs.readdirSync(dir, { recursive: true }).map(String).sort();

for (const [version, command] of [[[5, 15, 170], 'run'], [[7, 3, 1], 'run'], [[5, 15, 170], 'explain']] as const) {
  test(`kpipe ${command} refuses Linux ${version.join('.')}: one error at the kernels line, exit 2, nothing written`, () => {
    const out = treeOf([...version]);
    const before = listing(out);
    const r = kpipe([command, '-C', out]);
    assertExit(r, 2);
    const errors = r.stderr.split('\n').filter((l) => / error: /.test(l));
    assert.is(errors.length, 1, show(r));
    assert.match(r.stderr, `Linux ${version.join('.')} is not a kernel line kbuild.pipeline describes (it describes 6.1, 6.12, 7.2)`);
    assert.match(r.stderr, /--pipeline FILE/);
    const line = fs.readFileSync(SHIPPED_PIPELINE, 'utf8').split('\n').findIndex((l) => l.startsWith('kernels ')) + 1;
    assertFrame(r.stderr, SHIPPED_PIPELINE, line, 1, 'kernels 6.1 6.12 7.2');
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(listing(out), before, 'nothing written in the tree');
  });
}

test('a pipeline of its own (--pipeline) without a kernels line takes the tree', () => {
  const out = treeOf([5, 15, 170]);
  const pipeline = path.join(tempDir('p'), 'old.pipeline');
  fs.writeFileSync(pipeline, 'stage vmlinux.unstripped {\n  use sysmap\n}\n');
  const r = kpipe(['explain', '-C', out, '--pipeline', pipeline]);
  assertExit(r, 0);
  assert.match(r.stdout, /^kernel: +5\.15\.170 \(KERNELVERSION from .*Makefile \(VERSION, PATCHLEVEL, SUBLEVEL\)\)$/m);
});

test.run();
