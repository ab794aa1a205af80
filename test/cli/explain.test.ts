// `kpipe explain --profile P`, as a user runs it: the text for each shipped profile, what MODULE_HASHES
// and --set change, the JSON and DOT shapes, and `explain TARGET`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  PROFILES, SHIPPED_PIPELINE, assertExit, kpipe, parseJson, removeTempDirs, show, stageBlock, stageOrder, stepLines,
  type CliResult, type JsonExplain,
} from './helpers.js';

const cache = new Map<string, CliResult>();
/** Each distinct command line is run once per suite. */
function cached(args: string[]): CliResult {
  const key = JSON.stringify(args);
  let r = cache.get(key);
  if (!r) cache.set(key, (r = kpipe(args)));
  return r;
}
const explainProfile = (profile: string, ...more: string[]) => cached(['explain', '--profile', profile, ...more]);
const jsonOf = (profile: string, ...more: string[]): JsonExplain => parseJson(explainProfile(profile, '--format', 'json', ...more));

/** The "after"/"not after" line of `stage` about `prerequisite`. */
function orderingLine(text: string, stage: string, prerequisite: string): string {
  const lines = stageBlock(text, stage).filter((l) => new RegExp(`^ {4}(after {5}|not after )${prerequisite.replace(/\./g, '\\.')} `).test(l));
  assert.is(lines.length, 1, `one ordering of ${stage} after ${prerequisite} in:\n${text}`);
  return lines[0]!;
}

test.after(removeTempDirs);

for (const profile of PROFILES) {
  test(`explain --profile ${profile}: exit 0, names the shipped pipeline and the profile`, () => {
    const r = explainProfile(profile);
    assertExit(r, 0);
    assert.is(r.stderr, '', 'nothing on stderr');
    const lines = r.stdout.split('\n');
    // The cwd is a temporary directory outside the repository: the path is printed absolute.
    assert.is(lines[0], `pipeline: ${SHIPPED_PIPELINE} (shipped with kpipe)`);
    assert.match(lines[1]!, new RegExp(`^kconfig: +profile ${profile} \\(`));
    assert.match(r.stdout, /^arch: +x86\b/m);
  });
}

test('the BTF profiles plan vmlinux BTF from .tmp_vmlinux1 and module BTF; x86_64-nobtf plans neither', () => {
  for (const profile of ['x86_64-reference', 'x86_64-reference-hashes']) {
    const steps = stepLines(explainProfile(profile).stdout);
    assert.ok(steps.some((l) => /^ {2}BTF {5}\.tmp_vmlinux1\.btf\.o +btf\b/.test(l)), `${profile}: BTF .tmp_vmlinux1.btf.o by btf:\n${steps.join('\n')}`);
    assert.ok(steps.some((l) => /^ {2}BTF \[M\] <module>\.ko +btf\b/.test(l)), `${profile}: BTF [M] by btf:\n${steps.join('\n')}`);
  }
  const nobtf = explainProfile('x86_64-nobtf');
  assertExit(nobtf, 0);
  assert.not.ok(nobtf.stdout.includes('BTF     .tmp_vmlinux1.btf.o'), nobtf.stdout);
  assert.not.ok(nobtf.stdout.includes('BTF [M]'), nobtf.stdout);
  assert.match(stageBlock(nobtf.stdout, 'vmlinux.unstripped').join('\n'), /plugin btf +off \(when DEBUG_INFO_BTF: DEBUG_INFO_BTF is not set\)/);
});

test('MODULE_HASHES=y in the hashes profile puts vmlinux after modules; the reference profile does not', () => {
  const hashes = explainProfile('x86_64-reference-hashes');
  assertExit(hashes, 0);
  assert.match(orderingLine(hashes.stdout, 'vmlinux', 'modules'), /^ {4}after {5}modules +\(when MODULE_HASHES: MODULE_HASHES=y\) +\S*kbuild\.pipeline:\d+$/);

  const reference = explainProfile('x86_64-reference');
  assertExit(reference, 0);
  assert.match(orderingLine(reference.stdout, 'vmlinux', 'modules'), /^ {4}not after modules +\(when MODULE_HASHES: MODULE_HASHES is not set\) +\S*kbuild\.pipeline:\d+$/);
});

