// The stat batch (core/state/stat-prefetch.ts, stat-batch.c): the stats it takes before a run are the
// ones Node's statSync gives, and the probe stops using them once a step starts, so a file a step
// writes without declaring it (as kbuild's make may) is seen as it is by the steps after it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { cmd, exec, makeTree, step, type Tree } from './fixture.js';
import { decodeStats, MIN_BATCH_FILES, statBatch, statRecords } from '../../core/state/stat-prefetch.js';
import { statFile } from '../../core/state/file-state.js';
import { FileProbe } from '../../core/state/file-probe.js';
import { StateStore } from '../../core/state/state-store.js';
import { nativeProgram } from '../../core/running/native-helper.js';
import { withEnv } from '../helpers/env.js';

/** The batch's records as the probe takes them (what the executor does with them). */
const prefetchStats = (paths: string[], objtree: string, env: NodeJS.ProcessEnv) => statBatch(paths, objtree, env)?.then((records) => records && decodeStats(paths, records));

/** The batch for any number of files: these tests' trees are far below MIN_BATCH_FILES. */
const FORCED = { ...process.env, KPIPE_STAT_PREFETCH: '1' };

let t: Tree;
test.before.each(() => {
  t = makeTree();
});
test.after.each(() => t.remove());

test('this machine compiles the stat batch (a cc is there), so the tests below use it', () => {
  assert.ok(nativeProgram('stat-batch'), 'compiled');
});

test('each stat is what statFile says: regular files, absent, directories, symlinks; other errors left to Node', async () => {
  t.write('file', 'abc');
  t.write('sub/deeper', 'x'.repeat(5000));
  fs.symlinkSync('file', path.join(t.dir, 'link'));
  fs.symlinkSync('nowhere', path.join(t.dir, 'dangling'));
  const absolute = path.join(t.dir, 'file');
  const paths = ['file', 'sub/deeper', 'missing', 'sub', 'link', 'dangling', 'file/below', absolute, 'späť name'];
  t.write('späť name', 'utf-8');
  const stats = await prefetchStats(paths, t.dir, FORCED);
  assert.ok(stats, 'the batch ran');
  for (const p of paths.filter((p) => p !== 'file/below')) {
    const direct = statFile(path.resolve(t.dir, p));
    assert.equal(stats!.get(p), direct ?? null, p);
  }
  assert.is(stats!.has('file/below'), false, 'ENOTDIR: statSync throws it, so the probe must stat it itself');
  assert.is(stats!.get('link')?.ino, statFile(absolute)!.ino, 'a symlink is followed, as statSync does');
});

test('the main thread\'s records are the batch\'s, byte for byte (a kept no-op verdict compares them)', async () => {
  t.write('file', 'abc');
  t.write('sub/deeper', 'x'.repeat(5000));
  fs.symlinkSync('file', path.join(t.dir, 'link'));
  const paths = ['file', 'sub/deeper', 'missing', 'sub', 'link', 'file/below', path.join(t.dir, 'file')];
  const batch = await statBatch(paths, t.dir, FORCED);
  assert.ok(batch, 'the batch ran');
  assert.ok(statRecords(paths, t.dir).equals(batch!));
});

test('no batch with KPIPE_STAT_PREFETCH=0, for nothing to stat, or for fewer files than it costs to start', async () => {
  const many = Array.from({ length: MIN_BATCH_FILES }, (_, i) => `f${i}`);
  assert.is(prefetchStats(many, t.dir, { ...process.env, KPIPE_STAT_PREFETCH: '0' }), undefined);
  assert.is(prefetchStats([], t.dir, FORCED), undefined);
  const { KPIPE_STAT_PREFETCH: _, ...unset } = process.env;
  assert.is(prefetchStats(many.slice(1), t.dir, unset), undefined, 'one file short: the main thread stats them');
  assert.is((await prefetchStats(many, t.dir, unset))?.size, MIN_BATCH_FILES);
  assert.is((await prefetchStats(['file'], t.dir, FORCED))?.size, 1, 'KPIPE_STAT_PREFETCH=1: any number');
});

test('the probe answers from the batch until a step starts, then from the disk', () => {
  t.write('x', 'now');
  const store = StateStore.load(t.dir);
  const probe = new FileProbe(t.dir, store);
  probe.usePrefetched(new Map([['x', null], ['y', { size: 1, mtimeNs: 1n, ino: 1n }]]));
  assert.is(probe.exists('x'), false, 'the batch said absent');
  assert.is(probe.exists('y'), true);
  const second = new FileProbe(t.dir, store);
  second.usePrefetched(new Map([['x', null]]));
  second.dropPrefetch();
  assert.is(second.exists('x'), true, 'dropped: the disk');
  store.close();
});

test('a step that rewrites a file it did not declare: the steps after it see the new content', async () => {
  t.write('a.src', 'alpha');
  t.write('b.src', 'beta');
  // Old enough that its stat alone is trusted (core/state/file-state.ts, RACY_WINDOW_NS).
  const past = new Date(Date.now() - 60_000);
  for (const f of ['a.src', 'b.src']) fs.utimesSync(path.join(t.dir, f), past, past);
  // A writes a.out (the same bytes each time) and, the second time, also b.src, which B reads.
  const steps = (extra: string) => [
    step('A', ['a.src'], ['a.out'], [
      cmd('GEN', 'a.out', exec([t.tool('gen'), 'A', 'a.out', 'a.src'])),
      cmd('SH', 'b.src', exec(['/bin/sh', '-c', `true${extra}`], { cwd: 'objtree' })),
    ]),
    step('B', ['a.out', 'b.src'], ['b.out'], [cmd('GEN', 'b.out', exec([t.tool('gen'), 'B', 'b.out', 'a.out', 'b.src']))]),
  ];
  // The executor's batch, for two steps.
  await withEnv('KPIPE_STAT_PREFETCH', '1', async () => {
    const first = await t.run(steps(''));
    assert.is(first.status, 'ok', first.output + JSON.stringify(first.diagnostics));
    assert.is(t.read('b.out'), 'B:A:alphabeta');
    // A's command changed: it runs, a.out comes out the same, and b.src changes behind kpipe's back.
    const r = await t.run(steps('; printf BETA > b.src'));
    assert.is(r.status, 'ok');
    assert.is(t.read('b.out'), 'B:A:alphaBETA', 'B ran on the b.src A wrote, not on the stat taken before the run');
    assert.equal(Object.fromEntries(t.lastRun().steps.map((s) => [s.id, s.outcome])), { A: 'built-unchanged', B: 'built' });
  });
});

test.run();
