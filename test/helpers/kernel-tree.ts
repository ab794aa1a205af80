// The real kernel tree for end-to-end tests: prepared by scripts/prepare-kernel.sh (cached under
// ~/.cache/kpipe), restored from its pristine copy at the same path before each link (an output tree
// is path-sensitive, DESIGN.md section 4), and kbuild's own link outputs saved once per tree as the
// reference kpipe must equal byte for byte.
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';

/**
 * Exactly the variables scripts/kernel-env.sh exports: reproducible builds, as DESIGN.md says. ARCH is
 * the native default; a cross tree overrides it with `ARCH=... CROSS_COMPILE=...` words on the make
 * and kpipe command lines (KernelTree.makeArgs), which win over the environment as in kbuild.
 */
export const REPRODUCIBLE_ENV = {
  KBUILD_BUILD_VERSION: '1',
  KBUILD_BUILD_TIMESTAMP: 'Thu Jan  1 00:00:00 UTC 2026',
  KBUILD_BUILD_USER: 'kpipe',
  KBUILD_BUILD_HOST: 'kpipe',
  ARCH: 'x86_64',
};

export function env(): NodeJS.ProcessEnv {
  return { ...process.env, ...REPRODUCIBLE_ENV };
}

/** The environment of a fresh shell: none of scripts/kernel-env.sh's variables (kpipe in a kernel engineer's shell). */
export function plainEnv(): NodeJS.ProcessEnv {
  const e = { ...process.env };
  for (const k of ['ARCH', 'CROSS_COMPILE', ...Object.keys(REPRODUCIBLE_ENV)]) delete e[k];
  return e;
}

export function run(argv: string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: env(), maxBuffer: 256 * 1024 * 1024, ...options });
  if (r.status !== 0) {
    throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}:\n${String(r.stdout ?? '').slice(-4000)}\n${String(r.stderr ?? '').slice(-4000)}`);
  }
  return String(r.stdout ?? '');
}

export interface KernelTree {
  dir: string;
  out: string;
  pristine: string;
  src: string;
  /** `ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu-` for a cross tree, none for a native one: given to make and kpipe alike. */
  makeArgs: string[];
}

/** Profiles named `x86_64-*` are native; any other is cross-compiled by scripts/cross-tree.sh. */
export function isCrossProfile(profile: string): boolean {
  return !profile.startsWith('x86_64-');
}

/** The kernel line of a profile: the `# kernel-line: 6.1` comment of its .config, else 6.12. */
export function profileLine(profile: string): string {
  const config = fs.readFileSync(path.join(PACKAGE_ROOT, 'configs', `${profile}.config`), 'utf8');
  return /^# kernel-line: *(\S+)/m.exec(config)?.[1] ?? '6.12';
}

const heldLines = new Set<string>();

/**
 * Kernel trees are path-sensitive and share one unpacked source per line (withPanicEdit edits it), so
 * two processes that compile, restore or link trees of one line must not overlap: developers' and
 * helpers' test runs, benchmarks and scripts/prepare-kernel.sh all take `locks/linux-<line>.lock`
 * with flock(1). The holder is a small `flock` child that lives as long as this process (it polls our
 * pid), so the lock is released even after a `kill -9`. Held once per line per process, until exit.
 */
