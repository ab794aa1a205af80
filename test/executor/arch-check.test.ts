// The arch post-link checks as they run: a check script that fails (powerpc's head_check.sh finding
// linker stubs before the head code) fails the run with the script's own output, and the image is
// not put in place, as kbuild deletes vmlinux; a check that only warns (relocs_check.sh exits 0 after
// printing the suspicious relocations) shows its warning and the link goes on, as in kbuild.
// The scripts are stand-ins in a fake source tree; the commands are the plugins' own, with the
// toolchain words a tree would give them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { archPlan, finalLink } from '../helpers/arch-plan.js';
import { cmd, exec, makeTree, type Tree } from './fixture.js';
import type { Command, Step } from '../../core/planning/step.js';

let t: Tree;
test.before.each(() => {
  t = makeTree();
});
test.after.each(() => t.remove());

/** The plan's `$(VAR)` placeholders replaced by what a tree's toolchain would say. */
function resolved(command: Command, values: Record<string, string>): Command {
  const fill = (w: string) => w.replace(/\$\(([A-Za-z_]+)\)/g, (m, v: string) => values[v] ?? m);
  if (command.action.kind !== 'exec') return { ...command, action: { ...command.action, args: command.action.args.map(fill) } };
  const env = command.action.env ? Object.fromEntries(Object.entries(command.action.env).map(([k, v]) => [k, fill(v)])) : undefined;
  return { ...command, action: { ...command.action, argv: command.action.argv.map(fill), ...(env ? { env } : {}) } };
}

/** The final link step with the link replaced by a stand-in image and the arch plugin's commands kept. */
function postLinkStep(plan: ReturnType<typeof archPlan>, plugin: string, values: Record<string, string>): Step {
  const link = finalLink(plan);
  const image = cmd('LD', 'vmlinux.unstripped', exec(['sh', '-c', 'printf image > "$0"', 'vmlinux.unstripped']), 'link');
  return {
    ...link,
    inputs: [],
    commands: [image, ...link.commands.filter((c) => c.plugin === plugin).map((c) => resolved(c, values))],
    // Without its link commands the step writes neither System.map nor the version-timestamp.o its
    // kbuild compile makes (the final link is the first link in these plans).
    outputs: link.outputs.filter((o) => o !== 'System.map' && o !== 'init/version-timestamp.o'),
  };
}

test('a failing check fails the run with its output, and the image is not put in place', async () => {
  t.write('src/arch/powerpc/tools/head_check.sh', [
    'grep -q image "$2" || exit 9', // it was given the image being built
    ': > .tmp_symbols.txt',
    'echo "ERROR: head code starts at c000000000000100, should be c000000000000000" 1>&2',
    'exit 1',
  ].join('\n'));
  const step = postLinkStep(archPlan('powerpc', ['PPC64=y']), 'arch.powerpc', { CONFIG_SHELL: 'sh', NM: 'nm', srctree: `${t.dir}/src` });
  const r = await t.run([step], {}, true);
  assert.is(r.status, 'failed');
  const d = r.diagnostics[0]!;
  assert.is(d.plugin, 'arch.powerpc');
  assert.match(d.message, /^CHKHEAD vmlinux\.unstripped failed: exited with status 1/);
  assert.match(d.related!.map((x) => x.message).join('\n'), /ERROR: head code starts at c000000000000100/);
  assert.not.ok(t.exists('vmlinux.unstripped'), 'no image from a failed check');
  assert.not.ok(t.exists('.tmp_symbols.txt'), 'the script leftover is scratch');
});

test('a check that warns and exits 0 is shown, and the pass goes on (riscv relocs_check.sh)', async () => {
  t.write('src/arch/riscv/tools/relocs_check.sh', 'echo "WARNING: 1 bad relocations"\necho "ffffffff80001000 R_RISCV_64 foo"\n');
  t.write('src/scripts/relocs_check.sh', '');
  const kconfig = ['RELOCATABLE=y'];
  const step = postLinkStep(archPlan('riscv', kconfig), 'arch.riscv', { CONFIG_SHELL: 'sh', OBJDUMP: 'objdump', NM: 'nm', OBJCOPY: 'true', srctree: `${t.dir}/src` });
  const r = await t.run([step], {}, true);
  assert.is(r.status, 'ok');
  assert.match(r.output, /CHKREL {2}vmlinux\.unstripped\n/);
  assert.match(r.output, /WARNING: 1 bad relocations\nffffffff80001000 R_RISCV_64 foo/);
  assert.is(t.read('vmlinux.relocs'), 'image');
});

test.run();
