// Diagnostics as the CLI prints them: location, frame with caret, hint, notes, count line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Diagnostic, SourceRange } from '../../core/diagnostic.js';
import { formatDiagnostic, formatDiagnostics } from '../../core/cli/format-diagnostic.js';
import { LineIndex } from '../../dsl/line-index.js';

const FILE = '/work/tree/kbuild.pipeline';

/** The range of the `nth` occurrence of `needle` in text, as a whole word when it is one. */
function rangeOf(text: string, needle: string, nth = 0, file = FILE): SourceRange {
  const isWord = (char: string | undefined) => char !== undefined && /\w/.test(char);
  const whole = (at: number) =>
    !(isWord(needle[0]) && isWord(text[at - 1])) && !(isWord(needle[needle.length - 1]) && isWord(text[at + needle.length]));
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    do at = text.indexOf(needle, at + 1);
    while (at >= 0 && !whole(at));
  }
  assert.ok(at >= 0, `${needle} in text`);
  return new LineIndex(file, text).range(at, at + needle.length);
}

function sourceWithLine12(line: string): string {
  return Array.from({ length: 11 }, (_, i) => `# line ${i + 1}`).join('\n') + `\n${line}\n`;
}

test('the layout: location, severity, message, numbered source line, carets, hint', () => {
  const text = sourceWithLine12('vmlinux: vmlinx when MODULE_HASHES');
  const d: Diagnostic = {
    code: 'unknown-stage',
    severity: 'error',
    message: "unknown stage 'vmlinx'",
    range: rangeOf(text, 'vmlinx', 0),
    hint: "did you mean 'vmlinux'?",
  };
  assert.is(
    formatDiagnostic(d, new Map([[FILE, text]]), { cwd: '/work/tree' }),
    [
      "kbuild.pipeline:12:10: error: unknown stage 'vmlinx'",
      '   12 | vmlinux: vmlinx when MODULE_HASHES',
      '      |          ^^^^^^',
      "  = hint: did you mean 'vmlinux'?",
    ].join('\n'),
  );
});

test('paths print relative to cwd inside it, absolute outside it, as given when relative', () => {
  const text = 'stage a {}\n';
  const d: Diagnostic = { code: 'x', severity: 'warning', message: 'm', range: rangeOf(text, 'a') };
  const first = (opts: { cwd: string }, range = d.range!) => formatDiagnostic({ ...d, range }, new Map(), opts).split('\n')[0];
  assert.is(first({ cwd: '/work' }), 'tree/kbuild.pipeline:1:7: warning: m');
  assert.is(first({ cwd: '/elsewhere' }), '/work/tree/kbuild.pipeline:1:7: warning: m');
  assert.is(first({ cwd: '/work/tree-2' }), '/work/tree/kbuild.pipeline:1:7: warning: m');
  assert.is(first({ cwd: '/' }, rangeOf(text, 'a', 0, 'rel/p.pipeline')), 'rel/p.pipeline:1:7: warning: m');
});

test('without a range: kpipe: error: message, with the hint still printed', () => {
  const d: Diagnostic = { code: 'entry-not-found', severity: 'error', message: "cannot read pipeline file 'x': no such file", hint: 'pass --pipeline' };
  assert.is(formatDiagnostic(d, new Map()), "kpipe: error: cannot read pipeline file 'x': no such file\n  = hint: pass --pipeline");
});

test('plugin errors are prefixed with the plugin and the hook', () => {
  const base: Diagnostic = { code: 'plugin-error', severity: 'error', message: 'pahole failed' };
  assert.is(formatDiagnostic({ ...base, plugin: 'btf', hook: 'afterLink' }, new Map()), 'kpipe: error: [plugin btf, hook afterLink] pahole failed');
  assert.is(formatDiagnostic({ ...base, plugin: 'btf' }, new Map()), 'kpipe: error: [plugin btf] pahole failed');
});

test('related information prints as notes with their own location and frame', () => {
  const text = 'stage a {}\nstage b {}\nstage a {}\n';
  const d: Diagnostic = {
    code: 'duplicate-stage',
    severity: 'error',
    message: "stage 'a' is declared twice",
    range: rangeOf(text, 'a', 1),
    related: [
      { message: "stage 'a' is first declared here", range: rangeOf(text, 'a', 0) },
      { message: 'stages are global' },
    ],
  };
  assert.is(
    formatDiagnostic(d, new Map([[FILE, text]]), { cwd: '/work/tree' }),
    [
      "kbuild.pipeline:3:7: error: stage 'a' is declared twice",
      '    3 | stage a {}',
      '      |       ^',
      "kbuild.pipeline:1:7: note: stage 'a' is first declared here",
      '    1 | stage a {}',
      '      |       ^',
      '  = note: stages are global',
    ].join('\n'),
  );
});

