// The tree's ARCH when none is given (issue 17, point 2): read from the Kconfig header kbuild wrote,
// refused when a given ARCH contradicts it or names no arch/ directory, and a cross tree without
// CROSS_COMPILE stopped before any make call.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KpipeError } from '../../core/diagnostic.js';
import { configuredArch, hostSrcarch, resolveTreeArch } from '../../core/planning/tree-arch.js';

let dir: string;
let objtree: string;
let srctree: string;
test.before.each(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-arch-'));
  objtree = path.join(dir, 'out');
  srctree = path.join(dir, 'src');
  for (const a of ['x86', 'riscv', 'arm64']) fs.mkdirSync(path.join(srctree, 'arch', a), { recursive: true });
  fs.writeFileSync(path.join(srctree, 'arch', 'Kconfig'), '');
  fs.mkdirSync(path.join(objtree, 'include', 'config'), { recursive: true });
});
test.after.each(() => fs.rmSync(dir, { recursive: true, force: true }));

function config(arch: string, extra = ''): void {
  fs.writeFileSync(path.join(objtree, '.config'), `#\n# Automatically generated file; DO NOT EDIT.\n# Linux/${arch} 6.12.117 Kernel Configuration\n#\n${extra}`);
}

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof KpipeError) return e.diagnostics.map((d) => `${d.code}: ${d.message} | ${d.hint ?? ''}`).join('\n');
    throw e;
  }
  throw new Error('expected a KpipeError');
}

test("no ARCH given: the tree's, from the .config header, said with where it came from", () => {
  config('x86_64', 'CONFIG_X86_64=y\n');
  const arch = resolveTreeArch({ objtree, srctree, env: {}, machine: 'x86_64' });
  assert.equal(arch.arch, 'x86_64');
  assert.is(arch.given, false);
  assert.match(arch.origin, /ARCH=x86_64 from the header of the tree's \.config; none given/);
});

test('without a header, auto.conf, then the arch symbols decide', () => {
  fs.writeFileSync(path.join(objtree, '.config'), 'CONFIG_X86_64=y\n');
  assert.equal(configuredArch(objtree)?.arch, 'x86_64');
  fs.writeFileSync(path.join(objtree, 'include/config/auto.conf'), '#\n# Linux/i386 6.12.117 Kernel Configuration\n#\n');
  assert.equal(configuredArch(objtree), { arch: 'i386', where: "the header of the tree's include/config/auto.conf" });
});

test('a given ARCH that agrees is used; one that contradicts the tree is refused, naming both', () => {
  config('x86_64');
  assert.equal(resolveTreeArch({ objtree, srctree, env: { ARCH: 'x86_64' }, machine: 'x86_64' }).given, true);
  const message = failure(() => resolveTreeArch({ objtree, srctree, env: { ARCH: 'x86' }, machine: 'x86_64' }));
  assert.match(message, /^arch-mismatch: ARCH=x86 contradicts the output tree: .* configured with ARCH=x86_64/);
  assert.match(message, /give ARCH=x86_64, or no ARCH at all/);
});

test("ARCH=x68 names the source tree's architectures, with a suggestion", () => {
  config('x86_64');
  const message = failure(() => resolveTreeArch({ objtree, srctree, env: { ARCH: 'x68' }, machine: 'x86_64' }));
  assert.match(message, /^unknown-arch: ARCH=x68: the source tree .* has no arch\/x68/);
  assert.match(message, /did you mean ARCH=x86\? its architectures: arm64, riscv, x86 \(and i386, x86_64/);
});

test('a cross tree without CROSS_COMPILE: said before any make call, with the prefix the tree was configured with', () => {
  config('riscv', 'CONFIG_CC_VERSION_TEXT="riscv64-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0"\n');
  const message = failure(() => resolveTreeArch({ objtree, srctree, env: {}, machine: 'x86_64' }));
  assert.match(message, /^no-cross-compile: .* is a tree for ARCH=riscv on a x86_64 host/);
  assert.match(message, /add CROSS_COMPILE=riscv64-linux-gnu-/);
  assert.equal(resolveTreeArch({ objtree, srctree, env: { CROSS_COMPILE: 'riscv64-linux-gnu-' }, machine: 'x86_64' }).arch, 'riscv');
  assert.equal(resolveTreeArch({ objtree, srctree, env: { ARCH: 'riscv', LLVM: '1' }, machine: 'x86_64' }).arch, 'riscv');
  assert.equal(resolveTreeArch({ objtree, srctree, env: {}, machine: 'riscv64' }).arch, 'riscv', 'native on a riscv host');
});

test("kbuild's SUBARCH mapping of uname -m", () => {
  assert.equal(['x86_64', 'i686', 'aarch64', 'riscv64', 's390x', 'ppc64le', 'mips64'].map(hostSrcarch), ['x86', 'x86', 'arm64', 'riscv', 's390', 'powerpc', 'mips']);
});

test("a headers package's forced ARCH (.kernelvariables' override) wins over an exported one, as in kbuild", () => {
  config('x86', 'CONFIG_X86_64=y\n');
  fs.writeFileSync(path.join(objtree, '.kernelvariables'), 'override ARCH = x86\noverride CROSS_COMPILE = x86_64-linux-gnu-\n');
  const r = resolveTreeArch({ objtree, srctree, env: { ARCH: 'x86_64' } });
  assert.is(r.arch, 'x86');
  assert.is(r.given, false);
  assert.match(r.origin, /forced by .*\.kernelvariables \(the ARCH=x86_64 given is overridden/);
  // Without the override the same ARCH is a contradiction.
  fs.rmSync(path.join(objtree, '.kernelvariables'));
  assert.match(failure(() => resolveTreeArch({ objtree, srctree, env: { ARCH: 'x86_64' } })), /arch-mismatch/);
});

test.run();
