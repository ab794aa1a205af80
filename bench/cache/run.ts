// Step cache benchmark on the reference tree, medians of one run at one path:
//   1. the link after switching back to a state already built (a kernel/panic.c string edit applied
//      and reverted), with the local cache and without it;
//   2. a tree at the same path with .kpipe/ and every output removed (the pristine copy), linking
//      from a remote cache (nginx WebDAV on 127.0.0.1) another run filled, against a plain full link.
// The switch is the link's inputs swapped back (the files the edit's compile phase changed, copied
// with their mtimes): what is timed is kpipe's link, never kbuild's compile.
//   npx tsc -p . && node dist/bench/cache/run.js [REPETITIONS]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { compilePhase, env, prepareTree, restore, withPanicEdit, type KernelTree } from '../../test/helpers/kernel-tree.js';
import { startNginx } from '../../test/helpers/nginx.js';

const reps = Number(process.argv[2] ?? 3);
const KPIPE = [process.execPath, path.join(PACKAGE_ROOT, 'bin', 'kpipe.js')];

function timed(argv: string[], cwd: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, env: env(), stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed:\n${r.stderr}`);
  if (/remote cache|local step cache/.test(r.stderr)) throw new Error(`${argv.join(' ')} warned:\n${r.stderr}`);
  return seconds;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Files under `dir` modified after `since` (ms), relative paths; .kpipe/ left out. */
function changedSince(dir: string, since: number, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (p !== '.kpipe') out.push(...changedSince(dir, since, p));
    } else if (e.isFile() && fs.statSync(path.join(dir, p)).mtimeMs > since) out.push(p);
  }
  return out;
}

function snapshot(tree: KernelTree, files: string[], to: string): void {
  fs.rmSync(to, { recursive: true, force: true });
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
    fs.cpSync(path.join(tree.out, f), path.join(to, f), { preserveTimestamps: true });
  }
}

function putBack(tree: KernelTree, files: string[], from: string): void {
  for (const f of files) fs.cpSync(path.join(from, f), path.join(tree.out, f), { preserveTimestamps: true });
}

const tree = prepareTree('x86_64-reference');
const scratch = fs.mkdtempSync(path.join(os.homedir(), '.cache', 'kpipe', 'scratch-bench-cache-'));
const cacheDir = path.join(scratch, 'steps');
const kpipe = (...extra: string[]) => timed([...KPIPE, 'run', '-C', tree.out, '-j2', '--skip', 'compile', ...extra], tree.out);
try {
  console.log(`tree: ${tree.out}\nrepetitions: ${reps} (median shown)\n`);
  // The two states of the link's inputs.
  restore(tree);
  kpipe('--cache-dir', cacheDir);
  let edited: string[] = [];
  withPanicEdit(tree, () => {
    const mark = Date.now();
    compilePhase(tree);
    edited = changedSince(tree.out, mark);
    snapshot(tree, edited, path.join(scratch, 'edited'));
    kpipe('--cache-dir', cacheDir);
  });
  restore(tree);
  snapshot(tree, edited, path.join(scratch, 'reverted'));
  console.log(`switch: ${edited.length} files the edit's compile phase rewrote (${edited.filter((f) => !f.endsWith('.cmd')).slice(0, 6).join(', ')}, ...)`);
  kpipe('--cache-dir', cacheDir);

  const withCache: number[] = [];
  const without: number[] = [];
  for (let i = 0; i < reps; i++) {
    for (const [list, flags] of [[withCache, ['--cache-dir', cacheDir]], [without, ['--no-cache']]] as const) {
      putBack(tree, edited, path.join(scratch, 'edited'));
      kpipe('--cache-dir', cacheDir); // to the edited outputs (from the cache: quick)
      putBack(tree, edited, path.join(scratch, 'reverted'));
      list.push(kpipe(...flags));
    }
  }
  console.log(`link after switching back, local cache:     ${median(withCache).toFixed(2)} s  (${withCache.map((x) => x.toFixed(2)).join(', ')})`);
  console.log(`link after switching back, no cache:        ${median(without).toFixed(2)} s  (${without.map((x) => x.toFixed(2)).join(', ')})`);

  const nginx = await startNginx();
  try {
    const url = `${nginx.origin}/cache/kpipe`;
    restore(tree);
    const fill = kpipe('--no-cache', '--remote-cache', url, '--remote-cache-mode', 'read-write');
    const remote: number[] = [];
    const full: number[] = [];
    const filling: number[] = [];
    for (let i = 0; i < reps; i++) {
      restore(tree);
      remote.push(kpipe('--remote-cache', url));
      restore(tree);
      full.push(kpipe('--no-cache'));
      // What storing costs: a full link into an empty local store.
      restore(tree);
      fs.rmSync(path.join(scratch, 'fill'), { recursive: true, force: true });
      filling.push(kpipe('--cache-dir', path.join(scratch, 'fill')));
    }
    console.log(`emptied tree, from the remote cache:        ${median(remote).toFixed(2)} s  (${remote.map((x) => x.toFixed(2)).join(', ')})`);
    console.log(`emptied tree, full link, no cache:          ${median(full).toFixed(2)} s  (${full.map((x) => x.toFixed(2)).join(', ')})`);
    console.log(`emptied tree, full link into an empty local cache: ${median(filling).toFixed(2)} s  (${filling.map((x) => x.toFixed(2)).join(', ')})`);
    console.log(`the run that filled the remote cache:       ${fill.toFixed(2)} s`);
  } finally {
    await nginx.stop();
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
