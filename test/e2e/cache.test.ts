// The step cache on the real 6.12 reference tree. Local: after a vmlinux-only edit applied and
// reverted (kernel/panic.c, recompiled by the pipeline's compile stage), the run after the revert
// restores the link from the cache and equals kbuild's bytes. Remote: a run fills Debian's nginx
// (WebDAV), and a run into an emptied tree at the same path (pristine copy: no .kpipe/, no outputs)
// links from it alone, byte-identical to kbuild.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { compilePhase, differences, env, kbuildReference, plainEnv, prepareTree, restore, run, withPanicEdit, type KernelTree } from '../helpers/kernel-tree.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';
import { lastRun as lastRunIn, own, type RunRecord } from '../helpers/last-run.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
let tree: KernelTree;
let reference: string;
let cacheDir: string;
let nginx: Nginx;



const lastRun = (): RunRecord[] => lastRunIn(tree.out);

/** stdout and stderr: the cache's warnings go to stderr. */
function kpipe(...args: string[]): { output: string; stderr: string; seconds: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [KPIPE, ...args], { encoding: 'utf8', env: env(), maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`kpipe ${args.join(' ')} exited ${r.status}:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return { output: r.stdout, stderr: r.stderr, seconds: (performance.now() - t0) / 1000 };
}

test.before(async () => {
  tree = prepareTree('x86_64-reference');
  reference = kbuildReference(tree, 'clean');
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-e2e-cache-'));
  nginx = await startNginx();
});
test.after(async () => {
  await nginx?.stop();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

/**
 * The first link carries kbuild's compile of init/version-timestamp.o (link-vmlinux.sh's order, so a
 * new date never relinks by itself). It is keyed by kbuild's record of that compile
 * (init/.version-timestamp.o.cmd and the files it names); a tree without the record (a pristine,
 * never linked one) cannot key it, so it links.
 */
const FIRST_LINK = 'vmlinux.unstripped:.tmp_vmlinux1';

test('a vmlinux-only edit applied and reverted: the run after the revert restores the link and equals kbuild', () => {
  restore(tree);
  const local = ['--cache-dir', cacheDir];
  const first = kpipe('run', '-C', tree.out, '-j2', ...local);
  assert.match(first.output, /LD {6}vmlinux\b/);
  withPanicEdit(tree, () => kpipe('run', '-C', tree.out, '-j2', ...local));
  // The source is back with its old mtime (withPanicEdit keeps the shared source as it was), which is
  // older than the edited kernel/panic.o: make would keep that object. A checkout gives the file a new
  // mtime; here the object goes, so the compile phase (which explain cannot foresee) remakes the old one.
  fs.rmSync(path.join(tree.out, 'kernel', 'panic.o'));
  compilePhase(tree);
  const back = kpipe('run', '-C', tree.out, '-j2', ...local);
  assert.not.match(back.stderr, /remote cache|local step cache/);
  console.log(`  (first link ${first.seconds.toFixed(1)} s, the run after the revert ${back.seconds.toFixed(1)} s)`);
  assert.match(back.output, /CACHED {2}vmlinux\.unstripped/);
  assert.equal(differences(reference, tree.out), []);
  const records = lastRun();
  assert.equal(records.filter((s) => s.ran && own(s)).map((s) => s.id), [], 'no step of its own ran: every one was restored');
  assert.is(records.find((s) => s.id === FIRST_LINK)?.cached, 'local', 'the first link too, with the object kbuild compiled for it');
  // The journal took the restored files as built ones: a no-op follows.
  kpipe('run', '-C', tree.out, '-j2', ...local);
  assert.equal(lastRun().filter((s) => s.ran && own(s)).map((s) => s.id), []);
});

test('in a plain shell (no KBUILD_BUILD_*): the run after the revert restores the first link with its date, and so every later step', () => {
  const local = ['--cache-dir', cacheDir];
  const plainKpipe = (...args: string[]) => {
    const r = spawnSync(process.execPath, [KPIPE, ...args], { encoding: 'utf8', env: plainEnv(), maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`kpipe ${args.join(' ')} exited ${r.status}:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
    return r.stdout;
  };
  const hashes = () => ['vmlinux', 'System.map', 'init/version-timestamp.o', 'lib/crc8.ko'].map((f) => `${f} ${run(['sha256sum', path.join(tree.out, f)]).split(' ')[0]}`);
  restore(tree);
  // The plain shell's compile phase (kpipe's compile stage) writes its user and host into the tree.
  plainKpipe('run', '-C', tree.out, '-j2', ...local);
  const first = hashes();
  // Each compile of version-timestamp.o in a plain shell takes the clock: the edited link has a new date.
  withPanicEdit(tree, () => plainKpipe('run', '-C', tree.out, '-j2', ...local));
  // As in the test above: the object goes, and the compile phase remakes the old one (kpipe plans
  // from the tree as it finds it, so the object must be there when the run starts). It runs as kpipe's
  // compile stage does, with the tree's ARCH: a make without ARCH would reconfigure the tree for the
  // host's `x86`, and a run with another ARCH is another command, which the cache rightly misses.
  fs.rmSync(path.join(tree.out, 'kernel', 'panic.o'));
  compilePhase(tree, { ...plainEnv(), ARCH: 'x86_64' });
  const back = plainKpipe('run', '-C', tree.out, '-j2', ...local);
  assert.match(back, /CACHED {2}\.tmp_vmlinux1/);
  assert.equal(lastRun().filter((s) => s.ran && own(s)).map((s) => s.id), [], 'no step of its own ran');
  assert.equal(hashes(), first, 'the images and the version object of the first run, date included');
});

test('remote: a run fills nginx, a run into an emptied tree at the same path links from it alone', () => {
  const url = `${nginx.origin}/cache/kpipe`;
  restore(tree);
  // The pristine copy is compiled already: what is shared is the link.
  const fill = kpipe('run', '-C', tree.out, '-j2', '--skip', 'compile', '--remote-cache', url, '--remote-cache-mode', 'read-write');
  assert.not.match(fill.stderr, /remote cache|local step cache/);
  restore(tree);
  const again = kpipe('run', '-C', tree.out, '-j2', '--skip', 'compile', '--remote-cache', url);
  console.log(`  (filling run ${fill.seconds.toFixed(1)} s, the run from the remote cache ${again.seconds.toFixed(1)} s)`);
  assert.not.match(again.stderr, /remote cache|local step cache/);
  assert.equal(differences(reference, tree.out), []);
  const records = lastRun();
  assert.equal(records.filter((s) => s.ran && own(s)).map((s) => s.id), [FIRST_LINK], 'every other step of its own came from the server');
  assert.ok(records.filter((s) => s.stage === 'modules' && own(s)).every((s) => s.cached === 'remote'));
});

test.run();
