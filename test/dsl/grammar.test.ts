// Good files: every construct of kbuild.pipeline parses to the tree of dsl/ast.ts, with ranges that
// point at exactly the text of each node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SourceRange } from '../../core/diagnostic.js';
import type { Expr, Ordering, StageDecl, Statement } from '../../dsl/ast.js';
import { parsePipeline } from '../../dsl/parse.js';

const EXAMPLE = `# Linux 6.12 final link
include "org.pipeline"

stage vmlinux.unstripped "vmlinux before the final objcopy" {
  use link
  use kallsyms when KALLSYMS
  use btf(pahole_flags = "--lang_exclude=rust", jobs = 2) when DEBUG_INFO_BTF
  use sorttable when BUILDTIME_TABLE_SORT && !(ARCH=um || CC_VERSION_TEXT="clang")
}
stage modules { use modfinal }
extend stage vmlinux { use manifest(out = "SHA256SUMS") }

modules: vmlinux.unstripped when DEBUG_INFO_BTF_MODULES
vmlinux: vmlinux.unstripped
vmlinux: modules other.stage when MODULE_HASHES
`;

function parseClean(text: string): Statement[] {
  const result = parsePipeline(text, '/p/kbuild.pipeline');
  assert.equal(result.diagnostics, [], 'no diagnostics');
  return result.file.statements;
}

function slice(text: string, range: SourceRange): string {
  return text.slice(range.start.offset, range.end.offset);
}

/** A condition as fully parenthesised text, to check precedence and grouping. */
function show(expr: Expr): string {
  switch (expr.kind) {
    case 'symbol':
      return expr.symbol.text;
    case 'compare':
      return `${expr.symbol.text}${expr.op}${expr.value.kind}:${expr.value.text}`;
    case 'not':
      return `!${show(expr.operand)}`;
    default:
      return `(${show(expr.left)} ${expr.kind === 'and' ? '&&' : '||'} ${show(expr.right)})`;
  }
}

function condition(text: string): Expr {
  const [ordering] = parseClean(`a: b when ${text}\n`) as Ordering[];
  assert.ok(ordering?.when, 'a condition');
  return ordering!.when!;
}

test('the design example parses into include, stages, extend and orderings', () => {
  const statements = parseClean(EXAMPLE);
  assert.equal(
    statements.map((s) => s.kind),
    ['include', 'stage', 'stage', 'stage', 'ordering', 'ordering', 'ordering'],
  );
  const [include, unstripped, modules, extend, o1, o2, o3] = statements as [
    Statement & { kind: 'include' },
    StageDecl,
    StageDecl,
    StageDecl,
    Ordering,
    Ordering,
    Ordering,
  ];
  assert.is(include.path, 'org.pipeline');
  assert.is(unstripped.name.text, 'vmlinux.unstripped');
  assert.is(unstripped.description, 'vmlinux before the final objcopy');
  assert.is(unstripped.extend, false);
  assert.equal(unstripped.uses.map((u) => u.plugin.text), ['link', 'kallsyms', 'btf', 'sorttable']);
  const btf = unstripped.uses[2]!;
  assert.equal(
    btf.options.map((o) => [o.key.text, o.value.kind, o.value.text]),
    [
      ['pahole_flags', 'string', '--lang_exclude=rust'],
      ['jobs', 'number', '2'],
    ],
  );
  assert.is(show(btf.when!), 'DEBUG_INFO_BTF');
  assert.is(
    show(unstripped.uses[3]!.when!),
    '(BUILDTIME_TABLE_SORT && !(ARCH=word:um || CC_VERSION_TEXT=string:clang))',
  );
  assert.is(modules.description, undefined);
  assert.equal(modules.uses.map((u) => u.plugin.text), ['modfinal']);
  assert.is(extend.extend, true);
  assert.is(extend.name.text, 'vmlinux');
  assert.is(extend.uses[0]!.options[0]!.value.text, 'SHA256SUMS');
  assert.is(o1.target.text, 'modules');
  assert.equal(o1.prerequisites.map((p) => p.text), ['vmlinux.unstripped']);
  assert.is(show(o1.when!), 'DEBUG_INFO_BTF_MODULES');
  assert.is(o2.when, undefined);
  assert.equal(o3.prerequisites.map((p) => p.text), ['modules', 'other.stage']);
});

