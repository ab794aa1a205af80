// The hand-off to kbuild without a kernel: the text of kbuild's records, the mtime rule, and where the
// plan puts them (test/e2e/handoff.test.ts compares the records with kbuild's on a real tree).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PluginContext } from '../../core/plugin-api.js';
import { placeholderToolchain, type Toolchain } from '../../core/planning/toolchain.js';
import { getBuiltin } from '../../core/running/builtins.js';
import { dotCmdFile, makeCmd, moduleLinkCommand, vmlinuxLinkCommand } from '../../plugins/kbuild.js';
import { MTIME_BUILTIN, registerMtimeBuiltin } from '../../plugins/kbuild-handoff/mtime-order.js';
import { recordedDeps } from '../../core/state/kbuild-record.js';
import { planFor, profileKconfig } from '../helpers/plan.js';

/** A context whose toolchain holds `values` as `make run-command` would print them. */
function contextWith(values: Record<string, string>): PluginContext {
  const toolchain: Toolchain = {
    ...placeholderToolchain('test'),
    kind: 'tree',
    value: (name) => values[name] ?? '',
    words: (name) => (values[name] ?? '').split(/\s+/).filter(Boolean),
  };
  return { toolchain, make: { make: 'make', env: {} } } as unknown as PluginContext;
}

const X86 = {
  LD: 'ld', KBUILD_LDFLAGS: '-m elf_x86_64 -z noexecstack', KBUILD_LDFLAGS_MODULE: '--build-id=sha1', LDFLAGS_MODULE: '',
  LDFLAGS_vmlinux: '--emit-relocs --build-id=sha1', srctree: '/src', SRCARCH: 'x86', MAKE: 'make',
};

test("makeCmd escapes as Kbuild.include's make-cmd: $ doubled, # as $(pound)", () => {
  assert.is(makeCmd('echo $HOME # x'), 'echo $$HOME $(pound) x');
});

test('dotCmdFile is kbuild dot-target + .cmd', () => {
  assert.is(dotCmdFile('vmlinux'), '.vmlinux.cmd');
  assert.is(dotCmdFile('lib/crc8.ko'), 'lib/.crc8.ko.cmd');
});

test("a module's saved command keeps make's spacing (an empty LDFLAGS_MODULE leaves two spaces)", () => {
  assert.is(
    moduleLinkCommand(contextWith(X86), 'lib/crc8.ko', 'lib/crc8.o', 'scripts/module.lds'),
    'ld -r -m elf_x86_64 -z noexecstack --build-id=sha1  -T scripts/module.lds -o lib/crc8.ko lib/crc8.o lib/crc8.mod.o .module-common.o',
  );
});

test("6.1's module link: no .module-common.o, and the arch's post-link pass after ld -r (or true), both after two spaces", () => {
  const shape = { common: false, postlink: true };
  assert.is(
    moduleLinkCommand(contextWith(X86), 'lib/crc8.ko', 'lib/crc8.o', 'scripts/module.lds', shape),
    'ld -r -m elf_x86_64 -z noexecstack --build-id=sha1  -T scripts/module.lds -o lib/crc8.ko lib/crc8.o lib/crc8.mod.o;  true',
  );
  // An arch with a Makefile.postlink in the source tree (powerpc on 6.1): make's `$(if)` keeps its leading space.
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-postlink-'));
  fs.mkdirSync(path.join(src, 'arch/powerpc'), { recursive: true });
  fs.writeFileSync(path.join(src, 'arch/powerpc/Makefile.postlink'), '');
  const ctx = { ...contextWith({ ...X86, srctree: src, SRCARCH: 'powerpc' }), srctree: src } as PluginContext;
  assert.match(moduleLinkCommand(ctx, 'lib/crc8.ko', 'lib/crc8.o', 'scripts/module.lds', shape), new RegExp(`lib/crc8\\.mod\\.o;  make -f ${src}/arch/powerpc/Makefile\\.postlink lib/crc8\\.ko$`));
  fs.rmSync(src, { recursive: true });
});

