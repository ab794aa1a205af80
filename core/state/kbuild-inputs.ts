// When kpipe may take a step delegated to kbuild (the compile phase, `.vmlinux.export.o`, the `.mod.o`)
// as done without asking make. `make vmlinux_o modpost` with nothing to do still costs kbuild 7 to 10 s
// on the reference tree (a make per directory, each reading its `.cmd` records and the Makefiles
// again): that is all of a no-op `kpipe run` but half a second.
//
// make remakes a kbuild target when (1) a prerequisite is newer, or (2) the command line it would run
// differs from the one its `.cmd` record holds. (2) follows from the Makefiles, the configuration,
// the environment and the tools; (1) from the files the records name. So after kbuild's step
// succeeded kpipe keeps the stat of all of them, "kbuild's inputs"; while each is as kept and the
// environment is the same, make would find nothing to do, and kpipe does not ask it.
//
// Watched, for a step's scope ('tree': every record in the output tree except those of files other
// steps write or read; 'outputs': the records of the step's own outputs):
//   - each record: the `.cmd` file, its target, its `source_` and `deps_` files (a `$(wildcard)` one
//     may be absent: its appearance counts), and every existing file its command line names
//     (syscall_64.tbl for unistd_64.h, a linker script, a tool);
//   - the configuration: .config, include/config/auto.conf(.cmd) and every Kconfig file it lists;
//   - the Makefiles: the top ones, the files of scripts/ and arch/$(SRCARCH)/Makefile*, and every
//     Makefile*, Kbuild* and Build* beside a watched source or in a record's source directory;
//   - the tools: the executables of CC, LD, ... as found on PATH;
//   - the source tree's git state and its localversion* files (scripts/setlocalversion puts both in
//     the kernel release);
//   - the environment make is given, less variables a shell changes that kbuild never reads.
// A record kpipe cannot read wholly (a dependency that exists nowhere: make then remakes its target
// every time) means nothing is kept, and make runs every time, as before.
//
// Kept only when nothing the records describe changed while kbuild ran: every watched file kbuild
// does not write must be older than the step's start (an edit during the build is seen next time).
// The file is removed before the step runs, so a killed run leaves none. Not watched (kbuild's own
// blind spots or too rare to pay for): a new header that shadows an older one in the include path, a
// Makefile included from elsewhere, files a `$(shell ...)` reads, new git tags.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { absolutePath, canonicalPath, isInsideTree } from '../paths.js';
import { isCleanRelative } from '../canonical-fast.js';
import type { KbuildScope, Step } from '../planning/step.js';
import { kbuildRecordOf, parseKbuildRecord } from './kbuild-record.js';
import { STATE_DIR, writeFileAtomic } from './state-store.js';
import type { KbuildRecord } from './kbuild-record.js';
import { findExecutable, kbuildEnvironment } from '../planning/kbuild-environment.js';


export interface KbuildContext {
  objtree: string;
  srctree?: string;
  /** Where `.kpipe/` is. */
  stateDir: string;
  /** The environment the step's make is given. */
  env: NodeJS.ProcessEnv;
  /** kbuild's tools (CC, LD, ... values, as words): their executables are watched. */
  programs: readonly string[];
  /**
   * `M=DIR` (absolute): the 'tree' scope is then the records in DIR, which holds the module's sources
   * beside what kbuild makes of them, and the output tree is a read-only basis.
   */
  extmod?: string;
  /**
   * Signatures already taken, shared by the steps decided together (most of what they watch is the
   * same Makefiles and headers). Whoever runs a command must clear it: its files may have changed.
   */
  seen?: Map<string, string>;
}

export type KbuildCheck = { current: true; files: number } | { current: false; changed: string };

const VERSION = 1;

/** What `.kpipe/kbuild/<step>.json` holds (the check's part; `records` goes to `<step>.records.json`). */
interface Kept {
  version: number;
  step: string;
  /** The step's command identity when kept: another command is another question for make. */
  command: string;
  env: Record<string, string>;
  /** localversion* names at the top of both trees (a new one changes the release). */
  names: string;
  /** Watched files (canonical), and their stat signatures (`sig` below), in the same order. */
  paths: string[];
  sigs: string[];
  /** Nothing could be kept, and why (the check then says so). */
  refused?: string;
}

