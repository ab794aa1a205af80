// kpipe install + verify-modules on a fake output tree: three small objects as .ko files, a tiny ELF as
// vmlinux whose .module_hashes section is what the module-hashes builtin wrote (added with objcopy).
// The tree's Makefile only answers kpipe's `make run-command` (the toolchain variables).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { kpipe, show, tempDir, removeTempDirs } from '../cli/helpers.js';
import { readElfSection } from '../../core/elf/elf-section.js';
import { buildTree, sectionContent, sha256 } from '../../plugins/module-hashes/merkle.js';
import { parseSignature } from '../../plugins/module-hashes/signature.js';

const MODULES = ['drivers/a/one', 'fs/two', 'drivers/a/three'];
const RELEASE = '6.12.0-kpipe-test';

test.after(() => removeTempDirs());

function sh(cwd: string, argv: string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8' });
  assert.is(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
}

/** A fake output tree; `lds` puts a linker script mentioning .module_hashes behind KBUILD_LDS. */
function fakeTree(opts: { lds?: boolean } = {}): string {
  const dir = tempDir('hashes');
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(path.join(tree, 'include/config'), { recursive: true });
  const lds = 'arch/x86/kernel/vmlinux.lds';
  fs.writeFileSync(path.join(tree, 'Makefile'), `${opts.lds ? `KBUILD_LDS := ${lds}\n` : ''}run-command:\n\t$(KBUILD_RUN_COMMAND)\n`);
  if (opts.lds) {
    fs.mkdirSync(path.join(tree, path.dirname(lds)), { recursive: true });
    fs.writeFileSync(path.join(tree, lds), 'SECTIONS {\n .module_hashes : { KEEP(*(.module_hashes)) }\n}\n');
  }
  fs.writeFileSync(path.join(tree, '.config'), 'CONFIG_MODULE_HASHES=y\n');
  fs.writeFileSync(path.join(tree, 'include/config/kernel.release'), `${RELEASE}\n`);
  fs.writeFileSync(path.join(tree, 'modules.order'), MODULES.map((m) => `${m}.o\n`).join(''));
  // What kbuild's compile phase writes beside it, and modules_install installs.
  fs.writeFileSync(path.join(tree, 'modules.builtin'), 'kernel/lib/builtin.ko\n');
  fs.writeFileSync(path.join(tree, 'modules.builtin.modinfo'), 'builtin.license=GPL\0');
  for (const m of MODULES) {
    fs.mkdirSync(path.join(tree, path.dirname(m)), { recursive: true });
    const n = path.basename(m);
    fs.writeFileSync(path.join(tree, `${m}.c`), `int ${n}_value = 1;\nint ${n}_f(void) { return ${n}_value + 2; }\n`);
    sh(tree, ['gcc', '-g', '-c', `${m}.c`, '-o', `${m}.ko`]);
  }
  fs.writeFileSync(path.join(tree, 'v.c'), 'int kernel_thing = 7;\n');
  sh(tree, ['gcc', '-c', 'v.c', '-o', 'vmlinux.unstripped']);
  return tree;
}

/** What `kpipe run` would do in the vmlinux stage: the builtin, then the objcopy with its flags. */
function makeVmlinux(tree: string, strip: string): void {
  const r = kpipe(['builtin', 'module-hashes', '.tmp_module_hashes.bin', strip, ...MODULES.map((m) => `${m}.ko`)], { cwd: tree });
  assert.is(r.status, 0, show(r));
  sh(tree, ['objcopy', '--add-section', '.module_hashes=.tmp_module_hashes.bin', '--set-section-flags', '.module_hashes=readonly', 'vmlinux.unstripped', 'vmlinux']);
}

const installed = (tree: string, rel: string) => path.join(tree, '..', 'inst', 'lib', 'modules', RELEASE, rel);

test('install + verify-modules: every module verifies; a tampered one fails and is named', () => {
  const tree = fakeTree();
  makeVmlinux(tree, '');
  // The section holds the root of the modules' own hashes, in modules.order order.
  const leaves = MODULES.map((m) => sha256(fs.readFileSync(path.join(tree, `${m}.ko`))));
  const section = readElfSection(fs.readFileSync(path.join(tree, 'vmlinux')), '.module_hashes');
  assert.ok(section?.equals(sectionContent(buildTree(leaves))), 'the section is the root of the modules');

  const inst = kpipe(['install', '-C', 'tree', '--mod-path', 'inst'], { cwd: path.dirname(tree) });
  assert.is(inst.status, 0, show(inst));
  assert.match(inst.stdout, `  INSTALL inst/lib/modules/${RELEASE}/kernel/fs/two.ko\n`);
  assert.is(fs.readFileSync(installed(tree, 'modules.order'), 'utf8'), MODULES.map((m) => `kernel/${m}.ko\n`).join(''));
  for (const [i, m] of MODULES.entries()) {
    const bytes = fs.readFileSync(installed(tree, `kernel/${m}.ko`));
    const sig = parseSignature(bytes);
    assert.ok(sig.content.equals(fs.readFileSync(path.join(tree, `${m}.ko`))), `${m}: the module's bytes come first, unchanged`);
    assert.is(sig.proof.readUInt32BE(0), i);
    assert.is(sig.proof.length, 4 + 2 * 32);
  }
  assert.equal(fs.readdirSync(installed(tree, 'kernel/fs')), ['two.ko'], 'no temporary file left behind');

  const ok = kpipe(['verify-modules', '-C', 'tree', '--mod-path', 'inst'], { cwd: path.dirname(tree) });
  assert.is(ok.status, 0, show(ok));
  assert.match(ok.stdout, /^3 modules verified against /m);

  const victim = installed(tree, 'kernel/fs/two.ko');
  const bytes = fs.readFileSync(victim);
  bytes[64] ^= 0x01;
  fs.writeFileSync(victim, bytes);
  const bad = kpipe(['verify-modules', '-C', 'tree', '--mod-path', 'inst', '--vmlinux', 'tree/vmlinux'], { cwd: path.dirname(tree) });
  assert.is(bad.status, 1, show(bad));
  assert.match(bad.stdout, /FAIL .*kernel\/fs\/two\.ko: /);
  assert.not.match(bad.stdout, /one\.ko|three\.ko/);
  assert.match(bad.stdout, /1 of 3 modules failed/);
});

test('INSTALL_MOD_STRIP=1: leaves are the stripped modules; the tree\'s .ko files are left alone', () => {
  const tree = fakeTree();
  const before = MODULES.map((m) => fs.readFileSync(path.join(tree, `${m}.ko`)));
  makeVmlinux(tree, 'strip --strip-debug');
  const inst = kpipe(['install', '-C', 'tree', '--mod-path', 'inst', 'INSTALL_MOD_STRIP=1'], { cwd: path.dirname(tree) });
  assert.is(inst.status, 0, show(inst));
  assert.not.match(inst.stderr, /warning/);
  for (const [i, m] of MODULES.entries()) {
    assert.ok(fs.readFileSync(path.join(tree, `${m}.ko`)).equals(before[i]!), `${m}.ko unchanged in the tree`);
    const sig = parseSignature(fs.readFileSync(installed(tree, `kernel/${m}.ko`)));
    assert.ok(sig.content.length < before[i]!.length, `${m}: installed stripped`);
  }
  const ok = kpipe(['verify-modules', '-C', 'tree', '--mod-path', 'inst'], { cwd: path.dirname(tree) });
  assert.is(ok.status, 0, show(ok));
});

test('installing unstripped against a vmlinux hashed stripped: install warns, verify fails for every module', () => {
  const tree = fakeTree();
  makeVmlinux(tree, 'strip --strip-debug');
  const inst = kpipe(['install', '-C', 'tree', '--mod-path', 'inst'], { cwd: path.dirname(tree) });
  assert.is(inst.status, 0, show(inst));
  assert.match(inst.stderr, /does not match the modules just installed/);
  const bad = kpipe(['verify-modules', '-C', 'tree', '--mod-path', 'inst'], { cwd: path.dirname(tree) });
  assert.is(bad.status, 1, show(bad));
  assert.match(bad.stdout, /3 of 3 modules failed/);
});

test('verify-modules on an install root whose modules.order lists nothing: exit 1, not a pass', () => {
  const tree = fakeTree();
  makeVmlinux(tree, '');
  assert.is(kpipe(['install', '-C', 'tree', '--mod-path', 'inst', '-q'], { cwd: path.dirname(tree) }).status, 0);
  fs.writeFileSync(installed(tree, 'modules.order'), '');
  const r = kpipe(['verify-modules', '-C', 'tree', '--mod-path', 'inst'], { cwd: path.dirname(tree) });
  assert.is(r.status, 1, show(r));
  assert.match(r.stderr, /modules\.order lists no module: nothing to verify against /);
});

test('verify-modules against a vmlinux without .module_hashes: exit 1 and why', () => {
  const tree = fakeTree();
  makeVmlinux(tree, '');
  assert.is(kpipe(['install', '-C', 'tree', '--mod-path', 'inst', '-q'], { cwd: path.dirname(tree) }).status, 0);
  const r = kpipe(['verify-modules', '-C', 'tree', '--mod-path', 'inst', '--vmlinux', 'tree/vmlinux.unstripped'], { cwd: path.dirname(tree) });
  assert.is(r.status, 1, show(r));
  assert.match(r.stderr, /no \.module_hashes section/);
});

test('install without --mod-path is a usage error', () => {
  const tree = fakeTree();
  const r = kpipe(['install', '-C', tree]);
  assert.is(r.status, 2, show(r));
  assert.match(r.stderr, /--mod-path/);
});

test('the plan: HASHES reads every .ko; objcopy adds the section, or updates it when the linker script has one', () => {
  for (const lds of [false, true]) {
    const tree = fakeTree({ lds });
    const r = kpipe(['explain', '-C', tree, '--format', 'json']);
    assert.is(r.status, 0, show(r));
    const plan = JSON.parse(r.stdout) as { steps: { id: string; plugin: string; inputs: string[]; outputs: string[]; commands: { argv?: string[]; builtin?: string; args?: string[] }[] }[] };
    const hashes = plan.steps.find((s) => s.plugin === 'module-hashes');
    assert.ok(hashes, 'a module-hashes step');
    assert.equal(hashes!.outputs, ['.tmp_module_hashes.bin']);
    assert.equal(hashes!.inputs, MODULES.map((m) => `${m}.ko`));
    assert.equal(hashes!.commands[0]!.args, ['.tmp_module_hashes.bin', '', ...MODULES.map((m) => `${m}.ko`)]);
    const objcopy = plan.steps.find((s) => s.outputs.includes('vmlinux'))!;
    assert.ok(objcopy.inputs.includes('.tmp_module_hashes.bin'));
    const argv = objcopy.commands[0]!.argv!.join(' ');
    if (lds) {
      assert.match(argv, '--update-section .module_hashes=.tmp_module_hashes.bin');
      assert.not.match(argv, '--add-section');
    } else {
      assert.match(argv, '--add-section .module_hashes=.tmp_module_hashes.bin --set-section-flags .module_hashes=readonly');
    }
  }
});

test('explain --profile x86_64-reference-hashes shows the step with a stand-in module', () => {
  const r = kpipe(['explain', '--profile', 'x86_64-reference-hashes', '-v']);
  assert.is(r.status, 0, show(r));
  assert.match(r.stdout, /HASHES  \.tmp_module_hashes\.bin/);
  assert.match(r.stdout, /module-hashes \.tmp_module_hashes\.bin '' '<module>\.ko'/);
  const off = kpipe(['explain', '--profile', 'x86_64-reference']);
  assert.is(off.status, 0, show(off));
  assert.not.match(off.stdout, /HASHES  /);
});

test.run();
