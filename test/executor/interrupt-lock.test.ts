// SIGINT/SIGTERM stop the children, remove temporaries and exit 130/143; a second run in the same tree
// waits or stops with a clear message; a lock left by a dead process is taken over.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DRIVER, alive, chain, cmd, exec, step, until, writeDriverSpec, type Tree, makeChainTree } from './fixture.js';
import { acquireTreeLock, lockPath } from '../../core/running/lock.js';

let t: Tree;
test.before.each(() => {
  t = makeChainTree();
});
test.after.each(() => t.remove());

for (const [sig, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test(`${sig}: children stopped, temporaries removed, exit ${code}, rerun completes`, async () => {
    const steps = [
      step('H', ['a.src'], ['h.out'], [cmd('LD', 'h.out', exec([t.tool('hang'), 'h.out']))]),
      step('S', ['b.src'], ['sub/s.out'], [cmd('GEN', 'sub/s.out', exec([t.tool('gen'), 'S', 'sub/s.out', 'b.src']))]),
    ];
    const child = spawn(process.execPath, [DRIVER, writeDriverSpec(t, steps)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += String(b)));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    await until(() => t.exists('hang.started'), 'the hanging tool to start');
    const toolPid = Number(t.read('hang.pid'));
    child.kill(sig);
    assert.is(await exit, code);
    await until(() => !alive(toolPid), 'the tool to be stopped');
    assert.equal(t.temporaries(), []);
    assert.not.ok(t.exists('h.out'));
    const result = JSON.parse(stdout) as { status: string };
    assert.is(result.status, 'interrupted');
    const log = t.lastRun();
    assert.is(log.status, 'interrupted');
    assert.is(log.steps.find((s) => s.id === 'H')!.outcome, 'interrupted');
    assert.not.ok(fs.existsSync(lockPath(t.dir)), 'the lock is released');
    t.write('hang.release', '');
    const r = await t.run(steps);
    assert.is(r.status, 'ok');
    assert.is(t.read('h.out'), 'partial done');
  });
}

test('an AbortSignal already aborted: nothing runs, status interrupted', async () => {
  const controller = new AbortController();
  controller.abort('SIGTERM');
  const r = await t.run(chain(t), { signal: controller.signal });
  assert.is(r.status, 'interrupted');
  assert.is(r.exitCode, 143);
  assert.equal(t.runs(), []);
});

test('lock held, --lock fail: stops at once with a message naming the holder', async () => {
  const lock = await acquireTreeLock(t.dir, { command: 'kpipe run' });
  try {
    const r = await t.run(chain(t), { lock: 'fail' });
    assert.is(r.status, 'failed');
    assert.is(r.exitCode, 1);
    assert.is(r.diagnostics[0]!.code, 'locked');
    assert.match(r.diagnostics[0]!.message, new RegExp(`another kpipe run \\(pid ${process.pid} on ${os.hostname()}, since .*\\) is using ${t.dir}`));
    assert.equal(t.runs(), []);
  } finally {
    lock.release();
  }
});

test('lock held: a second run waits, says so, and runs when the first is done', async () => {
  const lock = await acquireTreeLock(t.dir, { command: 'kpipe run' });
  const second = t.run(chain(t), { lock: 'wait' });
  await until(() => fs.readdirSync(path.dirname(lockPath(t.dir))).length > 0 && t.runs().length === 0, 'the second run to start');
  await new Promise((r) => setTimeout(r, 300)); // give it time to (wrongly) run; nothing is asserted on time
  assert.equal(t.runs(), [], 'nothing ran while the lock was held');
  lock.release();
  const r = await second;
  assert.is(r.status, 'ok');
  assert.match(r.output, /another kpipe run \(pid \d+ .*\) is using .*; waiting for it to finish/);
  assert.is(t.runs().length, 2);
});

test('two runs started together in two processes: one waits for the other, both succeed', async () => {
  const spec = writeDriverSpec(t, chain(t));
  const run = () =>
    new Promise<number | null>((resolve) => spawn(process.execPath, [DRIVER, spec], { stdio: 'ignore' }).on('exit', (c) => resolve(c)));
  const codes = await Promise.all([run(), run()]);
  assert.equal(codes, [0, 0]);
  assert.is(t.runs().length, 2, 'the second found everything up to date');
});

test('a stale lock of a dead process is taken over', async () => {
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(dead.stdout);
  fs.mkdirSync(path.dirname(lockPath(t.dir)), { recursive: true });
  fs.writeFileSync(lockPath(t.dir), JSON.stringify({ pid, host: os.hostname(), procStart: null, startedAt: 'yesterday', command: 'kpipe run', nonce: 'dead' }));
  const r = await t.run(chain(t), { lock: 'fail' });
  assert.is(r.status, 'ok');
  assert.not.ok(fs.existsSync(lockPath(t.dir)));
});

test('a lock whose pid now belongs to a newer process is stale too', async () => {
  fs.mkdirSync(path.dirname(lockPath(t.dir)), { recursive: true });
  fs.writeFileSync(
    lockPath(t.dir),
    JSON.stringify({ pid: process.pid, host: os.hostname(), procStart: '1', startedAt: 'long ago', command: 'kpipe run', nonce: 'reused' }),
  );
  const r = await t.run(chain(t), { lock: 'fail' });
  assert.is(r.status, 'ok');
});

test.run();
