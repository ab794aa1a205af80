// The edit loop's compile: when only sources and headers changed since kbuild's last success, ask make
// for what they reach instead of its whole traversal. `make vmlinux_o modpost` after a one-line edit of
// kernel/panic.c is 7 to 8 s of a make per directory (1,500 of them) reading its records, for one
// compile, three archives and the vmlinux.o link.
//
// What kpipe kept of kbuild's inputs (kbuild-inputs.ts) is kbuild's dependency graph: each record's
// target and the files it was made from. A changed file reaches the records that name it, those reach
// the records that name their targets, and so on (an archive's members are read off its command line,
// which kbuild writes as `printf "DIR/%s " a.o b.o | xargs ar cDPrST DIR/built-in.a`). kbuild then
// remakes exactly those: make's rule is "a prerequisite is newer", and their commands are unchanged,
// since nothing that decides a command (Makefiles, configuration, tools, environment) changed.
//
// So kpipe asks kbuild's own makefiles for them, the way link-vmlinux.sh asks for
// init/version-timestamp.o: per directory, deepest first,
// `make -f scripts/Makefile.build obj=DIR -o DIR/SUB ... TARGETS` (its objects, its archives and the
// modules beside them; `-o` keeps make out of the subdirectories, which the traversal would visit),
// then vmlinux.a's saved command if it is reached (the top Makefile's, which cannot be asked without
// its traversal) or, where kbuild has scripts/Makefile.vmlinux_a (7.2: vmlinux.a is a copy of
// built-in-fixup.a, the archive of KBUILD_VMLINUX_OBJS with the head objects first), that makefile as
// the top Makefile's `vmlinux_a` runs it, then Makefile.vmlinux_o and Makefile.modpost as the top
// Makefile's `vmlinux_o` and `modpost` run them (they decide for themselves). Anything else reached (a generated header,
// asm-offsets, the vDSO, a host program of scripts/) is not narrowed: make does it all, as before.
// After the narrow make every record reached must have been remade with the command it had
// (the executor checks, and asks for the whole traversal if not).
import fs from 'node:fs';
import path from 'node:path';
import { absolutePath, isInsideTree } from '../paths.js';
import type { Step } from '../planning/step.js';
import { modulesOrderObjects, parseKbuildRecord } from './kbuild-record.js';
import type { KbuildContext } from './kbuild-inputs.js';
import { lastKbuildInputs, shown, sigOf } from './kbuild-inputs.js';

/** One record the change reaches, as it was before the narrow make. */
export interface ReachedRecord {
  cmd: string;
  target: string;
  command: string;
}

export interface NarrowCompile {
  /** What changed since kbuild's last success, as shown to the user. */
  changed: string[];
  /** `make -f scripts/Makefile.build obj=DIR -o OLD... GOALS`, deepest directory first. */
  builds: { dir: string; goals: string[]; old: string[] }[];
  /** Records the top Makefile makes with a plain if_changed (vmlinux.a): their command, for `sh -c`. */
  rerun: { target: string; command: string }[];
  /** vmlinux.a (and built-in-fixup.a) reached where scripts/Makefile.vmlinux_a makes them: ask it. */
  vmlinuxA: boolean;
  /** Every record reached: afterwards each must be newer than the narrow make's start, its command as before. */
  reached: ReachedRecord[];
}

/** Changed files beyond this many directories are the whole traversal's job (a much-included header). */
const MAX_DIRECTORIES = 24;

/**
 * The records the final makefiles (Makefile.vmlinux_o, Makefile.modpost) decide for themselves; they
 * may leave a file that comes out the same as it was (modpost writes Module.symvers only if changed).
 */
const FINAL_TARGETS = new Set(['vmlinux.o', 'modules.builtin.modinfo', 'modules.builtin', 'Module.symvers', 'vmlinux.symvers']);

export function isFinalTarget(target: string): boolean {
  return FINAL_TARGETS.has(target);
}

/** What scripts/Makefile.vmlinux_a makes, where kbuild has it (7.2; not its thin-LTO targets). */
const VMLINUX_A_TARGETS = new Set(['built-in-fixup.a', 'vmlinux.a']);
export const VMLINUX_A_MAKEFILE = 'scripts/Makefile.vmlinux_a';

