// `kill -9` of kpipe at any moment: the next run rebuilds what is needed, never trusts a half-written
// or stale output, and leaves no temporaries. The executor runs in a child process (driver.js).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DRIVER, alive, cmd, exec, makeTree, step, until, writeDriverSpec, type Tree } from './fixture.js';
import type { Step } from '../../core/planning/step.js';
import { reapOrphans } from '../../core/running/orphans.js';
import { processesIn } from '../helpers/processes.js';

let t: Tree;
test.before.each(() => {
  t = makeTree();
  t.write('a.src', 'alpha');
});
test.after.each(() => t.remove());

/** `spawn`: 'node' starts commands with Node's own spawn (KPIPE_SPAWN=node), not the spawn helper. */
function startDriver(spec: string, how: 'helper' | 'node' = 'helper'): ChildProcess {
  return spawn(process.execPath, [DRIVER, spec], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(how === 'node' ? { KPIPE_SPAWN: 'node' } : {}) } });
}

/** Running, not gone and not a zombie (this sandbox's pid 1 does not reap the orphans it inherits). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

const hangChain = (tr: Tree): Step[] => [
  step('A', ['a.src'], ['a.out'], [cmd('GEN', 'a.out', exec([tr.tool('gen'), 'A', 'a.out', 'a.src']))]),
  step('H', ['a.out'], ['h.out'], [cmd('LD', 'h.out', exec([tr.tool('hang'), 'h.out']))]),
  step('C', ['h.out'], ['c.out'], [cmd('GEN', 'c.out', exec([tr.tool('gen'), 'C', 'c.out', 'h.out']))]),
];

test('kill -9 mid-step: the spawn helper stops the tool at once and leaves no output files', async () => {
  const outputDirs = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('kpipe-output-'));
  const before = new Set(outputDirs());
  const child = startDriver(writeDriverSpec(t, hangChain(t)));
  await until(() => t.exists('hang.started'), 'the hanging tool to start');
  const toolPid = Number(t.read('hang.pid'));
  child.kill('SIGKILL');
  await exited(child);
  await until(() => !running(toolPid), 'the helper to stop the tool');
  await until(() => outputDirs().every((d) => before.has(d)), 'the helper to remove its output directory');
  await reapOrphans(t.dir); // what a next run does first; the tool is stopped either way
  assert.equal(processesIn(t.dir), []);
  assert.not.ok(t.exists('h.out'), 'nothing was renamed into place');
  t.write('hang.release', '');
  const r = await t.run(hangChain(t));
  assert.is(r.status, 'ok');
  assert.is(t.read('h.out'), 'partial done');
});

test('kill -9 mid-step, then a rerun: the half-written output is never used, temporaries are gone', async () => {
  // With Node's own spawn (or a helper killed with kpipe) the tool outlives kpipe.
  const child = startDriver(writeDriverSpec(t, hangChain(t)), 'node');
  await until(() => t.exists('hang.started'), 'the hanging tool to start');
  child.kill('SIGKILL');
  await exited(child);
  // The tool is an orphan now (its own process group, so kill -9 of kpipe did not reach it); the next
  // run (or clean), holding the lock, stops it before deciding anything: reapOrphans is that first act.
  const toolPid = Number(t.read('hang.pid'));
  assert.ok(alive(toolPid), 'kill -9 of kpipe leaves its tool running');
  assert.is(await reapOrphans(t.dir), 1);
  assert.not.ok(alive(toolPid), 'the orphan is gone once reapOrphans returns');
  assert.equal(processesIn(t.dir), []);
  assert.is(await reapOrphans(t.dir), 0, 'and it is forgotten');

  assert.not.ok(t.exists('h.out'), 'nothing was renamed into place');
  assert.is(t.temporaries().length, 1, 'the killed run left its temporary');

  t.write('hang.release', ''); // this time the tool finishes
  t.resetRuns();
  const r = await t.run(hangChain(t));
  assert.is(r.status, 'ok');
  assert.equal(t.lastRun().steps.map((s) => [s.id, s.reason?.kind]), [
    ['A', 'up-to-date'],
    ['H', 'new'],
    ['C', 'new'],
  ]);
  assert.is(t.read('h.out'), 'partial done');
  assert.is(t.read('c.out'), 'C:partial done');
  assert.equal(t.temporaries(), []);
});

/** 24 steps: 8 independent chains of 3, plus one step reading all chain ends. */
function wideGraph(tr: Tree): Step[] {
  const steps: Step[] = [];
  for (let c = 0; c < 8; c++) {
    for (let k = 0; k < 3; k++) {
      const input = k === 0 ? 'a.src' : `c${c}/s${k - 1}.out`;
      const output = `c${c}/s${k}.out`;
      const commands = [cmd('GEN', output, exec([tr.tool('gen'), `${c}.${k}`, output, input]))];
      if (k === 1) commands.push(cmd('BTF', output, exec([tr.tool('append'), output, '+btf'], { inPlace: output })));
      steps.push(step(`c${c}.${k}`, [input], [output], commands));
    }
  }
  const ends = Array.from({ length: 8 }, (_, c) => `c${c}/s2.out`);
  steps.push(step('all', ends, ['all.out'], [cmd('LD', 'all.out', exec([tr.tool('gen'), 'ALL', 'all.out', ...ends]))]));
  return steps;
}