export function holdLineLock(line: string): void {
  if (heldLines.has(line) || process.env[`KPIPE_LINE_LOCKED_${line.replace('.', '_')}`]) return;
  const cache = process.env['KPIPE_CACHE'] ?? path.join(process.env['HOME'] ?? '/root', '.cache', 'kpipe');
  const dir = path.join(cache, 'locks');
  fs.mkdirSync(dir, { recursive: true });
  const ready = path.join(dir, `linux-${line}.ready.${process.pid}`);
  fs.rmSync(ready, { force: true });
  const holder = spawn('flock', [path.join(dir, `linux-${line}.lock`), 'sh', '-c',
    `: > "$1"; while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`, 'sh', ready], { stdio: 'ignore', detached: true });
  holder.unref();
  const wait = new Int32Array(new SharedArrayBuffer(4));
  let waited = 0;
  while (!fs.existsSync(ready)) {
    if (waited === 10) process.stderr.write(`kernel-tree: waiting for another run's use of the Linux ${line} trees (${dir})\n`);
    Atomics.wait(wait, 0, 0, 500);
    waited++;
  }
  fs.rmSync(ready, { force: true });
  heldLines.add(line);
  // Our own scripts (prepare-kernel.sh) must not wait for the lock this process holds.
  process.env[`KPIPE_LINE_LOCKED_${line.replace('.', '_')}`] = '1';
}

