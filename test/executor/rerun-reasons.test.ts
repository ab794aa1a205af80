// Every reason the up-to-date rule gives, seen from the outside: through runSteps, last-run.json and
// explainWhy, on a real tree with stand-in tools.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { chain, cmd, exec, step, type Tree, makeChainTree } from './fixture.js';
import { explainWhy, describeReason } from '../../core/state/up-to-date.js';
import { buildStepGraph } from '../../core/planning/step-graph.js';
import { kbuildDryRun } from '../../core/running/kbuild-dry-run.js';
import type { Step } from '../../core/planning/step.js';
import { checkKbuildInputs } from '../../core/state/kbuild-inputs.js';

let t: Tree;
test.before.each(() => {
  t = makeChainTree();
});
test.after.each(() => t.remove());

const reasons = (tr: Tree) => Object.fromEntries(tr.lastRun().steps.map((s) => [s.id, s.reason?.kind]));
const outcomes = (tr: Tree) => Object.fromEntries(tr.lastRun().steps.map((s) => [s.id, s.outcome]));

test('new: a step that never ran runs, and prints its quiet line', async () => {
  const r = await t.run(chain(t));
  assert.is(r.status, 'ok');
  assert.is(r.exitCode, 0);
  assert.equal(reasons(t), { A: 'new', B: 'new' });
  assert.is(t.read('b.out'), 'B:A:alphabeta');
  assert.is(r.output, '  GEN     a.out\n  GEN     b.out\n');
});

test('up-to-date: a second run runs nothing and prints nothing', async () => {
  await t.run(chain(t));
  t.resetRuns();
  const r = await t.run(chain(t));
  assert.equal(t.runs(), []);
  assert.is(r.output, '');
  assert.equal(reasons(t), { A: 'up-to-date', B: 'up-to-date' });
  assert.equal(r.log!.counts, { total: 2, ran: 0, upToDate: 2, failed: 0 });
});