test('--set MODULE_HASHES=y on the reference profile flips the ordering, and the reason says so', () => {
  const r = explainProfile('x86_64-reference', '--set', 'MODULE_HASHES=y');
  assertExit(r, 0);
  const line = orderingLine(r.stdout, 'vmlinux', 'modules');
  assert.match(line, /^ {4}after {5}modules +\(when MODULE_HASHES: MODULE_HASHES=y\)/);
  assert.not.ok(r.stdout.includes('not after modules'), r.stdout);
  // The same file line as without --set: only the condition's value changed.
  const before = orderingLine(explainProfile('x86_64-reference').stdout, 'vmlinux', 'modules');
  assert.is(/kbuild\.pipeline:\d+$/.exec(line)?.[0], /kbuild\.pipeline:\d+$/.exec(before)?.[0]);
});

test('--set CONFIG_MODULE_HASHES=n on the hashes profile flips it back', () => {
  const r = explainProfile('x86_64-reference-hashes', '--set', 'CONFIG_MODULE_HASHES=n');
  assertExit(r, 0);
  assert.match(orderingLine(r.stdout, 'vmlinux', 'modules'), /^ {4}not after modules +\(when MODULE_HASHES: /);
});

test('the three stages are built in the order vmlinux.unstripped, modules, vmlinux', () => {
  for (const profile of PROFILES) {
    const order = stageOrder(explainProfile(profile).stdout).filter((s) => ['vmlinux.unstripped', 'modules', 'vmlinux'].includes(s));
    assert.equal(order, ['vmlinux.unstripped', 'modules', 'vmlinux'], profile);
  }
});

test('an on-request step (the bzImage) says so, and how to ask for it; no other step does', () => {
  const lines = explainProfile('x86_64-reference').stdout.split('\n').filter((l) => l.includes('only on request'));
  assert.equal(lines.map((l) => l.trim().split(/\s+/).slice(0, 2).join(' ')), ['BUILD arch/x86/boot/bzImage']);
  assert.match(lines[0]!, /only on request: kpipe run bzImage/);
});

// ── --format json ───────────────────────────────────────────────────────────────────────────────

test('--format json: version 1, the pipeline and profile, the three stages in build order', () => {
  const j = jsonOf('x86_64-reference');
  assert.is(j.version, 1);
  assert.equal(j.pipeline, { file: SHIPPED_PIPELINE, source: 'shipped with kpipe' });
  assert.match(j.kconfig.source, /^profile x86_64-reference /);
  assert.is(j.kconfig.arch, 'x86');
  const names = j.stages.map((s) => s.name);
  assert.equal(names.filter((n) => ['vmlinux.unstripped', 'modules', 'vmlinux'].includes(n)), ['vmlinux.unstripped', 'modules', 'vmlinux']);
  // The same order as the text.
  assert.equal(names, stageOrder(explainProfile('x86_64-reference').stdout));
});

test('--format json: every step has an id, a declared stage, a plugin and commands; ids are unique', () => {
  for (const profile of PROFILES) {
    const j = jsonOf(profile);
    const stages = new Set(j.stages.map((s) => s.name));
    assert.ok(j.steps.length > 0, `${profile}: steps`);
    for (const s of j.steps) {
      assert.type(s.id, 'string', `${profile}: id of ${JSON.stringify(s)}`);
      assert.ok(s.id.length > 0);
      assert.ok(stages.has(s.stage), `${profile}: step ${s.id} has stage '${s.stage}', not one of ${[...stages].join(', ')}`);
      assert.type(s.plugin, 'string', `${profile}: plugin of ${s.id}`);
      assert.ok(Array.isArray(s.commands) && s.commands.length > 0, `${profile}: commands of ${s.id}`);
      for (const c of s.commands) {
        assert.type(c.plugin, 'string', `${profile}: plugin of a command of ${s.id}`);
        assert.ok(Array.isArray(c.argv) !== (typeof c.builtin === 'string'), `${profile}: a command of ${s.id} is exec or builtin: ${JSON.stringify(c)}`);
      }
    }
    const ids = j.steps.map((s) => s.id);
    assert.is(new Set(ids).size, ids.length, `${profile}: duplicate step ids`);
  }
});

test('--format json: one link .tmp_vmlinux1 serves both BTF and kallsyms (with DWARF); without BTF it serves kallsyms only', () => {
  const find = (j: JsonExplain) => {
    const steps = j.steps.filter((s) => s.outputs.includes('.tmp_vmlinux1'));
    assert.is(steps.length, 1, 'one step writes .tmp_vmlinux1');
    return steps[0]!;
  };
  const ref = find(jsonOf('x86_64-reference'));
  const note = ref.commands.map((c) => c.note ?? '').join(' ');
  assert.match(note, /\bBTF\b/, `note: ${note}`);
  assert.match(note, /\bkallsyms\b/, `note: ${note}`);
  // pahole reads DWARF: the shared link must keep debug info.
  const link = ref.commands.find((c) => c.label?.startsWith('LD'))!;
  assert.not.ok(link.argv?.includes('--strip-debug'), JSON.stringify(link));

  const nobtf = find(jsonOf('x86_64-nobtf'));
  const note2 = nobtf.commands.map((c) => c.note ?? '').join(' ');
  assert.match(note2, /\bkallsyms\b/, `note: ${note2}`);
  assert.not.match(note2, /\bBTF\b/, `note: ${note2}`);
  const link2 = nobtf.commands.find((c) => c.label?.startsWith('LD'))!;
  assert.ok(link2.argv?.includes('--strip-debug'), JSON.stringify(link2));
});

test('a step with no quiet line of its own (the hand-off) is listed by its id, as graph and last-run.json name it', () => {
  const r = kpipe(['explain', '--profile', 'x86_64-reference']);
  assertExit(r, 0);
  assert.match(r.stdout, /^ {2}\[handoff\]\n {2}- {7}handoff:mtime-order +kbuild-mtime; /m, r.stdout);
});

test('--format json agrees with the text on the vmlinux: modules ordering', () => {
  const after = (j: JsonExplain) => j.stages.find((s) => s.name === 'vmlinux')!.after.find((a) => a.stage === 'modules')!;
  assert.is(after(jsonOf('x86_64-reference')).active, false);
  assert.is(after(jsonOf('x86_64-reference-hashes')).active, true);
  assert.is(after(jsonOf('x86_64-reference', '--set', 'MODULE_HASHES=y')).active, true);
});

// ── --format dot ────────────────────────────────────────────────────────────────────────────────

test('--format dot: a digraph with one cluster per stage and edges between declared nodes', () => {
  const r = explainProfile('x86_64-reference', '--format', 'dot');
  assertExit(r, 0);
  assert.ok(r.stdout.startsWith('digraph'), r.stdout.slice(0, 200));
  assert.ok(r.stdout.trimEnd().endsWith('}'), 'the graph is closed');
  const stages = jsonOf('x86_64-reference').stages.map((s) => s.name);
  for (const name of stages) {
    assert.ok(r.stdout.includes(`subgraph "cluster_${name}" {`), `a cluster for ${name}:\n${r.stdout}`);
  }
  const clusters = [...r.stdout.matchAll(/subgraph "cluster_([^"]+)"/g)].map((m) => m[1]);
  assert.equal(clusters, stages, 'one cluster per stage, in build order');
  const nodes = new Set([...r.stdout.matchAll(/^ {4}(s\d+) \[label=/gm)].map((m) => m[1]));
  assert.is(nodes.size, jsonOf('x86_64-reference').steps.length, 'one node per step');
  const edges = [...r.stdout.matchAll(/^ {2}(s\d+) -> (s\d+) /gm)];
  assert.ok(edges.length > 0, 'file dependencies are drawn');
  for (const [, from, to] of edges) assert.ok(nodes.has(from) && nodes.has(to), `edge ${from} -> ${to} between declared nodes`);
});

// ── explain TARGET ──────────────────────────────────────────────────────────────────────────────

test('explain vmlinux.unstripped lists the steps of that stage and no module or vmlinux step', () => {
  const r = explainProfile('x86_64-reference', 'vmlinux.unstripped');
  assertExit(r, 0);
  const steps = stepLines(r.stdout);
  assert.ok(steps.includes('  [vmlinux.unstripped]'), steps.join('\n'));
  assert.ok(steps.some((l) => /^ {2}LD {6}vmlinux\.unstripped +link/.test(l)), steps.join('\n'));
  assert.not.ok(steps.includes('  [modules]'), steps.join('\n'));
  assert.not.ok(steps.includes('  [vmlinux]'), steps.join('\n'));
  assert.not.ok(steps.some((l) => l.includes('[M]')), `a module step:\n${steps.join('\n')}`);
  assert.not.ok(steps.some((l) => l.includes('OBJCOPY')), steps.join('\n'));
  // The full plan does have module steps: the filter did something.
  assert.ok(stepLines(explainProfile('x86_64-reference').stdout).some((l) => l.includes('LD [M]')));
});

test('explain .tmp_vmlinux1 lists exactly the steps that link needs', () => {
  const full = jsonOf('x86_64-reference');
  const sub = jsonOf('x86_64-reference', '.tmp_vmlinux1');
  const ids = new Set(sub.steps.map((s) => s.id));
  const producer = new Map<string, string>();
  for (const s of full.steps) for (const o of s.outputs) producer.set(o, s.id);

  assert.ok(sub.steps.some((s) => s.outputs.includes('.tmp_vmlinux1')), 'the step of the target is listed');
  assert.ok(sub.steps.length < full.steps.length, 'fewer steps than the full plan');
  for (const s of sub.steps) assert.ok(full.steps.some((f) => f.id === s.id), `${s.id} is a step of the plan`);
  // Everything it needs: each input produced by some step is produced by a listed step.
  for (const s of sub.steps) {
    for (const input of s.inputs) {
      const p = producer.get(input);
      if (p !== undefined) assert.ok(ids.has(p), `${s.id} reads ${input}, written by ${p}, which is not listed`);
    }
  }
  // Nothing else: every listed step writes the target or a file a listed step reads.
  const read = new Set(sub.steps.flatMap((s) => s.inputs));
  for (const s of sub.steps) {
    assert.ok(s.outputs.includes('.tmp_vmlinux1') || s.outputs.some((o) => read.has(o)), `${s.id} is listed but nothing listed needs it`);
  }
  // What comes after the first link is not listed.
  for (const later of ['.tmp_vmlinux1.btf.o', '.tmp_vmlinux1.syms', '.tmp_vmlinux2', 'vmlinux.unstripped', 'System.map', 'vmlinux']) {
    assert.not.ok(sub.steps.some((s) => s.outputs.includes(later)), `${later} is not needed by .tmp_vmlinux1`);
  }
  assert.ok(sub.steps.some((s) => s.outputs.includes('.tmp_vmlinux0.kallsyms.o')), 'kallsyms pass 0 is needed');
});

test('explain .tmp_vmlinux1 in text: the link is the last step listed', () => {
  const r = explainProfile('x86_64-reference', '.tmp_vmlinux1');
  assertExit(r, 0);
  const steps = stepLines(r.stdout).filter((l) => !/^ {2}\[/.test(l));
  assert.match(steps[steps.length - 1]!, /^ {2}LD {6}\.tmp_vmlinux1 +link\b/, show(r));
  assert.not.ok(r.stdout.includes('BTF     .tmp_vmlinux1.btf.o'), r.stdout);
  assert.not.ok(r.stdout.includes('[modules]'), r.stdout);
});

test('explain with a target no step produces: exit 2, names the target', () => {
  const r = explainProfile('x86_64-reference', 'vmlinux.unstriped');
  assertExit(r, 2);
  assert.ok(r.stderr.includes("no step produces 'vmlinux.unstriped'"), r.stderr);
  assert.is(r.stdout, '');
});

test.run();
