// Semantic checks: each one fires on its mistake, at the name it is about, and stays quiet on a
// good pipeline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Diagnostic } from '../../core/diagnostic.js';
import type { Statement } from '../../dsl/ast.js';
import { parsePipeline } from '../../dsl/parse.js';
import { pipelineChecks, validatePipeline, ValidationRegistry, type Check } from '../../dsl/validate.js';

const PLUGINS = ['link', 'kallsyms', 'btf', 'sorttable', 'modfinal', 'manifest', 'module-hashes'];

function statementsOf(text: string): Statement[] {
  const parsed = parsePipeline(text, 'p.pipeline');
  assert.equal(parsed.diagnostics, []);
  return parsed.file.statements;
}

function check(text: string, options: { checkReferences?: boolean } = {}): Diagnostic[] {
  return validatePipeline(statementsOf(text), { knownPlugins: PLUGINS, ...options });
}

/** `code line:column` of each diagnostic. */
function where(list: Diagnostic[]): string[] {
  return list.map((d) => `${d.code} ${d.range!.start.line}:${d.range!.start.column}`);
}

test('a good pipeline has no semantic diagnostics', () => {
  const text = [
    'stage vmlinux.unstripped { use link\n  use btf(jobs = 2, flags = "x") when DEBUG_INFO_BTF }',
    'stage vmlinux { use sorttable }',
    'stage modules { use modfinal }',
    'extend stage vmlinux { use manifest }',
    'modules: vmlinux.unstripped',
    'vmlinux: vmlinux.unstripped modules when MODULE_HASHES',
    '',
  ].join('\n');
  assert.equal(check(text), []);
});

test('duplicate-stage points at the second declaration with a note at the first', () => {
  const [d, ...rest] = check('stage a { use link }\nstage b {}\nstage a { use btf }\n');
  assert.equal(rest, []);
  assert.is(d!.code, 'duplicate-stage');
  assert.is(d!.message, "stage 'a' is declared twice");
  assert.equal([d!.range!.start.line, d!.range!.start.column], [3, 7]);
  assert.equal(d!.related?.map((r) => [r.message, r.range?.start.line, r.range?.start.column]), [
    ["stage 'a' is first declared here", 1, 7],
  ]);
  assert.match(d!.hint!, /extend stage a/);
});

test('unknown-stage for an extend and for every unknown name of an ordering, with did-you-mean', () => {
  const list = check('stage vmlinux {}\nstage modules {}\nextend stage vmlinx { }\nvmlinux: modulse vmlinux.unstripped\nmodlues: vmlinux\n');
  assert.equal(where(list), ['unknown-stage 3:14', 'unknown-stage 4:10', 'unknown-stage 4:18', 'unknown-stage 5:1']);
  assert.equal(list.map((d) => [d.message, d.hint]), [
    ["cannot extend unknown stage 'vmlinx'", "did you mean 'vmlinux'?"],
    ["unknown stage 'modulse'", "did you mean 'modules'?"],
    ["unknown stage 'vmlinux.unstripped'", undefined],
    ["unknown stage 'modlues'", "did you mean 'modules'?"],
  ]);
});

test("a misspelt 'when' in an ordering reads as a stage name; the hint says so", () => {
  const [d] = check('stage a {}\nstage b {}\na: b whne X\n');
  assert.is(d!.message, "unknown stage 'whne'");
  assert.is(d!.hint, "did you mean 'when'?");
});

test('reference checks can be turned off (the loader does so after a syntax error)', () => {
  assert.equal(check('extend stage nowhere {}\na: b\n', { checkReferences: false }), []);
});

test('unknown-plugin with did-you-mean, or the list of plugins', () => {
  const list = check('stage a {\n  use kalsyms\n  use frobnicate\n}\n');
  assert.equal(where(list), ['unknown-plugin 2:7', 'unknown-plugin 3:7']);
  assert.is(list[0]!.hint, "did you mean 'kallsyms'?");
  assert.is(list[1]!.hint, 'known plugins: btf, kallsyms, link, manifest, modfinal, module-hashes, sorttable');
});

test('duplicate-use within a stage and across its extensions, not across a redeclaration', () => {
  const list = check(
    [
      'stage a {',
      '  use link',
      '  use btf when X',
      '  use btf when Y',
      '}',
      'extend stage a { use link }',
      'stage b { use link }',
      'stage a { use link }', // a redeclaration: its own error, not a duplicate use too
      '',
    ].join('\n'),
  );
  assert.equal(where(list), ['duplicate-use 4:7', 'duplicate-use 6:22', 'duplicate-stage 8:7']);
  assert.is(list[0]!.message, "plugin 'btf' is already used in stage 'a'");
  assert.is(list[0]!.hint, "combine the conditions with '||' in one 'use'");
  assert.equal(list[1]!.related?.map((r) => r.range?.start.line), [2]);
});

test('self-ordering at the prerequisite that names its target', () => {
  const list = check('stage a {}\nstage b {}\na: b a\n');
  assert.equal(where(list), ['self-ordering 3:6']);
  assert.is(list[0]!.message, "stage 'a' cannot come after itself");
});

test('duplicate-option with a note at the first key', () => {
  const [d, ...rest] = check('stage a { use btf(jobs = 1, flags = "x", jobs = 2) }\n');
  assert.equal(rest, []);
  assert.is(d!.code, 'duplicate-option');
  assert.is(d!.message, "option 'jobs' is given twice to plugin 'btf'");
  assert.is(d!.range!.start.column, 42);
  assert.is(d!.related![0]!.range!.start.column, 19);
});

test('the registry runs checks registered per statement kind; they report through accept', () => {
  const seen: string[] = [];
  const noLongNames: Check<Statement & { kind: 'ordering' }> = (ordering, context, accept) => {
    seen.push(ordering.target.text);
    if (ordering.target.text.length > 3) {
      accept('warning', 'long-name', `long name '${ordering.target.text}'`, { range: ordering.target.range, hint: 'shorter' });
    }
    assert.ok(context.stages.has('abcd'));
  };
  const registry = new ValidationRegistry().register(pipelineChecks).register({ ordering: [noLongNames] });
  const list = registry.validate(statementsOf('stage abcd {}\nstage b {}\nabcd: b\nb: abcd\n'), { knownPlugins: PLUGINS });
  assert.equal(seen, ['abcd', 'b']);
  assert.equal(list, [
    {
      code: 'long-name',
      severity: 'warning',
      message: "long name 'abcd'",
      range: list[0]!.range!,
      hint: 'shorter',
    },
  ]);
  assert.equal([list[0]!.range!.start.line, list[0]!.range!.start.column, list[0]!.range!.end.column], [3, 1, 5]);
});

test.run();