/**
 * `.kpipe/kbuild/<step>.records.json`: per record, the index of its `.cmd` in `paths`, then the
 * indices of what it adds; reused while the `.cmd` is unchanged. Read only to keep new inputs.
 */
interface KeptRecords {
  version: number;
  /** The kept paths these indices are into. */
  paths: number;
  records: number[][];
}

/** A file's stat as one string: `mtimeNs.size.ino`, `d` + mtime for a directory, `-` when absent. */
function sig(absolute: string): string {
  const st = fs.statSync(absolute, { bigint: true, throwIfNoEntry: false });
  if (!st) return '-';
  if (st.isDirectory()) return `d${st.mtimeNs}`;
  return `${st.mtimeNs}.${st.size}.${st.ino}`;
}

function keptFile(stateDir: string, stepId: string, part = ''): string {
  return path.join(stateDir, STATE_DIR, 'kbuild', `${crypto.createHash('sha256').update(stepId).digest('hex').slice(0, 16)}${part}.json`);
}

function load(stateDir: string, stepId: string, part = ''): Kept | undefined {
  let v: Kept;
  try {
    v = JSON.parse(fs.readFileSync(keptFile(stateDir, stepId, part), 'utf8')) as Kept;
  } catch {
    return undefined;
  }
  const ok = v && v.version === VERSION && v.step === stepId && Array.isArray(v.paths) && Array.isArray(v.sigs) && v.paths.length === v.sigs.length;
  return ok ? v : undefined;
}

function loadRecords(stateDir: string, stepId: string, kept: Kept): number[][] {
  try {
    const v = JSON.parse(fs.readFileSync(keptFile(stateDir, stepId, '.records'), 'utf8')) as KeptRecords;
    return v.version === VERSION && v.paths === kept.paths.length && Array.isArray(v.records) ? v.records : [];
  } catch {
    return [];
  }
}

/**
 * Before the step runs: whatever kbuild then does, the old answer no longer holds. It is set aside as
 * `<step>.last.json`, which never answers the check but still tells what changed since kbuild's last
 * success (core/state/kbuild-narrow.ts: a compile that failed or was killed is narrowed again).
 */
export function forgetKbuildInputs(stateDir: string, stepId: string): void {
  try {
    fs.renameSync(keptFile(stateDir, stepId), keptFile(stateDir, stepId, '.last'));
  } catch {
    // Nothing kept (or already set aside by a run that did not finish).
  }
}

/** What kbuild's last success left, kept or set aside: for kbuild-narrow.ts. */
export interface KeptInputs {
  paths: readonly string[];
  sigs: readonly string[];
  /** Per record: the index of its `.cmd`, of its target, then of each file it watches. */
  records: readonly (readonly number[])[];
}

/** The inputs kept at kbuild's last success of this step with this command and environment, if any. */
export function lastKbuildInputs(step: Step, identity: string, ctx: KbuildContext): KeptInputs | string {
  const kept = load(ctx.stateDir, step.id) ?? load(ctx.stateDir, step.id, '.last');
  if (!kept) return 'kpipe kept no record of its inputs';
  if (kept.refused !== undefined) return `kpipe could not keep its inputs: ${kept.refused}`;
  const differs = differsFromKept(kept, identity, ctx);
  if (differs !== undefined) return differs;
  const records = loadRecords(ctx.stateDir, step.id, kept);
  if (records.length === 0) return 'kpipe kept no kbuild record';
  return { paths: kept.paths, sigs: kept.sigs, records };
}

/** The command, the environment or the localversion files, when one differs from what was kept. */
function differsFromKept(kept: Kept, identity: string, ctx: KbuildContext): string | undefined {
  if (kept.command !== identity) return 'its command changed';
  const env = kbuildEnvironment(ctx.env);
  const variable = [...new Set([...Object.keys(env), ...Object.keys(kept.env)])].sort().find((k) => env[k] !== kept.env[k]);
  if (variable !== undefined) return `${variable} changed in the environment`;
  if (localversionNames(ctx) !== kept.names) return 'a localversion file came or went';
  return undefined;
}