/**
 * How little make may be asked after what changed since kbuild's last success of `step` (the compile
 * phase, not `M=`), or why it must be asked for everything.
 */
export function narrowCompile(step: Step, identity: string, ctx: KbuildContext): NarrowCompile | string {
  const { srctree, objtree } = ctx;
  if (!srctree || ctx.extmod) return 'no source tree apart from the output tree';
  for (const f of ['scripts/Makefile.build', 'scripts/Makefile.vmlinux_o', 'scripts/Makefile.modpost']) {
    if (!fs.existsSync(path.join(srctree, f))) return `the source tree has no ${f}`;
  }
  const kept = lastKbuildInputs(step, identity, ctx);
  if (typeof kept === 'string') return kept;
  const { paths, sigs, records } = kept;

  // Who names what: the index of each path to the records watching it.
  const watchers = new Map<number, number[]>();
  // Each record's own files (its `.cmd` and its target), to the record.
  const ownRecord = new Map<number, number>();
  const inRecords = new Set<number>();
  records.forEach((r, k) => {
    // An archive's prerequisites are its members (below), not the words of its command line, which
    // name them relative to its directory (`printf "arch/x86/%s " kernel/built-in.a` is not ./kernel's).
    const archive = isArchive(paths[r[1]!]!);
    r.forEach((i, pos) => {
      inRecords.add(i);
      // (A command names its own target, `-o kernel/a.o`: that is no prerequisite.)
      if (pos >= 2 && i !== r[1] && !archive) (watchers.get(i) ?? watchers.set(i, []).get(i)!).push(k);
    });
    ownRecord.set(r[0]!, k);
    ownRecord.set(r[1]!, k);
  });

  const changed: string[] = [];
  const reachedBy = new Set<number>();
  const remadeBefore = new Set<number>();
  for (let i = 0; i < paths.length; i++) {
    const now = sigOf(paths[i]!, ctx);
    if (now === sigs[i]) continue;
    const p = paths[i]!;
    if (now === '-' || sigs[i] === '-') return `${shown(p, ctx)} ${now === '-' ? 'is gone' : 'appeared'}`;
    if (!inRecords.has(i)) return `${shown(p, ctx)} changed`;
    changed.push(shown(p, ctx));
    // A target or record kbuild rewrote since (a run that failed or was killed): it must be reached.
    const own = ownRecord.get(i);
    if (own !== undefined) remadeBefore.add(own);
    for (const k of watchers.get(i) ?? []) reachedBy.add(k);
  }
  if (changed.length === 0) return 'nothing changed since kbuild last ran, which did not finish';

  // The records reached, to a fixed point: by the files they name, and archives by their members.
  const texts = new Map<number, ReachedRecord>();
  const recordText = (k: number): ReachedRecord | undefined => {
    let t = texts.get(k);
    if (t === undefined) {
      const cmd = paths[records[k]![0]!]!;
      let parsed;
      try {
        parsed = parseKbuildRecord(fs.readFileSync(absolutePath(cmd, objtree), 'utf8'));
      } catch {
        return undefined;
      }
      if (!parsed) return undefined;
      texts.set(k, (t = { cmd, target: paths[records[k]![1]!]!, command: parsed.command }));
    }
    return t;
  };
  const archiveOf = new Map<string, number>();
  for (let k = 0; k < records.length; k++) {
    const target = paths[records[k]![1]!]!;
    if (isArchive(target)) {
      const t = recordText(k);
      for (const m of t ? archiveMembers(t.command, target) : []) archiveOf.set(m, k);
    }
  }
  const reached = new Set<number>();
  const queue = [...reachedBy];
  while (queue.length > 0) {
    const k = queue.pop()!;
    if (reached.has(k)) continue;
    reached.add(k);
    const targetIndex = records[k]![1]!;
    for (const w of watchers.get(targetIndex) ?? []) queue.push(w);
    const archive = archiveOf.get(paths[targetIndex]!);
    if (archive !== undefined) queue.push(archive);
  }
  for (const k of remadeBefore) if (!reached.has(k)) return `${shown(paths[records[k]![1]!]!, ctx)} changed, and nothing it is made from did`;

  const byDir = new Map<string, Set<string>>();
  const rerun: NarrowCompile['rerun'] = [];
  const hasVmlinuxA = fs.existsSync(path.join(srctree, VMLINUX_A_MAKEFILE));
  let vmlinuxA = false;
  const reachedRecords: ReachedRecord[] = [];
  for (const k of [...reached].sort((a, b) => a - b)) {
    const t = recordText(k);
    if (!t) return `kbuild's record ${paths[records[k]![0]!]} cannot be read`;
    reachedRecords.push(t);
    const target = t.target;
    if (FINAL_TARGETS.has(target)) continue;
    if (hasVmlinuxA && VMLINUX_A_TARGETS.has(target)) {
      vmlinuxA = true;
      continue;
    }
    if (target === 'vmlinux.a') {
      rerun.push({ target, command: shellCommand(t.command) });
      continue;
    }
    const dir = target.endsWith('.o') || isArchive(target) ? buildDirectory(target, srctree) : undefined;
    if (!dir || !isInsideTree(target) || /^(scripts|tools)\//.test(target) || /^arch\/[^/]+\/tools\//.test(target)) {
      return `${shown(target, ctx)} is made from ${changed[0]}, which only kbuild's whole traversal remakes`;
    }
    (byDir.get(dir) ?? byDir.set(dir, new Set()).get(dir)!).add(target);
  }
  if (byDir.size > MAX_DIRECTORIES) return `${changed.length} changed files reach ${byDir.size} directories`;

  // The modules beside a directory's objects (a composite module is made from them), as make would.
  const moduleObjects = readModulesOrder(objtree);
  for (const [dir, goals] of byDir) for (const m of moduleObjects) if (path.posix.dirname(m) === dir) goals.add(m);
  const builds = [...byDir]
    .sort(([a], [b]) => depth(b) - depth(a) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([dir, goals]) => ({ dir, goals: [...goals].sort(), old: subdirectories(objtree, dir) }));
  return { changed, builds, rerun, vmlinuxA, reached: reachedRecords };
}

