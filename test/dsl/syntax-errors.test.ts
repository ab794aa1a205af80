// Bad files: every syntax error of a file is reported once, where it is, in the user's words; the
// parser never throws and never runs away, whatever the input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Diagnostic } from '../../core/diagnostic.js';
import type { Ordering, StageDecl } from '../../dsl/ast.js';
import { MAX_SYNTAX_ERRORS, parsePipeline } from '../../dsl/parse.js';
import { MAX_ERRORS_PER_STATEMENT } from '../../dsl/syntax-messages.js';
import { random } from '../helpers/random.js';

function errors(text: string): Diagnostic[] {
  return parsePipeline(text, 'kbuild.pipeline').diagnostics;
}

/** `line:column message` of each diagnostic, for compact assertions. */
function brief(text: string): string[] {
  return errors(text).map((d) => `${d.range!.start.line}:${d.range!.start.column} ${d.message}`);
}

function only(text: string): Diagnostic {
  const list = errors(text);
  assert.is(list.length, 1, `one diagnostic for ${JSON.stringify(text)}: ${JSON.stringify(list.map((d) => d.message))}`);
  return list[0]!;
}

test('messages say what was expected and what was found', () => {
  assert.is(only('stage {\n}\n').message, "expected a stage name after 'stage' but found '{'");
  assert.is(
    only('vmlinux modules\n').message,
    "expected ':' after 'vmlinux' but found 'modules' (an ordering is 'TARGET: PREREQUISITE...')",
  );
  assert.is(
    only('vmlinux:\n').message,
    "expected a prerequisite stage name after ':' but found the end of the file (an ordering is 'TARGET: PREREQUISITE...')",
  );
  assert.is(only('extend vmlinux { }').message, "expected 'stage' after 'extend' but found 'vmlinux'");
  assert.is(only('include org.pipeline').message, "expected a file name in double quotes after 'include' but found 'org.pipeline'");
  assert.is(only('stage a { use }').message, "expected a plugin name after 'use' but found '}'");
  assert.is(only('stage a { use p(k) }').message, "expected '=' after 'k' but found ')' (an option is 'key = value')");
  assert.is(only('stage a { use p(k = 1 j = 2) }').message, "expected ',' or ')' after '1' but found 'j'");
  assert.is(only('a: b when A &&\nc: d\n').message, "expected a Kconfig symbol, '!' or '(' after '&&' but found the end of the line");
  assert.is(only('a: b when (A\n').message, "expected ')' after 'A' but found the end of the file");
  assert.is(only('42: a').message, "expected a statement ('stage', 'extend stage', 'include', 'kernels' or an ordering 'TARGET: PREREQUISITE...') but found '42'");
});

test('every diagnostic is a syntax error with a range in the file', () => {
  const list = errors('stage {\n}\nvmlinux modules\n@\n');
  assert.is(list.length, 3);
  for (const d of list) {
    assert.is(d.code, 'syntax');
    assert.is(d.severity, 'error');
    assert.is(d.range!.file, 'kbuild.pipeline');
  }
});

test('a file with three independent mistakes yields three diagnostics, in order', () => {
  const text = [
    'stage vmlinux {',
    '  use btf(jobs = )', // 2: missing value
    '  use link',
    '}',
    'modules vmlinux', // 5: missing ':'
    'stage modules { use modfinal }',
    'vmlinux: modules when A $ B', // 7: stray character
    '',
  ].join('\n');
  assert.equal(brief(text), [
    "2:18 expected a value (a word, a number or a \"string\") after '=' but found ')'",
    "5:9 expected ':' after 'modules' but found 'vmlinux' (an ordering is 'TARGET: PREREQUISITE...')",
    "7:25 unexpected character '$'",
  ]);
  // The good statements around the mistakes are still in the tree.
  const statements = parsePipeline(text, 'x').file.statements;
  assert.ok(statements.some((s) => s.kind === 'stage' && s.name.text === 'modules'));
  const vmlinux = statements.find((s): s is StageDecl => s.kind === 'stage' && s.name.text === 'vmlinux');
  assert.equal(vmlinux?.uses.map((u) => u.plugin.text), ['btf', 'link']);
});

test('each bad line of a stage block is reported on its own', () => {
  assert.equal(
    brief('stage a {\n  use x use y\n  btf\n  use\n  use z\n  use w when\n}\n').map((s) => s.split(' ')[0]),
    ['2:9', '3:3', '4:6', '6:13'],
  );
});

