// Running the narrow compile core/state/kbuild-narrow.ts plans: its commands, and the check that
// they remade exactly what the change reaches (else the executor asks for the whole traversal).
import fs from 'node:fs';
import path from 'node:path';
import { absolutePath } from '../paths.js';
import type { Command, KbuildNarrow } from '../planning/step.js';
import type { NarrowCompile } from '../state/kbuild-narrow.js';
import { isFinalTarget } from '../state/kbuild-narrow.js';
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
  commands.push(make('MAKE', 'vmlinux_o', ['-f', path.join(spec.srctree, 'scripts/Makefile.vmlinux_o')]));
  commands.push(make('MAKE', 'modpost', ['-f', path.join(spec.srctree, 'scripts/Makefile.modpost')]));
  return commands;
}

/**
 * After the narrow make: what it did not do as the whole traversal would have (a record reached but
 * not remade, or remade with another command), or undefined. `startMs`: when it started.
 */
export function narrowMissed(plan: NarrowCompile, objtree: string, startMs: number): string | undefined {
  const since = (startMs - 20) * 1_000_000;
  for (const r of plan.reached) {
    const st = fs.statSync(absolutePath(r.target, objtree), { throwIfNoEntry: false });
    if (!st) return `${r.target} is gone`;
    if (!isFinalTarget(r.target) && st.mtimeMs * 1_000_000 < since) return `${r.target} was not remade`;
    let now;
    try {
      now = parseKbuildRecord(fs.readFileSync(absolutePath(r.cmd, objtree), 'utf8'));
    } catch {
      return `${r.cmd} is gone`;
    }
    if (now?.command !== r.command) return `${r.target} was made with another command than kbuild's record had`;
  }
  return undefined;
}
