// kbuild's variables and exported environment, read once through make and cached in
// .kpipe/toolchain.json (core/planning/toolchain.ts): on a small tree whose Makefile stands in for
// kbuild's top one. The cached environment is what every delegated make runs with, so a change of
// the environment given to kpipe must read it again, and a shell-only difference must not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadToolchain, type MakeEnvironment } from '../../core/planning/toolchain.js';

function makeTree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-toolchain-'));
  fs.writeFileSync(path.join(dir, '.config'), 'CONFIG_FOO=y\n');
  fs.writeFileSync(path.join(dir, 'Makefile'), 'LD := ld\nKBUILD_LDFLAGS := -m elf_x86_64\nexport srctree := $(CURDIR)\n');
  return dir;
}

const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', ARCH: 'x86_64', KBUILD_BUILD_TIMESTAMP: 'Thu Jan  1 00:00:00 UTC 2026' };
const read = (dir: string, env: NodeJS.ProcessEnv) => loadToolchain(dir, { make: 'make', env } satisfies MakeEnvironment);

test('read through make once, then from the cache while the environment is the same but for shell variables', () => {
  const dir = makeTree();
  const first = read(dir, base);
  assert.is(first.value('LD'), 'ld');
  assert.equal(first.words('KBUILD_LDFLAGS'), ['-m', 'elf_x86_64']);
  assert.is(first.kbuildEnv.srctree, dir);
  assert.is(first.kbuildEnv.KBUILD_BUILD_TIMESTAMP, base.KBUILD_BUILD_TIMESTAMP);
  assert.match(first.origin, /^make -C /);
  const again = read(dir, { ...base, OLDPWD: '/elsewhere', SHLVL: '3' });
  assert.match(again.origin, /cached make kpipe-variables/);
  assert.equal(again.kbuildEnv, first.kbuildEnv);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('another environment (a plain shell without KBUILD_BUILD_*, another PATH) reads make again', () => {
  const dir = makeTree();
  read(dir, base);
  const { KBUILD_BUILD_TIMESTAMP: _dropped, ...plain } = base;
  const inPlainShell = read(dir, plain);
  assert.match(inPlainShell.origin, /^make -C /);
  assert.is(inPlainShell.kbuildEnv.KBUILD_BUILD_TIMESTAMP, undefined, 'the last shell\'s timestamp is not given to delegated makes');
  const otherPath = read(dir, { ...plain, PATH: `/opt/gcc-14/bin:${plain.PATH}` });
  assert.match(otherPath.origin, /^make -C /);
  assert.ok(otherPath.kbuildEnv.PATH?.startsWith('/opt/gcc-14/bin:'));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a compiler replaced at the same path reads make again (its cc-option answers are in the values)', () => {
  const dir = makeTree();
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'gcc'), '#!/bin/sh\n');
  fs.chmodSync(path.join(bin, 'gcc'), 0o755);
  const env = { ...base, PATH: `${bin}:${base.PATH}` };
  read(dir, env);
  assert.match(read(dir, env).origin, /cached/);
  fs.writeFileSync(path.join(bin, 'gcc'), '#!/bin/sh\n# gcc 13\n');
  assert.match(read(dir, env).origin, /^make -C /);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("M=DIR: the read is kept in kpipe's own directory too, so a fresh module directory does not ask make", () => {
  const dir = makeTree();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-home-'));
  const module = path.join(home, 'module');
  const env = { ...base, KPIPE_CACHE_DIR: home };
  const extmod = (): MakeEnvironment => ({ make: 'make', env, extmod: module });
  fs.mkdirSync(module);
  assert.match(loadToolchain(dir, extmod(), module).origin, /^make -C /);
  assert.ok(fs.existsSync(path.join(module, '.kpipe', 'toolchain.json')));
  fs.rmSync(module, { recursive: true });
  fs.mkdirSync(module);
  const fresh = loadToolchain(dir, extmod(), module);
  assert.match(fresh.origin, new RegExp(`^${home}/toolchain/[0-9a-f]{32}\\.json \\(cached`));
  assert.ok(fs.existsSync(path.join(module, '.kpipe', 'toolchain.json')), 'and put back in the directory');
  // Another module directory is another M=: its own read.
  assert.match(loadToolchain(dir, { ...extmod(), extmod: path.join(home, 'other') }, path.join(home, 'other')).origin, /^make -C /);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
});

test.run();
