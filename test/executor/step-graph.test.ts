import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildStepGraph, subgraphFor } from '../../core/planning/step-graph.js';
import type { Step } from '../../core/planning/step.js';
import { cmd, exec, step } from './fixture.js';

const OBJ = '/obj';
const sources = new Set(['vmlinux.o', 'a.o', 'b.o', 'x.src']);
const build = (steps: Step[]) => buildStepGraph(steps, { objtree: OBJ, isSource: (p) => sources.has(p) });
const ld = (out: string, ...ins: string[]) => cmd('LD', out, exec(['ld', '-o', out, ...ins]));

test('keeps the given order when it is already a valid run order', () => {
  const { graph, diagnostics } = build([
    step('s1', ['vmlinux.o'], ['t1'], [ld('t1', 'vmlinux.o')]),
    step('s2', ['a.o'], ['m.ko'], [ld('m.ko', 'a.o')]),
    step('s3', ['t1'], ['t2'], [ld('t2', 't1')]),
    step('s4', ['t2'], ['vmlinux'], [ld('vmlinux', 't2')]),
  ]);
  assert.equal(diagnostics, []);
  assert.equal(graph.steps.map((s) => s.id), ['s1', 's2', 's3', 's4']);
  assert.equal(graph.deps, [[], [], [0], [2]]);
  assert.equal(graph.dependents, [[2], [], [3], []]);
});

test('moves a step only as far as its inputs require', () => {
  const { graph } = build([
    step('late', ['t1'], ['t2'], [ld('t2', 't1')]),
    step('other', ['a.o'], ['m.ko'], [ld('m.ko', 'a.o')]),
    step('early', ['vmlinux.o'], ['t1'], [ld('t1', 'vmlinux.o')]),
    step('last', ['b.o'], ['n.ko'], [ld('n.ko', 'b.o')]),
  ]);
  assert.equal(graph.steps.map((s) => s.id), ['other', 'early', 'late', 'last']);
});

test('./vmlinux and vmlinux are one artifact (seed 002)', () => {
  const { graph, diagnostics } = build([
    step('link', ['vmlinux.o'], ['./vmlinux'], [ld('./vmlinux', 'vmlinux.o')]),
    step('btf', ['vmlinux', `${OBJ}/vmlinux`], ['vmlinux.btf'], [ld('vmlinux.btf', 'vmlinux')]),
  ]);
  assert.equal(diagnostics, []);
  assert.equal(graph.steps[0]!.outputs, ['vmlinux']);
  assert.equal(graph.steps[1]!.inputs, ['vmlinux'], 'both spellings collapse to one input');
  assert.equal(graph.producer.get('vmlinux'), 0);
  assert.equal(graph.deps[1], [0]);
});

test('two steps writing one output: duplicate-output naming both steps and plugins', () => {
  const { diagnostics } = build([
    step('a', ['a.o'], ['vmlinux'], [ld('vmlinux', 'a.o')], { plugin: 'link' }),
    step('b', ['b.o'], ['./vmlinux'], [ld('vmlinux', 'b.o')], { plugin: 'org-post' }),
  ]);
  assert.is(diagnostics.length, 1);
  assert.is(diagnostics[0]!.code, 'duplicate-output');
  assert.match(diagnostics[0]!.message, /vmlinux: a \(plugin link\) and b \(plugin org-post\)/);
});

test('an input nobody produces that is not a source: missing-input naming step and plugin', () => {
  const { diagnostics } = build([step('btf', ['.tmp_vmlinux1'], ['x.btf'], [ld('x.btf', '.tmp_vmlinux1')], { plugin: 'btf' })]);
  assert.is(diagnostics.length, 1);
  assert.is(diagnostics[0]!.code, 'missing-input');
  assert.is(diagnostics[0]!.plugin, 'btf');
  assert.match(diagnostics[0]!.message, /step btf \(plugin btf\) reads \.tmp_vmlinux1/);
});

