// Faults of the machine, not of the plan: a tool that hangs (--step-timeout), a full disk, a read-only
// output tree. Each is reported as an error naming what failed, never as a trace; nothing half-written
// is left or later taken for fresh. The disk faults are real: a small tmpfs mounted for the test
// (mounting needs root, which the project's set-up and CI run as).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { alive, cmd, exec, makeTree, step, until, type Tree } from './fixture.js';
import { buildStepGraph } from '../../core/planning/step-graph.js';
import { runSteps, type RunResult } from '../../core/running/executor.js';
import type { Step } from '../../core/planning/step.js';

let t: Tree;
test.before.each(() => {
  t = makeTree();
  t.write('a.src', 'alpha');
});
test.after.each(() => t.remove());

// --- a hanging tool -----------------------------------------------------------------------------

/** Starts a grandchild that would outlive it, records both pids, writes part of its output, hangs. */
function hangingStep(tr: Tree): Step {
  const script = 'sleep 300 & echo $! > "$KP_DIR/grandchild.pid"; echo $$ > "$KP_DIR/hang.pid"; printf partial > "$1"; echo "waiting for the network" >&2; wait';
  return step('H', ['a.src'], ['h.out'], [cmd('LD', 'h.out', exec(['sh', '-c', script, 'sh', 'h.out']), 'org-hang')], { stage: 'vmlinux', plugin: 'org-hang' });
}

test('--step-timeout: the hung step fails by name, its whole process group is killed, nothing is left', async () => {
  t.write('h.out', 'old');
  const r = await t.run([hangingStep(t)], { stepTimeoutSeconds: 1 });
  assert.is(r.status, 'failed');
  assert.is(r.exitCode, 1);
  const d = r.diagnostics[0]!;
  assert.is(d.code, 'step-timeout');
  assert.is(d.plugin, 'org-hang');
  assert.is(d.message, 'LD h.out timed out after 1 s (--step-timeout 1); its processes were killed (step H, stage vmlinux, plugin org-hang)');
  assert.match(d.related!.map((x) => x.message).join('\n'), /waiting for the network/);
  await until(() => !alive(Number(t.read('grandchild.pid'))) && !alive(Number(t.read('hang.pid'))), 'the tool and its child to be gone');
  assert.is(t.read('h.out'), 'old', 'the old output is untouched');
  assert.equal(t.temporaries(), []);
  assert.is(t.lastRun().steps[0]!.outcome, 'failed');
});

test('--step-timeout does not touch a step that finishes in time', async () => {
  const r = await t.run([step('Q', ['a.src'], ['q.out'], [cmd('CP', 'q.out', exec(['cp', 'a.src', 'q.out']))])], { stepTimeoutSeconds: 30 });
  assert.is(r.status, 'ok');
  assert.is(t.read('q.out'), 'alpha');
});

// --- full disk and read-only tree: a real tmpfs -------------------------------------------------

function mountTmpfs(dir: string, sizeKB: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKB}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`this test mounts a tmpfs and needs root: ${r.stderr}`);
}

function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}

/** Two steps in a tree on its own small file system; `big` makes the first write 200 KB. */
function diskPlan(big: boolean): Step[] {
  const first = big ? exec(['sh', '-c', 'head -c 200000 /dev/zero > "$1"', 'sh', 'a.out']) : exec(['cp', 'a.src', 'a.out']);
  return [
    step('A', ['a.src'], ['a.out'], [cmd('GEN', 'a.out', first)], { plugin: 'org-gen' }),
    step('B', ['a.out'], ['b.out'], [cmd('CP', 'b.out', exec(['cp', 'a.out', 'b.out']))], { plugin: 'org-gen' }),
  ];
}

async function runIn(dir: string, steps: Step[]): Promise<RunResult> {
  const { graph, diagnostics } = buildStepGraph(steps, { objtree: dir, isSource: () => true });
  assert.equal(diagnostics, []);
  const out = new Writable({ write: (_c, _e, cb) => cb() });
  return runSteps(graph, { objtree: dir, jobs: 1, keepGoing: false, verbosity: 'normal', interactive: false, out });
}

function leftovers(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.kpipe-tmp-|\.tmp-\d+$/.test(f));
}

test('a full disk: the tool that hit it is reported with its output; then kpipe\'s own state cannot be written: a tree error, no trace', async () => {
  const mnt = path.join(t.dir, 'mnt');
  mountTmpfs(mnt, 100);
  try {
    fs.writeFileSync(path.join(mnt, 'a.src'), 'hi');
    const full = await runIn(mnt, diskPlan(true));
    assert.is(full.status, 'failed');
    assert.is(full.diagnostics[0]!.code, 'step-failed');
    assert.match(full.diagnostics[0]!.related![1]!.message, /No space left on device/);
    assert.not.ok(fs.existsSync(path.join(mnt, 'a.out')), 'no partial output');

    assert.is((await runIn(mnt, diskPlan(false))).status, 'ok');
    try {
      fs.writeFileSync(path.join(mnt, 'fill'), Buffer.alloc(200_000));
    } catch (e) {
      assert.is((e as NodeJS.ErrnoException).code, 'ENOSPC'); // the disk is full now
    }
    fs.writeFileSync(path.join(mnt, 'a.src'), 'changed');
    const stuck = await runIn(mnt, diskPlan(false));
    assert.is(stuck.status, 'failed');
    assert.is(stuck.exitCode, 1);
    assert.ok(stuck.diagnostics.some((d) => /ENOSPC|No space left/.test(`${d.message} ${JSON.stringify(d.related ?? [])}`)), JSON.stringify(stuck.diagnostics));
    assert.equal(leftovers(mnt), []);

    fs.rmSync(path.join(mnt, 'fill'));
    const after = await runIn(mnt, diskPlan(false));
    assert.is(after.status, 'ok');
    assert.is(fs.readFileSync(path.join(mnt, 'b.out'), 'utf8'), 'changed', 'nothing stale was taken for fresh');
  } finally {
    unmount(mnt);
  }
});

test('a read-only output tree: one error saying so, before any step runs', async () => {
  const mnt = path.join(t.dir, 'mnt');
  mountTmpfs(mnt, 1024);
  try {
    fs.writeFileSync(path.join(mnt, 'a.src'), 'hi');
    spawnSync('mount', ['-o', 'remount,ro', mnt]);
    const r = await runIn(mnt, diskPlan(false));
    assert.is(r.status, 'failed');
    assert.equal(r.diagnostics.map((d) => d.code), ['tree-unwritable']);
    assert.match(r.diagnostics[0]!.message, /^cannot write in the output tree .*: EROFS: read-only file system/);
    assert.match(r.diagnostics[0]!.hint!, /read-only file system/);
  } finally {
    unmount(mnt);
  }
});

test.run();