export function sigOf(p: string, ctx: KbuildContext): string {
  let s = ctx.seen?.get(p);
  if (s === undefined) {
    s = sig(absolutePath(p, ctx.objtree));
    ctx.seen?.set(p, s);
  }
  return s;
}

/** Would make find nothing to do for this step? `changed` says the first thing that differs. */
export function checkKbuildInputs(step: Step, identity: string, ctx: KbuildContext): KbuildCheck {
  const kept = load(ctx.stateDir, step.id);
  if (!kept) return { current: false, changed: 'kpipe kept no record of its inputs' };
  if (kept.refused !== undefined) return { current: false, changed: `kpipe could not keep its inputs: ${kept.refused}` };
  const differs = differsFromKept(kept, identity, ctx);
  if (differs !== undefined) return { current: false, changed: differs };
  for (let i = 0; i < kept.paths.length; i++) {
    const p = kept.paths[i]!;
    const now = sigOf(p, ctx);
    if (now !== kept.sigs[i]) return { current: false, changed: `${shown(p, ctx)} ${now === '-' ? 'is gone' : kept.sigs[i] === '-' ? 'appeared' : 'changed'}` };
  }
  return { current: true, files: kept.paths.length };
}

export function shown(p: string, ctx: KbuildContext): string {
  if (ctx.srctree && p.startsWith(`${ctx.srctree}/`)) return p.slice(ctx.srctree.length + 1);
  return p;
}

/**
 * After the step succeeded: keep kbuild's inputs, unless they cannot be told (the reason is returned,
 * for `-v`). `others`: what the plan's other steps write (in the 'tree' scope, their records and
 * those of files made from them are not the step's). `startedMs`, `endedMs`: when the step started
 * and ended (Date.now()); the keep may come later than the end (core/running/kbuild-keeps.ts).
 */
export function keepKbuildInputs(step: Step, identity: string, scope: KbuildScope, ctx: KbuildContext, others: ReadonlySet<string>, startedMs: number, endedMs: number): string | undefined {
  // The executor set the kept inputs aside (`.last`) before the step ran: they are still what the
  // records said, and a record whose `.cmd` is as it was need not be read again.
  const previous = load(ctx.stateDir, step.id) ?? load(ctx.stateDir, step.id, '.last');
  // Coarse file clocks lag the wall clock by up to a tick: count a file stamped just before the
  // start as written during the build.
  const startNs = BigInt(startedMs - 20) * 1_000_000n;
  const reuse = previous && previous.refused === undefined ? { paths: previous.paths, sigs: previous.sigs, records: loadRecords(ctx.stateDir, step.id, previous) } : undefined;
  // A file clock never runs ahead of the wall clock: what kbuild wrote before its make ended is
  // stamped no later than the end (the end's millisecond rounded up, as Date.now() rounds down).
  const endNs = BigInt(endedMs + 1) * 1_000_000n;
  const why = keep(step, identity, collect(step, scope, ctx, others, reuse, startNs), ctx, startNs, endNs);
  // Why not, for `explain --why` of the next run (which asks make, as when nothing was kept).
  if (why !== undefined) write(ctx, step.id, { version: VERSION, step: step.id, command: identity, env: {}, names: '', paths: [], sigs: [], refused: why });
  return why;
}