test('every range slices back to the text of its node, with 1-based line and column', () => {
  const statements = parseClean(EXAMPLE);
  const lines = EXAMPLE.split('\n');
  const checkPosition = (range: SourceRange) => {
    for (const position of [range.start, range.end]) {
      const before = EXAMPLE.slice(0, position.offset);
      assert.is(position.line, before.split('\n').length, `line of offset ${position.offset}`);
      assert.is(position.column, position.offset - before.lastIndexOf('\n'), `column of offset ${position.offset}`);
    }
    assert.is(range.file, '/p/kbuild.pipeline');
  };
  const [include, unstripped, modules, extend, , , o3] = statements as StageDecl[];
  assert.is(slice(EXAMPLE, include!.range), 'include "org.pipeline"');
  assert.is(slice(EXAMPLE, unstripped!.range), lines.slice(3, 9).join('\n'));
  assert.is(slice(EXAMPLE, unstripped!.name.range), 'vmlinux.unstripped');
  assert.is(slice(EXAMPLE, modules!.range), 'stage modules { use modfinal }');
  assert.is(slice(EXAMPLE, extend!.range), 'extend stage vmlinux { use manifest(out = "SHA256SUMS") }');
  const btf = unstripped!.uses[2]!;
  assert.is(slice(EXAMPLE, btf.range), lines[6]!.trim());
  assert.is(slice(EXAMPLE, btf.options[0]!.range), 'pahole_flags = "--lang_exclude=rust"');
  assert.is(slice(EXAMPLE, btf.options[0]!.value.range), '"--lang_exclude=rust"');
  assert.is(slice(EXAMPLE, btf.options[1]!.key.range), 'jobs');
  const sorttable = unstripped!.uses[3]!;
  const when = sorttable.when as Expr & { kind: 'and' };
  assert.is(slice(EXAMPLE, when.range), 'BUILDTIME_TABLE_SORT && !(ARCH=um || CC_VERSION_TEXT="clang")');
  assert.is(slice(EXAMPLE, when.right.range), '!(ARCH=um || CC_VERSION_TEXT="clang")');
  const or = (when.right as Expr & { kind: 'not' }).operand as Expr & { kind: 'or' };
  assert.is(slice(EXAMPLE, or.range), 'ARCH=um || CC_VERSION_TEXT="clang"');
  assert.is(slice(EXAMPLE, (or.right as Expr & { kind: 'compare' }).value.range), '"clang"');
  const ordering = o3 as unknown as Ordering;
  assert.is(slice(EXAMPLE, ordering.range), 'vmlinux: modules other.stage when MODULE_HASHES');
  assert.is(slice(EXAMPLE, ordering.prerequisites[1]!.range), 'other.stage');
  for (const range of [include!.range, unstripped!.range, btf.range, when.range, or.range, ordering.range]) checkPosition(range);
  assert.equal(unstripped!.name.range.start, { offset: EXAMPLE.indexOf('vmlinux.unstripped'), line: 4, column: 7 });
});

test('precedence: || below && below !, parentheses group, comparisons bind to their symbol', () => {
  assert.is(show(condition('A || B && !C')), '(A || (B && !C))');
  assert.is(show(condition('A && B || C')), '((A && B) || C)');
  assert.is(show(condition('!A && B')), '(!A && B)');
  assert.is(show(condition('!!A')), '!!A');
  assert.is(show(condition('(A || B) && C')), '((A || B) && C)');
  assert.is(show(condition('ARCH!=um && X=0x10 && Y=m && S="a b"')), '((ARCH!=word:um && X=number:0x10) && (Y=word:m && S=string:a b))');
  assert.is(show(condition('!(((A)))')), '!A');
});

test('a long || chain is a balanced tree with its operands in order', () => {
  const names = Array.from({ length: 1000 }, (_, i) => `S${i}`);
  const expr = condition(names.join(' || '));
  const leaves: string[] = [];
  let depth = 0;
  const walk = (e: Expr, d: number) => {
    depth = Math.max(depth, d);
    if (e.kind === 'or') {
      walk(e.left, d + 1);
      walk(e.right, d + 1);
    } else leaves.push(show(e));
  };
  walk(expr, 0);
  assert.equal(leaves, names);
  assert.ok(depth <= 10, `depth ${depth}`);
});

test('names may start with a keyword and contain dots and dashes', () => {
  const [stage, ordering] = parseClean('stage stages { use uses.x }\nwhenever: include-all stage.2 extend_me\n') as [StageDecl, Ordering];
  assert.is(stage.name.text, 'stages');
  assert.is(stage.uses[0]!.plugin.text, 'uses.x');
  assert.is(ordering.target.text, 'whenever');
  assert.equal(ordering.prerequisites.map((p) => p.text), ['include-all', 'stage.2', 'extend_me']);
});

test('block layouts: empty, closing brace after the last use, blank lines and comments inside', () => {
  const statements = parseClean(
    [
      'stage a {}',
      'stage b {',
      '}',
      'stage c { use x',
      '  use y }',
      'stage d {   # comment after the brace',
      '',
      '  # a comment line',
      '  use x   # trailing comment',
      '',
      '}',
      '',
    ].join('\n'),
  ) as StageDecl[];
  assert.equal(
    statements.map((s) => [s.name.text, s.uses.map((u) => u.plugin.text)]),
    [
      ['a', []],
      ['b', []],
      ['c', ['x', 'y']],
      ['d', ['x']],
    ],
  );
});

test('CRLF line ends, a byte-order mark and a missing final newline are accepted', () => {
  const text = '\uFEFFstage a {\r\n  use x when A\r\n}\r\nb: a';
  const statements = parseClean(text);
  assert.is(statements.length, 2);
  const stage = statements[0] as StageDecl;
  assert.is(stage.uses[0]!.range.start.line, 2);
  assert.is(slice(text, stage.uses[0]!.range), 'use x when A');
  assert.is((statements[1] as Ordering).target.range.start.line, 4);
});

test('strings unescape \\" and \\\\; numbers are decimal or hex', () => {
  const [stage] = parseClean('stage a "say \\"hi\\" C:\\\\" { use p(s = "", n = 0x1F, d = 42, w = y) }\n') as StageDecl[];
  assert.is(stage!.description, 'say "hi" C:\\');
  assert.equal(
    stage!.uses[0]!.options.map((o) => [o.key.text, o.value.kind, o.value.text]),
    [
      ['s', 'string', ''],
      ['n', 'number', '0x1F'],
      ['d', 'number', '42'],
      ['w', 'word', 'y'],
    ],
  );
});

test('an empty file and a file of comments have no statements', () => {
  assert.equal(parseClean(''), []);
  assert.equal(parseClean('\n\n# only a comment\n   \n'), []);
});

test.run();