export function prepareTree(profile = 'x86_64-reference'): KernelTree {
  holdLineLock(profileLine(profile));
  const cross = isCrossProfile(profile);
  const script = path.join(PACKAGE_ROOT, cross ? 'scripts/cross-tree.sh' : 'scripts/prepare-kernel.sh');
  const dir = run(['bash', script, profile], { stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const makeArgs = cross ? run(['bash', script, '--env', profile]).trim().split(/\s+/) : [];
  const src = fs.realpathSync(path.join(dir, 'out', 'source'));
  undoDeadEdits(path.dirname(dir), src);
  return { dir, out: path.join(dir, 'out'), pristine: path.join(dir, 'pristine'), src, makeArgs };
}

/**
 * A test killed inside withPanicEdit leaves the shared source edited, its backup beside the tree that
 * edited it: undo that before any tree of the line is used (not only at the next edit), or every
 * comparison with kbuild's reference would see the edit.
 */
function undoDeadEdits(treesDir: string, src: string): void {
  for (const name of fs.readdirSync(treesDir)) {
    const backup = path.join(treesDir, name, 'panic.c.orig');
    if (!fs.existsSync(backup)) continue;
    let edited: string;
    try {
      edited = fs.realpathSync(path.join(treesDir, name, 'out', 'source'));
    } catch {
      continue;
    }
    if (edited === src) restorePanic(path.join(src, PANIC_C), backup);
  }
}

export function restore(tree: KernelTree): void {
  fs.rmSync(tree.out, { recursive: true, force: true });
  run(['cp', '-a', tree.pristine, tree.out]);
}

/** vmlinux, System.map and every .ko, as paths relative to the tree. */
export function linkOutputs(out: string): string[] {
  const kos = run(['find', '.', '-name', '*.ko', '-type', 'f'], { cwd: out }).split('\n').filter(Boolean).map((p) => p.replace(/^\.\//, '')).sort();
  return ['vmlinux', 'System.map', ...kos];
}

/**
 * kbuild's link of the tree (after `prepare`, e.g. an edit and a compile phase), saved once: the link
 * outputs plus `extra` files (arch post-link outputs such as arch/x86/boot/compressed/vmlinux.relocs),
 * with `makeVars` on make's command line (6.1's PAHOLE_FLAGS less -j: its link made deterministic).
 */
export function kbuildReference(tree: KernelTree, name: string, prepare: () => void = () => {}, extra: string[] = [], makeVars: string[] = []): string {
  const ref = path.join(tree.dir, `ref-${name}`);
  if (fs.existsSync(path.join(ref, '.done'))) return ref;
  restore(tree);
  prepare();
  run(['make', '-s', `-j${2}`, ...tree.makeArgs, ...makeVars, 'vmlinux', 'modules'], { cwd: tree.out });
  fs.rmSync(ref, { recursive: true, force: true });
  for (const f of [...linkOutputs(tree.out), ...extra]) {
    fs.mkdirSync(path.dirname(path.join(ref, f)), { recursive: true });
    fs.copyFileSync(path.join(tree.out, f), path.join(ref, f));
  }
  fs.writeFileSync(path.join(ref, '.done'), '');
  return ref;
}

/** What each architecture's Makefile.postlink writes besides the image, by the tree's ARCH= word. */
const POSTLINK_OUTPUTS: Record<string, string[]> = {
  riscv: ['vmlinux.relocs'],
  s390: ['arch/s390/boot/relocs.S'],
  // powerpc only checks; mips writes its relocations into the image itself.
};

export function postlinkOutputs(makeArgs: string[]): string[] {
  const arch = makeArgs.find((a) => a.startsWith('ARCH='))?.slice('ARCH='.length) ?? '';
  return POSTLINK_OUTPUTS[arch] ?? [];
}

/** Files that differ between a reference and a tree (missing ones included). */
export function differences(ref: string, out: string, extra: string[] = []): string[] {
  const refFiles = [...linkOutputs(ref), ...extra];
  const outFiles = new Set(linkOutputs(out));
  const diff: string[] = [];
  for (const f of refFiles) {
    if (!fs.existsSync(path.join(out, f))) diff.push(`${f}: missing`);
    else if (!fs.readFileSync(path.join(ref, f)).equals(fs.readFileSync(path.join(out, f)))) diff.push(`${f}: differs`);
    outFiles.delete(f);
  }
  for (const f of outFiles) if (!extra.includes(f)) diff.push(`${f}: not made by kbuild`);
  return diff;
}

/** The compile phase only (DESIGN.md section 4), e.g. after a source edit. */
/** kbuild's compile phase, as kpipe's compile stage runs it (in `environment`: the reproducible one unless given). */
export function compilePhase(tree: KernelTree, environment: NodeJS.ProcessEnv = env()): void {
  run(['make', '-s', '-j2', ...tree.makeArgs, 'KBUILD_MODULES=1', 'vmlinux_o', 'modpost'], { cwd: tree.out, env: environment });
}

const PANIC_C = 'kernel/panic.c';
const LITERAL = '"Kernel panic - not syncing: %s\\n"';
const EDITED = '"Kernel panic - not syncing (kpipe e2e): %s\\n"';
/** An edit that changes vmlinux's BTF: a new type, and a function that uses it (prototype first, for -Wmissing-prototypes). */
const NEW_TYPE = '\nstruct kpipe_e2e_probe { int kpipe_e2e_field; };\nint kpipe_e2e_probe_read(struct kpipe_e2e_probe *p);\nint kpipe_e2e_probe_read(struct kpipe_e2e_probe *p) { return p->kpipe_e2e_field; }\n';

/**
 * Runs `fn` with one string literal of kernel/panic.c changed (DESIGN.md's early-cutoff experiment),
 * or with a new type and function appended (`'type'`: vmlinux's BTF changes), then restores the file
 * and its mtime, so the shared source and the cached trees stay as they were.
 */
export function withPanicEdit<T>(tree: KernelTree, fn: () => T, edit: 'string' | 'type' = 'string'): T {
  const file = path.join(tree.src, PANIC_C);
  const backup = path.join(tree.dir, 'panic.c.orig');
  if (fs.existsSync(backup)) restorePanic(file, backup); // an earlier run died mid-edit
  const original = fs.readFileSync(file, 'utf8');
  if (!original.includes(LITERAL)) throw new Error(`${file} no longer has the literal ${LITERAL}`);
  const stat = fs.statSync(file);
  fs.writeFileSync(backup, original);
  fs.utimesSync(backup, stat.atime, stat.mtime);
  try {
    fs.writeFileSync(file, edit === 'string' ? original.replace(LITERAL, EDITED) : original + NEW_TYPE);
    return fn();
  } finally {
    restorePanic(file, backup);
  }
}

function restorePanic(file: string, backup: string): void {
  const stat = fs.statSync(backup);
  fs.writeFileSync(file, fs.readFileSync(backup));
  fs.utimesSync(file, stat.atime, stat.mtime);
  fs.rmSync(backup);
}