function keep(step: Step, identity: string, collected: Collected | string, ctx: KbuildContext, startNs: bigint, endNs: bigint): string | undefined {
  if (typeof collected === 'string') return collected;
  const { paths, records, written } = collected;
  const sigs = paths.map((p) => sig(absolutePath(p, ctx.objtree)));
  for (let i = 0; i < paths.length; i++) {
    const s = sigs[i]!;
    if (s === '-') continue;
    const mtimeNs = BigInt(s.startsWith('d') ? s.slice(1) : s.slice(0, s.indexOf('.')));
    // Anything written since kbuild's make ended (by a later step, or by hand) is not what it saw.
    if (mtimeNs > endNs) return `${shown(paths[i]!, ctx)} changed after kbuild ran`;
    if (s.startsWith('d') || written(paths[i]!)) continue;
    if (mtimeNs >= startNs) return `${shown(paths[i]!, ctx)} changed while kbuild ran`;
  }
  // The records first: the check's file is what makes the inputs count, and it names their number.
  fs.mkdirSync(path.dirname(keptFile(ctx.stateDir, step.id)), { recursive: true });
  writeFileAtomic(keptFile(ctx.stateDir, step.id, '.records'), JSON.stringify({ version: VERSION, paths: paths.length, records } satisfies KeptRecords), false);
  write(ctx, step.id, { version: VERSION, step: step.id, command: identity, env: kbuildEnvironment(ctx.env), names: localversionNames(ctx), paths, sigs });
  fs.rmSync(keptFile(ctx.stateDir, step.id, '.last'), { force: true });
  return undefined;
}

function write(ctx: KbuildContext, stepId: string, kept: Kept): void {
  fs.mkdirSync(path.dirname(keptFile(ctx.stateDir, stepId)), { recursive: true });
  writeFileAtomic(keptFile(ctx.stateDir, stepId), JSON.stringify(kept), false);
}

interface Collected {
  paths: string[];
  records: number[][];
  /** True for a file kbuild itself writes (the build's own products may be newer than its start). */
  written: (p: string) => boolean;
}

function collect(
  step: Step,
  scope: KbuildScope,
  ctx: KbuildContext,
  others: ReadonlySet<string>,
  previous: { paths: string[]; sigs: string[]; records: number[][] } | undefined,
  startNs: bigint,
): Collected | string {
  const { objtree, srctree } = ctx;
  const canon = (p: string) => canonicalPath(p, objtree);
  const index = new Map<string, number>();
  const paths: string[] = [];
  const add = (p: string): number => {
    let i = index.get(p);
    if (i === undefined) {
      index.set(p, (i = paths.length));
      paths.push(p);
    }
    return i;
  };
  // A reused record's files, as indices into the previous paths: 1,500 records name 450,000 files,
  // so each previous path is looked up in `index` once, not once per record naming it.
  const reused = new Map<string, number[]>();
  const fromPrevious = new Int32Array(previous?.paths.length ?? 0).fill(-1);
  const addPrevious = (k: number): number => {
    let i = fromPrevious[k]!;
    if (i < 0) fromPrevious[k] = i = add(previous!.paths[k]!);
    return i;
  };
  /** 1 when a previous path is another step's output or record, 2 when not, 0 not yet asked. */
  const previousOther = new Uint8Array(previous?.paths.length ?? 0);
  const isOtherPrevious = (k: number): boolean => (previousOther[k] ||= others.has(previous!.paths[k]!) ? 1 : 2) === 1;
  if (previous) {
    for (const r of previous.records) {
      const cmd = r[0]!;
      reused.set(`${previous.paths[cmd]!}\0${previous.sigs[cmd]}`, r.slice(1));
    }
  }
  const targets = new Set<string>();
  const recordFiles = scope === 'tree' ? findRecords(ctx.extmod ?? objtree).map((r) => (ctx.extmod ? path.join(ctx.extmod, r) : r)) : step.outputs.map((o) => kbuildRecordOf(o));
  const files = new TreeFiles(objtree, srctree);
  const records: number[][] = [];
  // The compile phase is what comes before kpipe's outputs: not their records, nor those of files
  // made from them (arch/x86/boot's read vmlinux), which are a later phase's.
  for (const cmd of recordFiles) {
    if (others.has(cmd)) continue;
    const cmdSig = sig(absolutePath(cmd, objtree));
    const again = reused.get(`${cmd}\0${cmdSig}`);
    if (again) {
      if (scope === 'tree' && again.some(isOtherPrevious)) continue;
      targets.add(previous!.paths[again[0]!]!);
      const rec = [add(cmd)];
      for (const k of again) rec.push(addPrevious(k));
      records.push(rec);
      continue;
    }
    let text: string;
    try {
      text = fs.readFileSync(absolutePath(cmd, objtree), 'utf8');
    } catch {
      if (scope === 'outputs') return `kbuild has no record ${cmd}`;
      continue;
    }
    const record = parseKbuildRecord(text);
    if (!record) continue;
    const target = canon(record.target);
    // (Before reading the rest: a later step's make may be writing this record as it is read.)
    if (scope === 'tree' && others.has(target)) continue;
    const read = readRecord(record, target, cmd, files);
    if (typeof read === 'string') {
      // make remakes such a target on every call, so one it did not remake in this one is no part
      // of the build (an object of an earlier configuration, whose header is gone since).
      if (scope === 'tree' && !madeSince(absolutePath(target, objtree), startNs)) continue;
      return read;
    }
    const watched = [target, ...read];
    if (scope === 'tree' && watched.some((w) => others.has(w))) continue;
    targets.add(target);
    records.push([add(cmd), ...watched.map(add)]);
  }
  // The Makefiles that decide the command lines: beside every watched source, in every record's
  // source directory (not beside every Kconfig file: make visits only directories it builds in).
  if (srctree) {
    const dirs = new Set<string>();
    for (const p of paths) if (p.startsWith(`${srctree}/`)) dirs.add(path.dirname(p));
    // (An external module's records are in its own directory, with its sources and Kbuild.)
    for (const t of targets) dirs.add(isInsideTree(t) ? path.join(srctree, path.dirname(t)) : path.dirname(t));
    for (const d of [...dirs].sort()) for (const m of makefilesIn(d)) add(m);
  }
  for (const p of configurationFiles(ctx)) add(p);
  for (const p of programFiles(ctx)) add(p);
  for (const p of gitFiles(srctree)) add(p);
  const inTree = srctree === undefined || path.resolve(srctree) === path.resolve(objtree);
  const extmod = ctx.extmod === undefined ? undefined : `${ctx.extmod}/`;
  const written = (p: string): boolean => {
    if (extmod) return p.startsWith(extmod) && (targets.has(p) || p.endsWith('.cmd') || step.outputs.includes(p) || /(\.mod(\.c)?|\/modules\.order|\/Module\.symvers)$/.test(p));
    if (!isInsideTree(p)) return false;
    if (targets.has(p) || p.endsWith('.cmd') || step.outputs.includes(p)) return true;
    // An O= tree is kbuild's alone but for the configuration; in the source tree only its products are.
    if (!inTree) return p !== '.config';
    return /^(include\/(generated|config)\/|arch\/[^/]+\/include\/generated\/)/.test(p) || /\.mod(\.c)?$/.test(p) || ['modules.order', 'Module.symvers', '.vmlinux.export.c'].includes(p);
  };
  return { paths, records, written };
}