test('tabs in the source line keep the caret under the text', () => {
  const text = 'stage a {\n\tuse\tbtff\twhen X\n}\n';
  const d: Diagnostic = { code: 'unknown-plugin', severity: 'error', message: "unknown plugin 'btff'", range: rangeOf(text, 'btff') };
  const [, source, carets] = formatDiagnostic(d, new Map([[FILE, text]]), { cwd: '/' }).split('\n');
  assert.is(source, '    2 |         use     btff    when X');
  assert.is(carets, '      |                 ^^^^');
  assert.is(source!.indexOf('btff'), carets!.indexOf('^'));
});

test('a zero-width range gets one caret; a range over several lines is underlined to the end of its first', () => {
  const text = 'stage a {\n  use x(\n}\n';
  const lines = new LineIndex(FILE, text);
  const end = text.indexOf('(') + 1;
  const zero = formatDiagnostic({ code: 's', severity: 'error', message: 'm', range: lines.range(end, end) }, new Map([[FILE, text]]), { cwd: '/' });
  assert.equal(zero.split('\n').slice(1), ['    2 |   use x(', '      |         ^']);
  const multi = formatDiagnostic({ code: 's', severity: 'error', message: 'm', range: lines.range(0, text.length) }, new Map([[FILE, text]]), { cwd: '/' });
  assert.equal(multi.split('\n').slice(1), ['    1 | stage a {', '      | ^^^^^^^^^']);
});

test('a range in a file without its text, or past its end, prints the location only', () => {
  const text = 'a: b\n';
  const d: Diagnostic = { code: 's', severity: 'error', message: 'm', range: rangeOf(text, 'b') };
  assert.is(formatDiagnostic(d, new Map(), { cwd: '/elsewhere' }), '/work/tree/kbuild.pipeline:1:4: error: m');
  const beyond: Diagnostic = { ...d, range: { ...d.range!, start: { offset: 99, line: 9, column: 1 }, end: { offset: 99, line: 9, column: 1 } } };
  assert.is(formatDiagnostic(beyond, new Map([[FILE, text]]), { cwd: '/work' }), 'tree/kbuild.pipeline:9:1: error: m');
});

test('control characters from the file never reach the terminal raw', () => {
  const text = 'a: b\x1b[31m\n';
  const d: Diagnostic = { code: 's', severity: 'error', message: "unexpected character '\x1b'", range: rangeOf(text, '\x1b') };
  const out = formatDiagnostic(d, new Map([[FILE, text]]), { cwd: '/' });
  assert.not.ok(out.includes('\x1b'), JSON.stringify(out));
  assert.ok(out.includes("unexpected character '\\x1b'"));
  assert.ok(out.includes('a: b?[31m'));
});

test('a very long line shows a window around the caret', () => {
  const text = `a: ${'x'.repeat(500)} target ${'y'.repeat(500)}\n`;
  const d: Diagnostic = { code: 's', severity: 'error', message: 'm', range: rangeOf(text, 'target') };
  const [, source, carets] = formatDiagnostic(d, new Map([[FILE, text]]), { cwd: '/' }).split('\n');
  assert.ok(source!.length < 140, `${source!.length} characters`);
  assert.ok(source!.includes('...') && source!.endsWith('...'));
  assert.is(source!.indexOf('target'), carets!.indexOf('^'));
  assert.match(carets!, /^ {6}\| +\^{6}$/);
});

test('formatDiagnostics joins them and ends with the count', () => {
  const e: Diagnostic = { code: 'a', severity: 'error', message: 'one' };
  const w: Diagnostic = { code: 'b', severity: 'warning', message: 'two' };
  assert.is(formatDiagnostics([e, e], new Map()), 'kpipe: error: one\nkpipe: error: one\n2 errors\n');
  assert.is(formatDiagnostics([e, w], new Map()), 'kpipe: error: one\nkpipe: warning: two\n1 error, 1 warning\n');
  assert.is(formatDiagnostics([w], new Map()), 'kpipe: warning: two\n1 warning\n');
  assert.is(formatDiagnostics([], new Map()), '');
});

test('colour: ANSI codes when asked, none otherwise', () => {
  const text = 'a: b\n';
  const d: Diagnostic = { code: 's', severity: 'error', message: 'm', range: rangeOf(text, 'b'), hint: 'h' };
  const plain = formatDiagnostics([d], new Map([[FILE, text]]), { cwd: '/' });
  const coloured = formatDiagnostics([d], new Map([[FILE, text]]), { cwd: '/', color: true });
  assert.not.ok(plain.includes('\x1b['));
  assert.ok(coloured.includes('\x1b[1m\x1b[31merror:\x1b[0m'));
  // eslint-disable-next-line no-control-regex
  assert.is(coloured.replace(/\x1b\[[0-9;]*m/g, ''), plain);
});

test.run();