test('a forgotten } ends the block at the next statement, which is still parsed', () => {
  const result = parsePipeline('stage a {\n  use x\n\nb: a\nstage c { use y }\n', 'f');
  assert.equal(
    result.diagnostics.map((d) => d.message),
    ["expected '}' to close stage 'a' but found 'b', which starts the next statement"],
  );
  assert.equal(
    result.file.statements.map((s) => (s.kind === 'ordering' ? `${s.target.text}:` : s.kind === 'stage' ? s.name.text : s.kind)),
    ['a', 'b:', 'c'],
  );
  assert.is(only('stage a {\n  use x\n').message, "expected '}' to close stage 'a' but found the end of the file");
});

test('a statement inside a block that is closed later costs only its own line', () => {
  assert.equal(brief('stage a {\n  use x\nb: a\n  use y\n}\n'), [
    "3:1 expected 'use' or '}' but found 'b' (a stage block holds one 'use PLUGIN' per line)",
  ]);
});

test("'{' on the line after the stage is one precise error", () => {
  const d = only('stage a\n{\n  use x\n}\n');
  assert.is(d.message, "'{' must be on the same line as stage 'a'");
  assert.is(d.range!.start.line, 2);
});

test("did you mean: a misspelt keyword at the start of a statement or in a block", () => {
  const hints = (text: string) => errors(text).map((d) => [d.message, d.hint]);
  assert.equal(hints('stgae vmlinux {\n  use link\n}\n'), [["unknown statement 'stgae'", "did you mean 'stage'?"]]);
  assert.equal(hints('incldue "org.pipeline"\n'), [["unknown statement 'incldue'", "did you mean 'include'?"]]);
  assert.equal(hints('extned stage vmlinux { use x }\n'), [["unknown statement 'extned'", "did you mean 'extend'?"]]);
  assert.equal(hints('stage a {\n  usee x\n}\n'), [
    ["expected 'use' or '}' but found 'usee' (a stage block holds one 'use PLUGIN' per line)", "did you mean 'use'?"],
  ]);
  assert.equal(hints('stage a { use x whne A }\n'), [
    ["expected '}' or the end of the line after 'x' but found 'whne'", "did you mean 'when'?"],
  ]);
  // A word far from every keyword is an ordering missing its ':' instead.
  assert.is(only('frobnicate vmlinux\n').hint, undefined);
});

test('use and } outside a block', () => {
  assert.equal(brief('use link\n}\n'), ["1:1 'use' outside a stage block", "2:1 unmatched '}'"]);
});

test('lexical errors: stray characters, unterminated strings, unknown escapes', () => {
  assert.equal(errors('a: b when A & B').map((d) => [d.message, d.hint]), [["unexpected character '&'", "'and' is written '&&'"]]);
  const unterminated = only('include "org.pipeline\nstage a { use x }\n');
  assert.match(unterminated.message, /^unterminated string/);
  assert.equal([unterminated.range!.start.column, unterminated.range!.end.column], [9, 10]);
  assert.is(only('include "a\\tb"').message, "unknown escape '\\t' in a string");
  assert.is(only("a: b when X='y'").message, 'unexpected character "\'"');
});

test('an error at the end of a line points just after its last token, not at the next line', () => {
  const d = only('stage a {\n  use p(  # comment\n}\n');
  assert.equal([d.range!.start.line, d.range!.start.column, d.range!.end.column], [2, 9, 9]);
});

test('deep nesting is an error past 64 levels, not a stack overflow', () => {
  const nested = (n: number) => `a: b when ${'('.repeat(n)}X${')'.repeat(n)}\n`;
  assert.equal(errors(nested(64)), []);
  assert.match(only(nested(65)).message, /nested too deeply/);
  assert.match(only(nested(200000)).message, /nested too deeply/);
  assert.match(only(`a: b when ${'!'.repeat(200000)}X\n`).message, /nested too deeply/);
  assert.match(only(`a: b when ${'!('.repeat(40)}X${')'.repeat(40)}\n`).message, /nested too deeply/);
  const ok = parsePipeline(`a: b when ${'!'.repeat(64)}X\n`, 'f').file.statements[0] as Ordering;
  assert.ok(ok.when);
});