function madeSince(absolute: string, startNs: bigint): boolean {
  const st = fs.statSync(absolute, { bigint: true, throwIfNoEntry: false });
  return st !== undefined && st.mtimeNs >= startNs;
}

/** The files one record makes its target depend on (besides the target), or why it cannot be told. */
function readRecord(record: KbuildRecord, target: string, cmd: string, files: TreeFiles): string[] | string {
  const out: string[] = [];
  const toolsRecord = target.startsWith('tools/');
  const deps = record.source !== undefined && !record.deps.includes(record.source) ? [record.source, ...record.deps] : record.deps;
  for (const dep of deps) {
    // tools/' records spell relative paths from a source directory of their own: never the output tree.
    if (path.isAbsolute(dep) || (!toolsRecord && (record.wildcards.has(dep) || files.existsInTree(dep)))) {
      out.push(files.canonical(dep));
      continue;
    }
    // tools/' own makes (objtool, resolve_btfids' libbpf) record paths relative to a source directory
    // of theirs the record does not name: watch every file of tools/ it can be.
    const candidates = toolsRecord ? files.inTools(dep) : [];
    // A prerequisite that exists nowhere: make remakes the target every time, and so must kpipe ask.
    if (candidates.length === 0) return `${cmd} names ${dep}, which does not exist: make remakes ${target} every time`;
    out.push(...candidates);
  }
  out.push(...files.named(record.command));
  return out;
}

