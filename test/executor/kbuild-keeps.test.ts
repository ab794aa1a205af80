// The keep of kbuild's inputs after a delegated step runs beside the steps after it (on a worker),
// and across the two parts of a `kpipe run` (the compile stage hands the tree, still locked, and its
// keep to the link's run): core/running/kbuild-keeps.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { cmd, exec, makeTree, step, type Tree } from './fixture.js';
import { runSteps } from '../../core/running/executor.js';

let t: Tree;
test.before.each(() => {
  t = makeTree();
  t.write('a.src', 'alpha');
  // A stand-in make that compiles vt.o and writes kbuild's record of it, as if_changed and fixdep do.
  t.write('bin/make', '#!/bin/sh\necho ran >> make.log\ncp a.src vt.o\nprintf \'savedcmd_vt.o := cc -c vt.c\\n\\ndeps_vt.o := \\\\\\n  a.src \\\\\\n\\nvt.o: $(deps_vt.o)\\n\' > .vt.o.cmd\n');
  fs.chmodSync(path.join(t.dir, 'bin/make'), 0o755);
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(path.join(t.dir, 'a.src'), past, past);
});
test.after.each(() => t.remove());

const made = () => t.read('make.log').split('\n').filter(Boolean).length;
const kept = () => (fs.existsSync(path.join(t.dir, '.kpipe/kbuild')) ? fs.readdirSync(path.join(t.dir, '.kpipe/kbuild')).filter((f) => /^[0-9a-f]{16}\.json$/.test(f)) : []);
const locked = () => fs.existsSync(path.join(t.dir, '.kpipe/lock'));
const compile = () => step('vt', [], ['vt.o'], [cmd('CC', 'vt.o', exec([path.join(t.dir, 'bin/make'), 'vt.o']))], { delegated: true, kbuildInputs: 'outputs' });
/** The compile stage of `kpipe run`: the plan is made again after it, without it. */
const replanned = () => ({ ...compile(), replan: true });
const link = () => step('link', ['vt.o'], ['vmlinux'], [cmd('LD', 'vmlinux', exec([t.tool('gen'), 'L', 'vmlinux', 'vt.o']))]);

test("kbuild's inputs are kept by the run's end, and the next run does not ask make", async () => {
  const r = await t.run([compile(), link()], { verbosity: 'verbose' });
  assert.is(r.status, 'ok');
  assert.match(r.output, /kpipe: vt: kbuild's inputs kept \(\d+ ms, beside the next steps\)/);
  assert.equal(kept().length, 1);
  await t.run([compile(), link()]);
  assert.is(made(), 1);
});

test('the step after a delegated one does not wait for the keep, and a record it rewrites makes the keep refuse', async () => {
  // kbuild's record is a FIFO here: the keep blocks reading it until the link writes it. On the main
  // thread that would stop the run; on the worker, the link runs and unblocks it. (A watchdog writes
  // it after 10 s whatever happens, so that a keep on the main thread shows as the wrong order, not a hang.)
  t.write('bin/make', '#!/bin/sh\necho ran >> make.log\ncp a.src vt.o\nrm -f .vt.o.cmd\nmkfifo .vt.o.cmd\n');
  // (Written for at most 5 s: a FIFO nobody reads any more blocks its writer.)
  t.write('bin/record', "#!/bin/sh\nexec timeout 5 sh -c \"printf 'savedcmd_vt.o := cc -c vt.c\\\\n' > .vt.o.cmd\"\n");
  fs.chmodSync(path.join(t.dir, 'bin/record'), 0o755);
  const record = path.join(t.dir, 'bin/record');
  const watchdog = spawn('sh', ['-c', `sleep 10; echo watchdog >> order.txt; ${record}`], { cwd: t.dir, stdio: 'ignore', detached: true });
  try {
    const writes = step('link', ['vt.o'], ['vmlinux'], [cmd('LD', 'vmlinux', exec(['sh', '-c', `echo link >> order.txt; ${record}; exec "$0" L "$1" vt.o`, t.tool('gen'), 'vmlinux']))]);
    // On a worker, as the compile of a kernel tree is (this one is small enough for the main thread).
    process.env.KPIPE_KEEP_WORKER = '1';
    const r = await t.run([compile(), writes], { verbosity: 'verbose' });
    assert.is(r.status, 'ok', r.output);
    assert.is(t.read('order.txt').split('\n')[0], 'link', 'the link ran while the keep waited');
    assert.match(r.output, /kpipe: vt will ask make next time: \.vt\.o\.cmd changed after kbuild ran/, r.output);
  } finally {
    delete process.env.KPIPE_KEEP_WORKER;
    try {
      process.kill(-watchdog.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

test('a handed-off run keeps the tree locked and its keeps pending until the next part takes them', async () => {
  const first = await runSteps(t.graph([replanned(), link()]), { objtree: t.dir, jobs: 2, keepGoing: false, verbosity: 'quiet', interactive: false, targets: ['vt.o'], handOff: true });
  assert.is(first.status, 'ok');
  assert.ok(first.handOff, 'a good run hands the tree on');
  assert.ok(locked(), 'still locked between the two parts');
  assert.equal(kept(), [], 'the keep waits for the next part');
  const second = await runSteps(t.graph([link()], true), { objtree: t.dir, jobs: 2, keepGoing: false, verbosity: 'quiet', interactive: false, continues: first.handOff! });
  assert.is(second.status, 'ok');
  assert.ok(first.handOff!.taken);
  assert.not.ok(locked(), 'the second part lets the tree go');
  assert.equal(kept().length, 1, "the second part made the first one's keep");
  assert.match(t.read('vmlinux'), /alpha/);
  await first.handOff!.finish(); // taken: nothing more to do
  await t.run([compile(), link()]);
  assert.is(made(), 1, 'the next run does not ask make');
});

test('a handed-off run with no next part: finish() keeps and lets the tree go', async () => {
  const first = await runSteps(t.graph([replanned()]), { objtree: t.dir, jobs: 2, keepGoing: false, verbosity: 'quiet', interactive: false, handOff: true });
  assert.ok(first.handOff);
  await first.handOff!.finish();
  assert.not.ok(locked());
  assert.equal(kept().length, 1);
});

test('a run that fails hands nothing on: its lock is let go and its keeps made', async () => {
  const failing = step('link', ['vt.o'], ['vmlinux'], [cmd('LD', 'vmlinux', exec(['sh', '-c', 'exit 3']))]);
  const r = await runSteps(t.graph([replanned(), failing]), { objtree: t.dir, jobs: 2, keepGoing: false, verbosity: 'quiet', interactive: false, handOff: true, out: fs.createWriteStream('/dev/null') });
  assert.is(r.status, 'failed');
  assert.is(r.handOff, undefined);
  assert.not.ok(locked());
  assert.equal(kept().length, 1, 'the delegated step succeeded: its keep holds');
});

test.run();