function outputsOf(tr: Tree, steps: Step[]): Record<string, string> {
  return Object.fromEntries(steps.flatMap((s) => s.outputs).map((o) => [o, tr.read(o)]));
}

test('kill -9 at many moments of a parallel run: every rerun ends equal to a clean build', async () => {
  const reference = makeTree();
  reference.write('a.src', 'alpha');
  await reference.run(wideGraph(reference));
  const expected = outputsOf(reference, wideGraph(reference));
  reference.remove();
  process.env.KP_LOG = path.join(t.dir, 'runs.log');
  process.env.KP_DIR = t.dir;

  for (const killAfter of [1, 4, 9, 15, 22, 28]) {
    fs.rmSync(path.join(t.dir, '.kpipe'), { recursive: true, force: true });
    for (let c = 0; c < 8; c++) fs.rmSync(path.join(t.dir, `c${c}`), { recursive: true, force: true });
    fs.rmSync(path.join(t.dir, 'all.out'), { force: true });
    t.resetRuns();
    const child = startDriver(writeDriverSpec(t, wideGraph(t)));
    await until(() => t.runs().length >= killAfter || child.exitCode !== null, `${killAfter} tool runs`);
    child.kill('SIGKILL');
    await exited(child);
    await until(() => processesIn(t.dir).length === 0, 'orphaned tools to finish');

    const r = await t.run(wideGraph(t));
    assert.is(r.status, 'ok', `after a kill at ${killAfter}: ${JSON.stringify(r.diagnostics)}`);
    assert.equal(outputsOf(t, wideGraph(t)), expected, `after a kill at ${killAfter} runs`);
    assert.equal(t.temporaries(), [], `no temporaries after a kill at ${killAfter}`);
    t.resetRuns();
    await t.run(wideGraph(t));
    assert.equal(t.runs(), [], 'and the run after that is a no-op');
  }
});

test('kill -9 between rename and record: the next run checks the output by content', async () => {
  // Simulated precisely: outputs renamed into place by a run whose record never made it to disk.
  await t.run(hangChain(t).slice(0, 1));
  const journal = path.join(t.dir, '.kpipe', 'journal');
  const lines = fs.readFileSync(journal, 'utf8').split('\n');
  fs.writeFileSync(journal, lines.filter((l) => !l.startsWith('["s"')).join('\n'));
  t.write('a.src', 'changed'); // and the world moved on
  t.resetRuns();
  await t.run(hangChain(t).slice(0, 1));
  assert.equal(t.lastRun().steps[0]!.reason, { kind: 'new' });
  assert.is(t.read('a.out'), 'A:changed');
});

test.run();
