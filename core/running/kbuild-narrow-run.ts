// Running the narrow compile core/state/kbuild-narrow.ts plans: its commands, and the check that
// they remade exactly what the change reaches (else the executor asks for the whole traversal).
import fs from 'node:fs';
import path from 'node:path';
import { absolutePath } from '../paths.js';
import type { Command, KbuildNarrow } from '../planning/step.js';
import type { NarrowCompile } from '../state/kbuild-narrow.js';
import { isFinalTarget, VMLINUX_A_MAKEFILE } from '../state/kbuild-narrow.js';
import { parseKbuildRecord } from '../state/kbuild-record.js';

/** The narrow make's commands, as kbuild's top Makefile would run its sub-makes. */
// need-builtin and need-modorder as a parent directory's make passes them: they decide which of the
// directory's objects and subdirectories its built-in.a and modules.order list (Makefile.lib).
export function narrowCommands(plugin: string, plan: NarrowCompile, spec: KbuildNarrow): Command[] {
  const envName = `kbuild's exported environment (${Object.keys(spec.env).length} variables, kept in .kpipe/toolchain.json)`;
  const make = (tag: string, target: string, args: string[]): Command => ({
    label: { tag, target },
    plugin,
    action: { kind: 'exec', argv: [spec.make, '-s', `-j${spec.jobs}`, ...args, ...spec.variables], env: { ...spec.env }, envName },
    note: "only what the changed sources reach, delegated to kbuild's makefiles",
  });
  const commands: Command[] = [];
  for (const b of plan.builds) {
    const target = b.dir === '.' ? './' : `${b.dir}/`;
    commands.push(make('MAKE', target, ['-f', path.join(spec.srctree, 'scripts/Makefile.build'), `obj=${b.dir}`, 'need-builtin=1', 'need-modorder=1', ...b.old.flatMap((o) => ['-o', o]), ...b.goals]));
  }
  for (const r of plan.rerun) {
    commands.push({ label: { tag: 'AR', target: r.target }, plugin, action: { kind: 'exec', argv: ['sh', '-c', r.command], env: { ...spec.env }, envName }, note: "kbuild's saved command for it" });
  }
  if (plan.vmlinuxA) commands.push(make('MAKE', 'vmlinux_a', ['-f', path.join(spec.srctree, VMLINUX_A_MAKEFILE)]));
  commands.push(make('MAKE', 'vmlinux_o', ['-f', path.join(spec.srctree, 'scripts/Makefile.vmlinux_o')]));
  commands.push(make('MAKE', 'modpost', ['-f', path.join(spec.srctree, 'scripts/Makefile.modpost')]));
  return commands;
}

/** What each target the narrow make must remake is before it runs (mtime and inode), for narrowMissed. */
export function narrowStamps(plan: NarrowCompile, objtree: string): Map<string, string | undefined> {
  return new Map(plan.reached.map((r) => [r.target, stamp(absolutePath(r.target, objtree))]));
}

function stamp(file: string): string | undefined {
  const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  return st ? `${st.mtimeNs}:${st.ino}` : undefined;
}

/**
 * After the narrow make: what it did not do as the whole traversal would have (a record reached but
 * not remade, or remade with another command), or undefined. `before`: narrowStamps from just before
 * it ran. Remade means rewritten since then, not written recently: a clock's tick cannot make a
 * target the first run wrote a moment earlier look remade.
 */
export function narrowMissed(plan: NarrowCompile, objtree: string, before: Map<string, string | undefined>): string | undefined {
  for (const r of plan.reached) {
    const now = stamp(absolutePath(r.target, objtree));
    if (now === undefined) return `${r.target} is gone`;
    if (!isFinalTarget(r.target) && now === before.get(r.target)) return `${r.target} was not remade`;
    let record;
    try {
      record = parseKbuildRecord(fs.readFileSync(absolutePath(r.cmd, objtree), 'utf8'));
    } catch {
      return `${r.cmd} is gone`;
    }
    if (record?.command !== r.command) return `${r.target} was made with another command than kbuild's record had`;
  }
  return undefined;
}