test('command-changed says which argv word, environment variable or builtin argument differs', async () => {
  const why = () => Object.fromEntries(t.lastRun().steps.map((s) => [s.id, s.why]));
  await t.run(chain(t), { env: { KBUILD_BUILD_TIMESTAMP: 'then' } });
  const steps = chain(t);
  (steps[0]!.commands[0]!.action as { argv: string[] }).argv[1] = 'A2';
  await t.run(steps, { env: { KBUILD_BUILD_TIMESTAMP: 'then' } });
  assert.is(why().A, "command changed: word 2 is now 'A2' in the argv of gen (GEN a.out)");
  (steps[1]!.commands[0]!.action as { argv: string[] }).argv.splice(2, 0, '-j');
  await t.run(steps, { env: { KBUILD_BUILD_TIMESTAMP: 'then' } });
  assert.is(why().B, "command changed: 1 word '-j' added at word 3 in the argv of gen (GEN b.out)");
  await t.run(steps, {});
  assert.is(why().A, 'command changed: environment variable KBUILD_BUILD_TIMESTAMP is no longer set');
  const copy = (arg: string) => [step('C', ['a.src'], ['c.out'], [cmd('CP', 'c.out', { kind: 'builtin', name: 'copy', args: ['a.src', arg] })])];
  await t.run(copy('c.out'));
  fs.mkdirSync(path.join(t.dir, 'sub'));
  await t.run([step('C', ['a.src'], ['sub/c.out'], [cmd('CP', 'c.out', { kind: 'builtin', name: 'copy', args: ['a.src', 'sub/c.out'] })])]);
  assert.match(why().C ?? '', /^command changed: word 3 is now 'sub\/c\.out' in builtin copy's arguments \(CP c\.out\)$/);
});

test('command-changed: a different argv reruns the step', async () => {
  await t.run(chain(t));
  t.resetRuns();
  const steps = chain(t);
  (steps[0]!.commands[0]!.action as { argv: string[] }).argv[1] = 'A2';
  await t.run(steps);
  assert.equal(reasons(t), { A: 'command-changed', B: 'input-changed' });
  assert.is(t.read('b.out'), 'B:A2:alphabeta');
});

test('command-changed: the environment kpipe passes is part of the command', async () => {
  await t.run(chain(t), { env: { ARCH: 'x86' } });
  await t.run(chain(t), { env: { ARCH: 'x86' } });
  assert.equal(reasons(t), { A: 'up-to-date', B: 'up-to-date' });
  await t.run(chain(t), { env: { ARCH: 'riscv' } });
  assert.equal(reasons(t), { A: 'command-changed', B: 'command-changed' });
});

test('input-changed: names the input whose content changed', async () => {
  await t.run(chain(t));
  t.write('b.src', 'BETA!');
  await t.run(chain(t));
  assert.equal(t.lastRun().steps[1]!.reason, { kind: 'input-changed', path: 'b.src' });
  assert.is(t.lastRun().steps[1]!.why, 'input b.src changed');
  assert.is(reasons(t).A, 'up-to-date');
});

test('input-changed: same size, same second, different bytes is still seen', async () => {
  await t.run(chain(t));
  t.write('a.src', 'ALPHA'); // same length as before
  await t.run(chain(t));
  assert.equal(reasons(t), { A: 'input-changed', B: 'input-changed' });
  assert.is(t.read('b.out'), 'B:A:ALPHAbeta');
});

test('touching an input without changing it reruns nothing', async () => {
  await t.run(chain(t));
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(path.join(t.dir, 'a.src'), later, later);
  fs.utimesSync(path.join(t.dir, 'a.out'), later, later);
  t.resetRuns();
  await t.run(chain(t));
  assert.equal(t.runs(), []);
});

test('output-missing: a deleted output is rebuilt', async () => {
  await t.run(chain(t));
  fs.rmSync(path.join(t.dir, 'a.out'));
  t.resetRuns();
  await t.run(chain(t));
  assert.equal(t.lastRun().steps[0]!.reason, { kind: 'output-missing', path: 'a.out' });
  assert.equal(outcomes(t), { A: 'built-unchanged', B: 'up-to-date' }, 'same bytes again: B stays');
  assert.is(t.runs().length, 1);
  assert.match(t.runs()[0]!, /^A /);
});

test('output-modified: an output changed behind kpipe\'s back is rebuilt', async () => {
  await t.run(chain(t));
  t.write('b.out', 'edited by hand, and longer');
  await t.run(chain(t));
  assert.equal(t.lastRun().steps[1]!.reason, { kind: 'output-modified', path: 'b.out' });
  assert.is(t.read('b.out'), 'B:A:alphabeta');
});

test('input-missing: a source that vanished fails the step with a clear error', async () => {
  const r0 = await t.run(chain(t));
  assert.is(r0.status, 'ok');
  fs.rmSync(path.join(t.dir, 'b.src'));
  const r = await t.run(chain(t), {}, true);
  assert.is(r.status, 'failed');
  assert.is(r.exitCode, 1);
  assert.is(r.diagnostics[0]!.code, 'missing-input');
  assert.match(r.diagnostics[0]!.message, /input b\.src does not exist/);
});

test('a dependency that reran is not a reason by itself (early cutoff)', async () => {
  // A's output ignores part of its input: changing that part reruns A with identical bytes.
  const steps = [
    step('A', ['a.src'], ['a.out'], [cmd('CUT', 'a.out', exec(['cut', '-c', '1-3', 'a.src'], { stdout: 'a.out' }))]),
    step('B', ['a.out'], ['b.out'], [cmd('GEN', 'b.out', exec([t.tool('gen'), 'B', 'b.out', 'a.out']))]),
  ];
  await t.run(steps);
  t.write('a.src', 'alpXXX');
  t.resetRuns();
  await t.run(steps);
  assert.equal(outcomes(t), { A: 'built-unchanged', B: 'up-to-date' });
  assert.equal(t.runs(), [], 'B did not run');
  t.write('a.src', 'ALPHA');
  await t.run(steps);
  assert.equal(outcomes(t), { A: 'built', B: 'built' });
  assert.equal(t.lastRun().steps[1]!.reason, { kind: 'input-changed', path: 'a.out' });
});

test('explainWhy predicts without running: own reasons, and waits-for downstream', async () => {
  const steps = [...chain(t), step('C', ['b.out'], ['c.out'], [cmd('GEN', 'c.out', exec([t.tool('gen'), 'C', 'c.out', 'b.out']))])];
  const { graph } = buildStepGraph(steps, { objtree: t.dir, isSource: (p) => fs.existsSync(path.join(t.dir, p)) });
  const before = explainWhy(graph);
  assert.equal([...before.values()].map((r) => r.kind), ['new', 'new', 'new']);
  await t.run(steps);
  assert.equal([...explainWhy(graph).values()].map((r) => r.kind), ['up-to-date', 'up-to-date', 'up-to-date']);
  t.write('a.src', 'changed');
  t.resetRuns();
  const why = explainWhy(graph);
  assert.equal(t.runs(), [], 'explain runs nothing');
  assert.equal(why.get('A'), { kind: 'input-changed', path: 'a.src' });
  assert.equal(why.get('B'), { kind: 'waits-for', step: 'A', path: 'a.out' });
  assert.equal(why.get('C'), { kind: 'waits-for', step: 'B', path: 'b.out' });
  assert.is(describeReason(why.get('B')!), 'waits for A, which runs first; reruns only if a.out comes out different');
  t.write('b.src', 'also changed');
  assert.equal(explainWhy(graph).get('B'), { kind: 'input-changed', path: 'b.src' }, 'its own reason wins');
});

test('explainWhy asks kbuild (make -n) about a delegated step: nothing to do settles its dependents exactly', async () => {
  // A stand-in make: `-n` prints `:` (if_changed's recipe when nothing changed) unless a.src is newer.
  t.write('bin/make', '#!/bin/sh\nif [ "$1" = -n ]; then if [ a.src -nt vt.o ]; then echo "gcc -c vt.c"; else echo ":"; fi; exit 0; fi\ncp a.src vt.o\n');
  fs.chmodSync(path.join(t.dir, 'bin/make'), 0o755);
  const make = path.join(t.dir, 'bin/make');
  const steps = [
    step('vt', ['a.src'], ['vt.o'], [cmd('CC', 'vt.o', exec([make, '-f', 'Makefile.build', 'vt.o']))], { delegated: true }),
    step('link', ['vt.o'], ['vmlinux'], [cmd('LD', 'vmlinux', exec([t.tool('gen'), 'LD', 'vmlinux', 'vt.o'])), cmd('NM', 'System.map', exec(['true']))]),
    step('compile', [], ['vmlinux.a'], [cmd('MAKE', 'vmlinux_o', exec([make, 'vmlinux.a']))], { delegated: true, replan: true }),
    step('tmp1', ['vmlinux.a'], ['.tmp1'], [cmd('LD', '.tmp1', exec([t.tool('gen'), 'LD', '.tmp1', 'vmlinux.a']))]),
  ];
  t.write('vmlinux.a', 'archive');
  await t.run(steps.slice(0, 2));
  await t.run([steps[2]!, steps[3]!]);
  const graph = t.graph(steps);
  const dryRun = (s: Step) => kbuildDryRun(s, { objtree: t.dir });
  const why = explainWhy(graph, t.dir, {}, t.dir, dryRun);
  assert.equal(why.get('vt'), { kind: 'delegated', dryRun: 'nothing-to-do' });
  assert.equal(why.get('link'), { kind: 'up-to-date' }, 'exact: kbuild leaves vt.o as it is');
  assert.equal(why.get('compile'), { kind: 'delegated' }, "the compile stage is kbuild's to decide");
  assert.equal(describeReason(why.get('tmp1')!), 'kbuild decides compile first; up to date if it leaves vmlinux.a as it is');
  const later = new Date(Date.now() + 10_000);
  fs.utimesSync(path.join(t.dir, 'a.src'), later, later);
  const again = explainWhy(graph, t.dir, {}, t.dir, dryRun);
  assert.equal(again.get('vt'), { kind: 'delegated', dryRun: 'would-run' });
  assert.equal(again.get('link'), { kind: 'waits-for', step: 'vt', path: 'vt.o' });
});

test('explainWhy after clean: a downstream step with a record waits instead of claiming a missing input', async () => {
  await t.run(chain(t));
  fs.rmSync(path.join(t.dir, 'a.out'));
  const why = explainWhy(t.graph(chain(t)));
  assert.equal(why.get('A'), { kind: 'output-missing', path: 'a.out' });
  assert.equal(why.get('B'), { kind: 'waits-for', step: 'A', path: 'a.out' });
});

test('last-run.json records every step with label, reason, outcome and duration', async () => {
  await t.run(chain(t));
  const log = t.lastRun();
  assert.is(log.version, 1);
  assert.is(log.status, 'ok');
  assert.is(log.objtree, t.dir);
  const a = log.steps[0]!;
  assert.is(a.id, 'A');
  assert.is(a.label, 'GEN a.out');
  assert.is(a.ran, true);
  assert.is(a.outcome, 'built');
  assert.is(a.why, 'never ran');
  assert.type(a.durationMs, 'number');
});

test('a step whose outputs are unchanged on disk is not re-hashed on a no-op run', async () => {
  t.write('big.src', 'x'.repeat(1 << 20));
  const steps = [step('big', ['big.src'], ['big.out'], [cmd('CP', 'big.out', exec(['cp', 'big.src', 'big.out']))])];
  await t.run(steps);
  // Make the source look old, so its stat can be trusted (a fresh mtime is "racy" and re-hashed).
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(path.join(t.dir, 'big.src'), old, old);
  await t.run(steps); // hashes big.src once more (its stat changed), now trusted
  const { StateStore } = await import('../../core/state/state-store.js');
  const { FileProbe } = await import('../../core/state/file-probe.js');
  const probe = new FileProbe(t.dir, StateStore.load(t.dir));
  probe.hash('big.src');
  probe.hash('big.out');
  assert.is(probe.hashed, 0, 'both answered from the stat fast path');
});


test("a delegated step with kbuildInputs: after it ran, up to date without asking make until a file kbuild's record names changes", async () => {
  // A stand-in make that compiles vt.o and writes kbuild's record of it, as if_changed and fixdep do.
  t.write('bin/make', '#!/bin/sh\necho ran >> make.log\nls .kpipe/kbuild > kept-during.txt\ncp a.src vt.o\nprintf \'savedcmd_vt.o := cc -c vt.c\\n\\ndeps_vt.o := \\\\\\n  a.src \\\\\\n\\nvt.o: $(deps_vt.o)\\n\' > .vt.o.cmd\n');
  fs.chmodSync(path.join(t.dir, 'bin/make'), 0o755);
  const past = (f: string) => fs.utimesSync(path.join(t.dir, f), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  past('a.src');
  const steps = [step('vt', [], ['vt.o'], [cmd('CC', 'vt.o', exec([path.join(t.dir, 'bin/make'), 'vt.o']))], { delegated: true, kbuildInputs: 'outputs' })];
  const made = () => t.read('make.log').split('\n').filter(Boolean).length;
  await t.run(steps);
  assert.is(made(), 1);
  await t.run(steps);
  assert.is(made(), 1, 'make was not asked');
  const kept = t.lastRun().steps[0]!;
  assert.is(kept.reason?.kind, 'up-to-date');
  assert.match(kept.why ?? '', /^up to date: kbuild's \d+ inputs, its environment and tools are as after its last run$/);
  t.write('a.src', 'alpha, edited');
  past('a.src');
  const why = explainWhy(t.graph(steps), t.dir, {}, t.dir, undefined, (s, id) => checkKbuildInputs(s, id, { objtree: t.dir, stateDir: t.dir, env: process.env, programs: [] }));
  assert.equal(why.get('vt'), { kind: 'delegated', changed: 'a.src changed' }, 'explain --why foresees it');
  await t.run(steps);
  assert.is(made(), 2, 'an edit of what the record names: make is asked');
  assert.is(t.lastRun().steps[0]!.why, 'delegated to kbuild, which decides (a.src changed)');
  assert.is(t.read('vt.o'), 'alpha, edited');
  await t.run(steps);
  assert.is(made(), 2);
  // While make runs, nothing kept vouches for the tree (a run killed then leaves none behind).
  assert.not.match(t.read('kept-during.txt'), /^[0-9a-f]{16}\.json$/m);
  fs.rmSync(path.join(t.dir, '.vt.o.cmd'));
  await t.run(steps);
  assert.is(made(), 3, 'a removed record is a change too');
});

test.run();