/** Every `.*.cmd` below the output tree (not below `.kpipe/`, symbolic links, nor a `.git`). */
function findRecords(objtree: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) {
        if (e.name !== STATE_DIR && e.name !== '.git') walk(path.join(dir, e.name), rel ? `${rel}/${e.name}` : e.name);
      } else if (e.isFile() && e.name.startsWith('.') && e.name.endsWith('.cmd')) out.push(rel ? `${rel}/${e.name}` : e.name);
    }
  };
  walk(objtree, '');
  return out.sort();
}

/**
 * The files records name, each looked at once: 1,500 records name 450,000 files, nearly all of them
 * the same headers and CONFIG_ option files.
 */
class TreeFiles {
  private readonly canonicals = new Map<string, string>();
  private readonly inTree = new Map<string, boolean>();
  private readonly commandWords = new Map<string, string | null>();
  private toolsByName: Map<string, string[]> | undefined;
  private readonly objtreeSlash: string;
  constructor(
    private readonly objtree: string,
    private readonly srctree: string | undefined,
  ) {
    this.objtreeSlash = `${objtree}/`;
  }

  canonical(p: string): string {
    // Nearly every path is already canonical: a source tree's absolute one, or a clean relative one.
    if (path.isAbsolute(p) ? !p.startsWith(this.objtreeSlash) : isCleanRelative(p)) return p;
    let c = this.canonicals.get(p);
    if (c === undefined) this.canonicals.set(p, (c = canonicalPath(p, this.objtree)));
    return c;
  }

  existsInTree(rel: string): boolean {
    let e = this.inTree.get(rel);
    if (e === undefined) this.inTree.set(rel, (e = fs.existsSync(path.join(this.objtree, rel))));
    return e;
  }