test("vmlinux's saved command: link-vmlinux.sh, then the postlink make with $(if)'s leading space, or true", () => {
  const ctx = contextWith(X86);
  assert.is(
    vmlinuxLinkCommand(ctx, true),
    '/src/scripts/link-vmlinux.sh "ld" "-m elf_x86_64 -z noexecstack" "--emit-relocs --build-id=sha1";  make -f /src/arch/x86/Makefile.postlink vmlinux',
  );
  // 6.1's x86 has no Makefile.postlink: make's $(if) keeps the space before `true` too (checked on 6.1).
  assert.match(vmlinuxLinkCommand(ctx, false), /";  true$/);
  // Built in the source tree (srctree = .), make names the script as found: without a directory.
  assert.match(vmlinuxLinkCommand(contextWith({ ...X86, srctree: '.' }), false), /^scripts\/link-vmlinux\.sh "ld"/);
});

test("recordedDeps reads fixdep's deps_ list, wildcards unwrapped", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-handoff-'));
  const file = path.join(dir, '.vmlinux.cmd');
  fs.writeFileSync(file, 'savedcmd_vmlinux := x\n\nsource_vmlinux := /src/s.sh\n\ndeps_vmlinux := \\\n    $(wildcard include/config/KALLSYMS) \\\n    include/a.h \\\n\nvmlinux: $(deps_vmlinux)\n\n$(deps_vmlinux):\n');
  assert.equal(recordedDeps(file), ['include/config/KALLSYMS', 'include/a.h']);
  assert.equal(recordedDeps(path.join(dir, 'missing.cmd')), []);
  fs.rmSync(dir, { recursive: true });
});

test('the mtime rule moves a target just past its newest prerequisite, and only when it is older', async () => {
  registerMtimeBuiltin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-handoff-'));
  const at = (f: string, seconds: number) => {
    fs.writeFileSync(path.join(dir, f), f);
    fs.utimesSync(path.join(dir, f), seconds, seconds);
  };
  at('vmlinux', 1000);
  at('vmlinux.o', 2000);
  at('a.ko', 1500);
  at('a.o', 100);
  at('b.ko', 5000);
  const run = getBuiltin(MTIME_BUILTIN)!;
  await run(['vmlinux:', 'vmlinux.o', 'absent.o', 'a.ko:', 'a.o', 'vmlinux', 'b.ko:', 'vmlinux'], { objtree: dir, resolve: (p) => path.join(dir, p) });
  const mtime = (f: string) => fs.statSync(path.join(dir, f), { bigint: true }).mtimeNs;
  assert.ok(mtime('vmlinux') > mtime('vmlinux.o'), 'vmlinux is newer than vmlinux.o');
  assert.ok(mtime('vmlinux') - mtime('vmlinux.o') < 1_000_000n, 'by less than a millisecond');
  assert.ok(mtime('a.ko') > mtime('vmlinux'), 'then a.ko newer than the new vmlinux');
  assert.is(mtime('b.ko'), 5000_000_000_000n, 'a target already newer is left alone');
  assert.is(fs.readFileSync(path.join(dir, 'a.ko'), 'utf8'), 'a.ko', 'content untouched');
  fs.rmSync(dir, { recursive: true });
});

test('the plan: records are outputs of the image steps; the mtime step comes last; bzImage on request', () => {
  const plan = planFor(profileKconfig('x86_64-reference'));
  assert.equal(plan.diagnostics, []);
  const vmlinux = plan.steps.find((s) => s.id === 'vmlinux:vmlinux')!;
  assert.ok(vmlinux.outputs.includes('.vmlinux.cmd'));
  assert.ok(vmlinux.scratch?.includes('.vmlinux.d'), "fixdep's depfile is scratch, removed after the step");
  const ko = plan.steps.find((s) => s.stage === 'modules' && s.outputs.some((o) => o.endsWith('.ko')))!;
  assert.ok(ko.outputs.some((o) => o.endsWith('.ko.cmd')));
  const last = plan.steps.at(-1)!;
  const mtime = plan.steps.find((s) => s.plugin === 'kbuild-mtime')!;
  assert.is(mtime.stage, 'handoff');
  assert.equal(mtime.outputs, []);
  assert.ok(mtime.inputs.includes('vmlinux'));
  assert.is(last.stage, 'bzImage');
  assert.ok(last.onRequest && last.delegated);
  assert.ok(last.outputs.includes('arch/x86/boot/bzImage'));
});

test.run();
