// The local step cache through the executor, on a tree with stand-in tools: a hit restores outputs
// instead of running (and says so), a restored output is a built one for early cutoff and the
// journal, and nothing but exactly the right bytes is ever restored.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chain, cmd, exec, makeTree, step, type Tree } from '../executor/fixture.js';
import type { Step } from '../../core/planning/step.js';
import { StepCache } from '../../core/cache/step-cache.js';
import type { RunLogStep } from '../../core/running/run-log.js';
import { cachePredictions } from '../../core/cache/explain-cache.js';
import { explainWhy } from '../../core/state/up-to-date.js';

let t: Tree;
let cacheDir: string;
const cache = () => new StepCache({ local: { dir: cacheDir, maxBytes: 1 << 30 } });

test.before.each(() => {
  t = makeTree();
  t.write('a.src', 'alpha');
  t.write('b.src', 'beta');
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-cache-'));
});
test.after.each(() => {
  t.remove();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

/** Which tools ran (the log names the temporary each wrote, so only the first word). */
const ran = (tr: Tree) => tr.runs().map((l) => l.split(' ')[0]);
const byId = (tr: Tree): Record<string, RunLogStep> => Object.fromEntries(tr.lastRun().steps.map((s) => [s.id, s]));
const blobs = () => {
  const dir = path.join(cacheDir, 'v1', 'cas');
  return fs.readdirSync(dir).flatMap((d) => fs.readdirSync(path.join(dir, d)).map((f) => path.join(dir, d, f)));
};

test('an edit applied and reverted: the run after the revert restores every step instead of running it', async () => {
  await t.run(chain(t), { cache: cache() });
  t.write('a.src', 'ALPHA-edited');
  await t.run(chain(t), { cache: cache() });
  assert.is(t.read('b.out'), 'B:A:ALPHA-editedbeta');
  t.write('a.src', 'alpha');
  t.resetRuns();
  const c = cache();
  const r = await t.run(chain(t), { cache: c });
  assert.is(r.status, 'ok');
  assert.equal(t.runs(), [], 'no tool ran');
  assert.is(t.read('a.out'), 'A:alpha');
  assert.is(t.read('b.out'), 'B:A:alphabeta');
  assert.is(r.output, '  CACHED  a.out\n  CACHED  b.out\n');
  assert.equal(c.counts, { local: 2, remote: 0, stored: 0 });
  const steps = byId(t);
  assert.is(steps.A!.cached, 'local');
  assert.is(steps.A!.ran, false);
  assert.is(steps.A!.outcome, 'built');
  assert.equal(r.log!.counts, { total: 2, ran: 0, upToDate: 0, failed: 0, cached: 2 });
  assert.equal(c.warnings, []);
  // The journal took the restored outputs as built ones: the next run has nothing to do.
  await t.run(chain(t), { cache: cache() });
  assert.equal(t.runs(), []);
  assert.equal(Object.values(byId(t)).map((s) => s.outcome), ['up-to-date', 'up-to-date']);
});

test('early cutoff: a restored output equal to the one it replaces leaves its dependents up to date', async () => {
  await t.run(chain(t), { cache: cache() });
  fs.rmSync(path.join(t.dir, 'a.out'));
  t.resetRuns();
  await t.run(chain(t), { cache: cache() });
  assert.equal(t.runs(), []);
  const steps = byId(t);
  assert.is(steps.A!.outcome, 'built-unchanged');
  assert.is(steps.A!.cached, 'local');
  assert.is(steps.B!.outcome, 'up-to-date');
});

test('without a cache the same revert runs the tools (the behaviour above is the cache)', async () => {
  await t.run(chain(t));
  t.write('a.src', 'ALPHA-edited');
  await t.run(chain(t));
  t.write('a.src', 'alpha');
  t.resetRuns();
  await t.run(chain(t));
  assert.equal(ran(t), ['A', 'B']);
});

test('a blob whose bytes disagree with its hash is never restored: the step runs and the blob is replaced', async () => {
  await t.run(chain(t), { cache: cache() });
  for (const b of blobs()) fs.writeFileSync(b, 'garbage of the wrong hash');
  fs.rmSync(path.join(t.dir, 'a.out'));
  t.resetRuns();
  await t.run(chain(t), { cache: cache() });
  assert.equal(ran(t), ['A']);
  assert.is(t.read('a.out'), 'A:alpha');
  assert.is(byId(t).A!.cached, undefined);
  // The run stored its own output again: the next restore works.
  fs.rmSync(path.join(t.dir, 'a.out'));
  t.resetRuns();
  await t.run(chain(t), { cache: cache() });
  assert.equal(t.runs(), []);
  assert.is(t.read('a.out'), 'A:alpha');
});

test('a truncated blob (same name, fewer bytes) is a miss too', async () => {
  await t.run(chain(t), { cache: cache() });
  for (const b of blobs()) fs.truncateSync(b, 2);
  fs.rmSync(path.join(t.dir, 'b.out'));
  t.resetRuns();
  await t.run(chain(t), { cache: cache() });
  assert.equal(ran(t), ['B']);
  assert.is(t.read('b.out'), 'B:A:alphabeta');
});

test('the key holds the tree path: an identical tree elsewhere never gets this tree\'s outputs', async () => {
  await t.run(chain(t), { cache: cache() });
  const other = makeTree();
  try {
    other.write('a.src', 'alpha');
    other.write('b.src', 'beta');
    const c = cache();
    await other.run(chain(other), { cache: c });
    assert.equal(c.counts.local, 0);
    assert.equal(other.runs().length, 2);
  } finally {
    other.remove();
  }
});

test('the key holds the programs: a tool whose bytes changed misses', async () => {
  await t.run(chain(t), { cache: cache() });
  fs.appendFileSync(t.tool('gen'), '# a new release of the tool\n');
  fs.rmSync(path.join(t.dir, 'a.out'));
  t.resetRuns();
  const c = cache();
  await t.run(chain(t), { cache: c });
  assert.equal(c.counts.local, 0);
  assert.ok(ran(t).includes('A'));
});

test('explain --why: steps waiting for a delegated step (kbuild\'s compile stage) are predicted from what it left on disk', async () => {
  // D stands for kbuild's compile stage: delegated, it always runs, and writes o.obj in place.
  const steps = () => [
    step('D', ['a.src'], ['o.obj'], [cmd('MAKE', 'o.obj', exec([t.tool('gen'), 'D', 'o.obj', 'a.src']))], { delegated: true }),
    step('L', ['o.obj'], ['l.out'], [cmd('LD', 'l.out', exec([t.tool('gen'), 'L', 'l.out', 'o.obj']))]),
  ];
  await t.run(steps(), { cache: cache() });
  t.write('a.src', 'ALPHA-edited');
  await t.run(steps(), { cache: cache() });
  // The source is reverted and "compiled" again (by hand here, as kbuild's compile phase would).
  t.write('a.src', 'alpha');
  t.write('o.obj', 'D:alpha');
  const graph = t.graph(steps());
  const why = explainWhy(graph);
  assert.is(why.get('L')!.kind, 'waits-for');
  assert.equal([...cachePredictions(graph, why, cache(), {})], ['L']);
});

/**
 * The first link as the link plugin plans it: kbuild compiles init/vt.o in place (a new date each
 * time, as init/version-timestamp.o outside the reproducible environment, with its utsversion.h
 * rewritten), writes its `.cmd` record naming what it read, then the link.
 */
function stampedLink(tr: Tree): Step[] {
  const compile = [
    'echo make >> "$KP_LOG"',
    'date +%s%N > include/stamp.h',
    '{ cat include/stamp.h include/hdr.h; } > init/vt.o',
    "printf 'savedcmd_init/vt.o := cc -c init/vt.c\\n\\ndeps_init/vt.o := \\\\\\n  include/hdr.h \\\\\\n  include/stamp.h \\\\\\n  $(wildcard include/config/SMP) \\\\\\n\\n' > init/.vt.o.cmd",
  ].join('; ');
  const make = exec(['sh', '-c', compile], { kbuildWrites: ['init/vt.o'], kbuildStamps: ['include/stamp.h'] });
  return [step('tmp1', ['a.src'], ['.tmp1', 'init/vt.o'], [cmd('CC', 'init/vt.o', make), cmd('LD', '.tmp1', exec([tr.tool('gen'), 'LD', '.tmp1', 'a.src', 'init/vt.o']))])];
}

test('a link with a kbuild compile in it (version-timestamp) is restored with what kbuild wrote, keyed by its .cmd record', async () => {
  for (const d of ['init', 'include']) fs.mkdirSync(path.join(t.dir, d));
  t.write('include/hdr.h', 'hdr');
  // No record yet: nothing says what init/vt.o is made from, so nothing is looked up; the run stores.
  await t.run(stampedLink(t), { cache: cache() });
  const linked = { tmp: t.read('.tmp1'), vt: t.read('init/vt.o') };
  t.write('a.src', 'ALPHA-edited');
  await t.run(stampedLink(t), { cache: cache() });
  assert.is.not(t.read('init/vt.o'), linked.vt, 'a new date');
  t.write('a.src', 'alpha');
  t.resetRuns();
  const graph = t.graph(stampedLink(t));
  assert.equal([...cachePredictions(graph, explainWhy(graph), cache(), {})], ['tmp1'], 'explain --why foresees the hit');
  const c = cache();
  const r = await t.run(stampedLink(t), { cache: c });
  assert.equal(ran(t), [], 'neither the compile nor the link ran');
  assert.is(r.output, '  CACHED  .tmp1\n');
  assert.equal({ tmp: t.read('.tmp1'), vt: t.read('init/vt.o') }, linked, 'the link and the object kbuild compiled for it, as the first run left them');
  await t.run(stampedLink(t), { cache: cache() });
  assert.equal(ran(t), [], 'the restored object is an output like a built one: a no-op follows');
  // A file the record names is part of the key (the stamp is not: it changed on every run above).
  t.write('include/hdr.h', 'hdr-2');
  t.write('a.src', 'ALPHA-edited');
  const miss = cache();
  await t.run(stampedLink(t), { cache: miss });
  assert.is(miss.counts.local, 0);
  assert.equal(ran(t), ['make', 'LD']);
  // Without its record the step is not looked up at all.
  t.write('a.src', 'alpha');
  t.write('include/hdr.h', 'hdr');
  fs.rmSync(path.join(t.dir, 'init/.vt.o.cmd'));
  t.resetRuns();
  const none = cache();
  await t.run(stampedLink(t), { cache: none });
  assert.is(none.counts.local, 0);
  assert.equal(ran(t), ['make', 'LD']);
});

test('a step that writes nothing (a check) always runs: its output is the point', async () => {
  const steps = [...chain(t), step('CHECK', ['b.out'], [], [cmd('CHK', 'b.out', exec([t.tool('warn'), 'ignored']))])];
  await t.run(steps, { cache: cache() });
  fs.rmSync(path.join(t.dir, '.kpipe'), { recursive: true });
  t.resetRuns();
  const r = await t.run(steps, { cache: cache() });
  assert.equal(ran(t), ['warn']);
  assert.match(r.output, /warn: harmless warning/);
});

test('what the tools printed is shown again when the step is restored', async () => {
  const steps = [step('W', ['a.src'], ['w.out'], [cmd('GEN', 'w.out', exec([t.tool('warn'), 'w.out']))])];
  const first = await t.run(steps, { cache: cache() });
  assert.match(first.output, /warn: harmless warning/);
  fs.rmSync(path.join(t.dir, 'w.out'));
  t.resetRuns();
  const again = await t.run(steps, { cache: cache() });
  assert.equal(ran(t), []);
  assert.is(again.output, '  CACHED  w.out\nwarn: harmless warning\n');
});

test('a restored file has the mode the tool gave it (vmlinux executable, a .ko not)', async () => {
  const steps = chain(t);
  steps[0]!.commands.push(cmd('CHMOD', 'a.out', exec(['chmod', '755', 'a.out'])));
  await t.run(steps, { cache: cache() });
  for (const f of ['a.out', 'b.out']) fs.rmSync(path.join(t.dir, f));
  t.resetRuns();
  await t.run(steps, { cache: cache() });
  assert.equal(ran(t), []);
  assert.is(fs.statSync(path.join(t.dir, 'a.out')).mode & 0o111, 0o111 & ~process.umask());
  assert.is(fs.statSync(path.join(t.dir, 'b.out')).mode & 0o111, 0);
});

test('a failed step stores nothing', async () => {
  const steps = chain(t);
  (steps[1]!.commands[0]!.action as { argv: string[] }).argv[0] = t.tool('fail');
  const c = cache();
  await t.run(steps, { cache: c });
  assert.is(c.counts.stored, 1);
});

test('explain --why predicts the whole chain a run would restore, and only that', async () => {
  await t.run(chain(t), { cache: cache() });
  t.write('a.src', 'ALPHA-edited');
  await t.run(chain(t), { cache: cache() });
  t.write('a.src', 'alpha');
  const graph = t.graph(chain(t));
  const predict = () => [...cachePredictions(graph, explainWhy(graph), cache(), {})];
  // A must run (input changed) and B waits for it; both would come from the cache.
  assert.equal(predict(), ['A', 'B']);
  // An input never seen: A would run, so nothing after it can be predicted.
  t.write('a.src', 'never built');
  assert.equal(predict(), []);
  // Explain changed nothing on disk.
  assert.is(t.read('b.out'), 'B:A:ALPHA-editedbeta');
});

test.run();