  /** Existing files a command line names (`-T arch/x86/kernel/vmlinux.lds`, `-Wp,-MMD,x`, `--file=y`). */
  named(command: string): string[] {
    const out: string[] = [];
    for (const word of command.split(/[\s'"=,;:()]+/)) {
      // Bare words too: `objcopy ... vmlinux vmlinux.bin` names vmlinux so (each word is looked at once).
      if (word === '' || word.startsWith('-') || word.includes('$') || word.includes('*')) continue;
      let p = this.commandWords.get(word);
      if (p === undefined) {
        const absolute = path.resolve(this.objtree, word);
        p = fs.statSync(absolute, { throwIfNoEntry: false })?.isFile() ? canonicalPath(absolute, this.objtree) : null;
        this.commandWords.set(word, p);
      }
      if (p !== null) out.push(p);
    }
    return out;
  }

  /** The files of the source tree's tools/ a tools/ record's relative path may be. */
  inTools(dep: string): string[] {
    if (!this.srctree) return [];
    if (!this.toolsByName) {
      const byName = (this.toolsByName = new Map<string, string[]>());
      const walk = (dir: string) => {
        for (const e of safeReaddir(dir)) {
          const p = path.join(dir, e.name);
          if (e.isDirectory()) walk(p);
          else if (e.isFile()) (byName.get(e.name) ?? byName.set(e.name, []).get(e.name)!).push(p);
        }
      };
      walk(path.join(this.srctree, 'tools'));
    }
    // `arch/x86/../../../arch/x86/lib/inat.c` ends, once resolved, in `arch/x86/lib/inat.c`.
    const tail = path.normalize(dep).replace(/^(\.\.\/)+/, '');
    return (this.toolsByName.get(path.basename(tail)) ?? []).filter((p) => p.endsWith(`/${tail}`));
  }
}

function safeReaddir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** .config, auto.conf and its record, and the Kconfig files auto.conf.cmd lists. */
function configurationFiles(ctx: KbuildContext): string[] {
  const out = ['.config', 'include/config/auto.conf', 'include/config/auto.conf.cmd'];
  let text = '';
  try {
    text = fs.readFileSync(path.join(ctx.objtree, 'include/config/auto.conf.cmd'), 'utf8');
  } catch {
    return out;
  }
  const base = ctx.srctree ?? ctx.objtree;
  const m = /^deps_config := \\\n((?:.*\\\n)*)/m.exec(text);
  for (const line of m ? m[1]!.split('\\\n') : []) {
    const f = line.trim();
    if (f !== '') out.push(canonicalPath(path.resolve(base, f), ctx.objtree));
  }
  return out;
}

/** The top Makefiles, scripts/'s files and the arch's Makefiles (kbuild reads them on every call). */
function topMakefiles(ctx: KbuildContext): string[] {
  const src = ctx.srctree;
  // An O= tree's own Makefile is kbuild's one-line wrapper (`include $(srctree)/Makefile`), which
  // every make call writes again (scripts/mkmakefile): its mtime says nothing.
  if (!src) return [canonicalPath('Makefile', ctx.objtree)];
  const out: string[] = [];
  for (const f of ['Makefile', 'Kbuild', 'Kconfig']) out.push(path.join(src, f));
  for (const e of safeReaddir(path.join(src, 'scripts'))) if (e.isFile()) out.push(path.join(src, 'scripts', e.name));
  const arch = ctx.env.SRCARCH ?? archOf(ctx.env.ARCH);
  if (arch) out.push(...makefilesIn(path.join(src, 'arch', arch)));
  return out.map((p) => canonicalPath(p, ctx.objtree));
}

function archOf(arch: string | undefined): string | undefined {
  if (!arch) return undefined;
  if (arch === 'x86_64' || arch === 'i386') return 'x86';
  if (arch === 'sparc64') return 'sparc';
  return arch;
}

function makefilesIn(dir: string): string[] {
  const out: string[] = [];
  // An absent Kbuild counts too: kbuild reads it instead of the Makefile once it exists.
  out.push(path.join(dir, 'Kbuild'), path.join(dir, 'Makefile'));
  for (const e of safeReaddir(dir)) if (e.isFile() && /^(Makefile|Kbuild|Build)/.test(e.name)) out.push(path.join(dir, e.name));
  return [...new Set(out)];
}

/** The executables of kbuild's tools, as PATH finds them. */
function programFiles(ctx: KbuildContext): string[] {
  const out: string[] = [];
  for (const word of new Set(ctx.programs)) {
    if (word === '' || word.startsWith('-') || word.includes('$') || word.includes('=')) continue;
    const found = findExecutable(word, ctx.env.PATH ?? '', ctx.objtree);
    if (found === undefined) continue;
    out.push(canonicalPath(found, ctx.objtree));
    try {
      out.push(canonicalPath(fs.realpathSync(found), ctx.objtree));
    } catch {
      // Found a moment ago: gone again, which the check will see.
    }
  }
  return [...topMakefiles(ctx), ...out];
}

/** HEAD, the index and the refs a git source tree's release string comes from (scripts/setlocalversion). */
function gitFiles(srctree: string | undefined): string[] {
  if (!srctree) return [];
  const dotGit = path.join(srctree, '.git');
  let gitDir = dotGit;
  const st = fs.statSync(dotGit, { throwIfNoEntry: false });
  if (!st) return [];
  if (st.isFile()) {
    // A worktree: `gitdir: PATH`, whose `commondir` holds the refs.
    const m = /^gitdir: (.+)$/m.exec(fs.readFileSync(dotGit, 'utf8'));
    if (!m) return [dotGit];
    gitDir = path.resolve(srctree, m[1]!.trim());
  }
  let common = gitDir;
  try {
    common = path.resolve(gitDir, fs.readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim());
  } catch {
    // Not a worktree: the refs are here.
  }
  // Not the .git directory's own mtime: every git command's lock file changes it.
  const out = [...(st.isFile() ? [dotGit] : []), path.join(gitDir, 'HEAD'), path.join(gitDir, 'index'), path.join(common, 'packed-refs')];
  try {
    const ref = /^ref: (.+)$/m.exec(fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8'))?.[1];
    if (ref) out.push(path.join(common, ref.trim()));
  } catch {
    // No HEAD: watched as absent.
  }
  return out;
}

function localversionNames(ctx: KbuildContext): string {
  const names = (dir: string) => safeReaddir(dir).map((e) => e.name).filter((n) => n.startsWith('localversion')).sort();
  return [...names(ctx.objtree), '|', ...(ctx.srctree ? names(ctx.srctree) : [])].join(' ');
}