function isArchive(target: string): boolean {
  return target === 'built-in.a' || target.endsWith('/built-in.a') || target.endsWith('/lib.a');
}

/** The members an archive's saved command names (Makefile.build's `printf "DIR/%s " ...` or Makefile.lib's cmd_ar). */
export function archiveMembers(command: string, target: string): string[] {
  const printf = /printf "([^"%]*)%s " ([^|]*)\|/.exec(command);
  if (printf) {
    const prefix = printf[1]!.replace(/^\.\//, '');
    return printf[2]!.trim().split(/\s+/).filter((w) => w !== '').map((w) => path.posix.normalize(prefix + w));
  }
  const ar = new RegExp(`\\bcDPrsT ${escapeRegExp(target)} (.*)$`).exec(command);
  return ar ? ar[1]!.trim().split(/\s+/).map((w) => path.posix.normalize(w)) : [];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A saved command (`savedcmd_T := ...`) as the shell runs it: make's `$$` and `$(pound)` undone. */
export function shellCommand(saved: string): string {
  return saved.replace(/\$\(pound\)/g, '#').replace(/\$\$/g, '$');
}

/** The directory whose Makefile (or Kbuild) builds TARGET: the nearest one up that has either. */
function buildDirectory(target: string, srctree: string): string | undefined {
  let dir = path.posix.dirname(target);
  for (;;) {
    if (dir === '.') return fs.existsSync(path.join(srctree, 'Kbuild')) ? '.' : undefined;
    if (fs.existsSync(path.join(srctree, dir, 'Makefile')) || fs.existsSync(path.join(srctree, dir, 'Kbuild'))) return dir;
    dir = path.posix.dirname(dir);
  }
}

function depth(dir: string): number {
  return dir === '.' ? 0 : dir.split('/').length;
}

/** The output tree's subdirectories of DIR, as Makefile.build names them (`obj=.` gives `./init`). */
function subdirectories(objtree: string, dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path.join(objtree, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => `${dir}/${e.name}`).sort();
}

function readModulesOrder(objtree: string): string[] {
  try {
    return modulesOrderObjects(fs.readFileSync(path.join(objtree, 'modules.order'), 'utf8'));
  } catch {
    return [];
  }
}