test('error-dense input is bounded: per statement and per file', () => {
  const started = Date.now();
  const block = errors(`stage a {\n${'bad line here\n'.repeat(20000)}}\n`);
  assert.is(block.length, MAX_ERRORS_PER_STATEMENT + 1);
  assert.match(block[block.length - 1]!.message, /too many errors in this statement/);
  const file = errors('a b c\n'.repeat(20000));
  assert.is(file.length, MAX_SYNTAX_ERRORS + 1);
  assert.match(file[file.length - 1]!.message, /too many syntax errors/);
  const soup = errors('@ ( ) ! { } , :\n'.repeat(20000));
  assert.ok(soup.length <= MAX_SYNTAX_ERRORS + 1);
  assert.ok(Date.now() - started < 10000, `took ${Date.now() - started} ms`);
});

// --- random token soup ---------------------------------------------------------------------

const VOCABULARY = [
  'stage', 'extend', 'use', 'when', 'include', 'vmlinux', 'modules', 'btf', 'A', 'y', '0x1f', '12',
  '"s"', '"open', '"esc\\q"', '{', '}', '(', ')', ',', ':', '=', '!=', '!', '&&', '||', '&', '|',
  '\n', '\n', '\n', '\t', ' ', '#c\n', '@', "'", '\\', '\r\n', 'stgae', 'usee', '\u00e9', '\uFEFF',
];

const BASE = `include "org.pipeline"
stage vmlinux.unstripped "before objcopy" {
  use link
  use btf(pahole_flags = "--lang_exclude=rust", jobs = 2) when DEBUG_INFO_BTF
  use sorttable when BUILDTIME_TABLE_SORT && !(ARCH=um || CC_VERSION_TEXT="clang")
}
extend stage vmlinux { use manifest(out = "SHA256SUMS") }
vmlinux: modules other.stage when MODULE_HASHES
`;
const BASE_PIECES = BASE.match(/\s+|[A-Za-z_][\w.-]*|"[^"]*"|\|\||&&|!=|./g)!;

/** Half pure soup, half the example with a few tokens deleted, inserted or swapped. */
function generate(next: () => number, round: number): string {
  if (round % 2 === 0) {
    let text = '';
    const length = Math.floor(next() * 60);
    for (let i = 0; i < length; i++) {
      text += VOCABULARY[Math.floor(next() * VOCABULARY.length)]!;
      text += next() < 0.5 ? ' ' : '';
    }
    return text;
  }
  const pieces = [...BASE_PIECES];
  for (let edits = 1 + Math.floor(next() * 4); edits > 0; edits--) {
    const i = Math.floor(next() * pieces.length);
    const what = next();
    if (what < 0.4) pieces.splice(i, 1);
    else if (what < 0.7) pieces.splice(i, 0, BASE_PIECES[Math.floor(next() * BASE_PIECES.length)]!);
    else {
      const j = Math.floor(next() * pieces.length);
      [pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!];
    }
  }
  return pieces.join('');
}

test('random token soup never throws and every range lies inside the text', () => {
  const next = random(20240611);
  let withErrors = 0;
  for (let round = 0; round < 500; round++) {
    const text = generate(next, round);
    let result;
    try {
      result = parsePipeline(text, 'soup.pipeline');
    } catch (error) {
      assert.unreachable(`threw on ${JSON.stringify(text)}: ${String(error)}`);
      return;
    }
    if (result.diagnostics.length > 0) withErrors++;
    for (const d of result.diagnostics) {
      assert.is(d.code, 'syntax', `${d.message} on ${JSON.stringify(text)}`);
      assert.ok(d.range, 'a range');
      assert.ok(d.range!.start.offset <= d.range!.end.offset && d.range!.end.offset <= text.length, JSON.stringify(text));
    }
    const again = parsePipeline(text, 'soup.pipeline');
    assert.equal(again.diagnostics, result.diagnostics, 'deterministic');
    const ranges = JSON.stringify(result.file.statements, (key, value) => (key === 'range' ? [value.start.offset, value.end.offset] : value));
    for (const [, start, end] of ranges.matchAll(/"range":\[(-?\d+),(-?\d+)\]/g)) {
      assert.ok(Number(start) >= 0 && Number(start) <= Number(end) && Number(end) <= text.length, `range ${start}-${end} in ${JSON.stringify(text)}`);
    }
  }
  // The generator must actually exercise recovery, and not only break every input.
  assert.ok(withErrors > 250 && withErrors < 500, `${withErrors} of 500 inputs had errors`);
});

test.run();