test('a step-level cycle is printed as a -> b -> a', () => {
  const { diagnostics, graph } = build([
    step('vmlinux', ['modules.hash', 'vmlinux.o'], ['vmlinux'], [ld('vmlinux', 'vmlinux.o')], { plugin: 'link' }),
    step('modules', ['vmlinux'], ['m.ko'], [ld('m.ko', 'vmlinux')], { plugin: 'modfinal' }),
    step('hashes', ['m.ko'], ['modules.hash'], [ld('modules.hash', 'm.ko')], { plugin: 'module-hashes' }),
    step('unrelated', ['a.o'], ['u'], [ld('u', 'a.o')]),
  ]);
  const cycles = diagnostics.filter((d) => d.code === 'step-cycle');
  assert.is(cycles.length, 1);
  assert.is(cycles[0]!.message, 'step cycle: vmlinux -> hashes -> modules -> vmlinux');
  assert.match(cycles[0]!.related![0]!.message, /vmlinux \(link\) reads modules.hash, written by hashes \(module-hashes\)/);
  assert.is(graph.steps.length, 4, 'every step is still in the graph');
});

test('a step reading its own output is a cycle too', () => {
  const { diagnostics } = build([step('self', ['x', 'a.o'], ['x'], [ld('x', 'a.o')])]);
  assert.equal(diagnostics.map((d) => d.code), ['step-cycle']);
  assert.match(diagnostics[0]!.message, /self -> self/);
});

test('an in-place command needs an earlier command of its step writing the file', () => {
  const ok = build([
    step('ko', ['a.o'], ['m.ko'], [ld('m.ko', 'a.o'), cmd('BTF [M]', 'm.ko', exec(['pahole', '-J', 'm.ko'], { inPlace: 'm.ko' }))]),
  ]);
  assert.equal(ok.diagnostics, []);
  const bad = build([step('ko', ['a.o'], ['m.ko'], [cmd('BTF [M]', 'm.ko', exec(['pahole', '-J', 'm.ko'], { inPlace: './m.ko' }))])]);
  assert.equal(bad.diagnostics.map((d) => d.code), ['invalid-step']);
  const foreign = build([step('ko', ['a.o'], ['m.ko'], [ld('m.ko', 'a.o'), cmd('X', 'y', exec(['x'], { stdout: 'not-mine' }))])]);
  assert.equal(foreign.diagnostics.map((d) => d.code), ['invalid-step']);
});

test('subgraphFor keeps a target and what it needs, by path in any spelling or by step id', () => {
  const { graph } = build([
    step('t1', ['vmlinux.o'], ['t1'], [ld('t1', 'vmlinux.o')]),
    step('m', ['a.o'], ['m.ko'], [ld('m.ko', 'a.o')]),
    step('t2', ['t1'], ['t2'], [ld('t2', 't1')]),
    step('n', ['b.o', 'm.ko'], ['n.ko'], [ld('n.ko', 'b.o')]),
  ]);
  const sub = subgraphFor(graph, ['./t2']);
  assert.equal(sub.diagnostics, []);
  assert.equal(sub.graph.steps.map((s) => s.id), ['t1', 't2']);
  assert.equal(sub.graph.deps, [[], [0]]);
  assert.equal(subgraphFor(graph, ['n']).graph.steps.map((s) => s.id), ['m', 'n']);
  const unknown = subgraphFor(graph, ['nope']);
  assert.equal(unknown.diagnostics.map((d) => d.code), ['unknown-target']);
});

test('critical path counts the longest chain of commands to the end', () => {
  const { graph } = build([
    step('a', ['vmlinux.o'], ['a'], [ld('a', 'vmlinux.o'), cmd('X', 'a', exec(['x', 'a'], { inPlace: 'a' }))]),
    step('b', ['a'], ['b'], [ld('b', 'a')]),
    step('c', ['a.o'], ['c'], [ld('c', 'a.o')]),
  ]);
  assert.equal(graph.criticalPath, [3, 1, 1]);
});

test('11,000 steps build quickly enough to be checked by eye, and in order', () => {
  const steps: Step[] = [];
  for (let i = 0; i < 5500; i++) {
    steps.push(step(`mod${i}`, [`m${i}.mod.c`], [`m${i}.mod.o`], [ld(`m${i}.mod.o`, `m${i}.mod.c`)]));
    steps.push(step(`ko${i}`, [`m${i}.o`, `m${i}.mod.o`, 'x.src'], [`m${i}.ko`], [ld(`m${i}.ko`, `m${i}.o`)]));
  }
  const { graph, diagnostics } = buildStepGraph(steps, { objtree: OBJ, isSource: () => true });
  assert.equal(diagnostics, []);
  assert.is(graph.steps.length, 11000);
  assert.is(graph.steps[1]!.id, 'ko0');
});

test.run();
