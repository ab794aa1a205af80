// Diagnostics as text, at the edge (the CLI), gcc/rustc-like:
//
//   kbuild.pipeline:12:9: error: unknown stage 'vmlinx'
//      12 | vmlinux: vmlinx when MODULE_HASHES
//         |          ^^^^^^
//     = hint: did you mean 'vmlinux'?
//
// The frame shows the source line with tabs expanded (tab stops of 8, as the kernel's files are
// read), so the caret stays under the text it points at; control characters from a broken file are
// never written to the terminal as they are.
import path from 'node:path';
import type { Diagnostic, RelatedInformation, Severity, SourceRange } from '../diagnostic.js';

export interface FormatOptions {
  /** ANSI colours (default false). */
  color?: boolean;
  /** Paths inside this directory print relative to it (default: the process's cwd). */
  cwd?: string;
}

const TAB_STOP = 8;
/** Frame lines longer than this show a window around the caret. */
const MAX_FRAME_WIDTH = 120;
const GUTTER_WIDTH = 5;

const ANSI = { reset: '\x1b[0m', bold: '\x1b[1m', red: '\x1b[31m', yellow: '\x1b[33m', cyan: '\x1b[36m', blue: '\x1b[34m' };

type Paint = (style: keyof typeof ANSI | (keyof typeof ANSI)[], text: string) => string;

function painter(color: boolean): Paint {
  if (!color) return (_style, text) => text;
  return (style, text) => (Array.isArray(style) ? style : [style]).map((s) => ANSI[s]).join('') + text + ANSI.reset;
}

const SEVERITY_COLOR: Record<Severity, keyof typeof ANSI> = { error: 'red', warning: 'yellow', note: 'cyan' };

/** One diagnostic, several lines, no trailing newline. */
export function formatDiagnostic(
  d: Diagnostic,
  sources: ReadonlyMap<string, string>,
  opts: FormatOptions = {},
): string {
  const paint = painter(opts.color ?? false);
  const cwd = opts.cwd ?? process.cwd();
  const lines: string[] = [];
  const prefix = pluginPrefix(d);
  lines.push(headline(d.range, d.severity, prefix + clean(d.message), cwd, paint));
  if (d.range !== undefined) lines.push(...frame(d.range, sources, d.severity, paint));
  if (d.hint !== undefined) lines.push(`  ${paint('blue', '=')} ${paint('bold', 'hint:')} ${clean(d.hint)}`);
  for (const related of d.related ?? []) lines.push(...note(related, sources, cwd, paint));
  return lines.join('\n');
}

/** Every diagnostic, then a count line (`2 errors, 1 warning`); ends with a newline unless empty. */
export function formatDiagnostics(
  list: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
  opts: FormatOptions = {},
): string {
  if (list.length === 0) return '';
  const paint = painter(opts.color ?? false);
  const parts = list.map((d) => formatDiagnostic(d, sources, opts) + '\n');
  const errors = list.filter((d) => d.severity === 'error').length;
  const warnings = list.filter((d) => d.severity === 'warning').length;
  const counts = [plural(errors, 'error'), plural(warnings, 'warning')].filter((s) => s !== '');
  if (counts.length > 0) parts.push(paint('bold', counts.join(', ')) + '\n');
  return parts.join('');
}

function plural(count: number, word: string): string {
  if (count === 0) return '';
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function pluginPrefix(d: Diagnostic): string {
  if (d.plugin === undefined) return '';
  return d.hook === undefined ? `[plugin ${d.plugin}] ` : `[plugin ${d.plugin}, hook ${d.hook}] `;
}

function headline(range: SourceRange | undefined, severity: Severity, message: string, cwd: string, paint: Paint): string {
  const where = range === undefined ? 'kpipe' : `${displayPath(range.file, cwd)}:${range.start.line}:${range.start.column}`;
  return `${paint('bold', `${where}:`)} ${paint(['bold', SEVERITY_COLOR[severity]], `${severity}:`)} ${paint('bold', message)}`;
}

function note(related: RelatedInformation, sources: ReadonlyMap<string, string>, cwd: string, paint: Paint): string[] {
  if (related.range === undefined) return [`  ${paint('blue', '=')} ${paint('bold', 'note:')} ${clean(related.message)}`];
  return [headline(related.range, 'note', clean(related.message), cwd, paint), ...frame(related.range, sources, 'note', paint)];
}

export function displayPath(file: string, cwd: string): string {
  if (!path.isAbsolute(file)) return file;
  const relative = path.relative(cwd, file);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return file;
  return relative;
}

/** The source line of the range's start and a caret line under the range (to the line's end if it spans lines). */
function frame(range: SourceRange, sources: ReadonlyMap<string, string>, severity: Severity, paint: Paint): string[] {
  const text = sources.get(range.file);
  if (text === undefined) return [];
  const source = lineAt(text, range.start.line);
  if (source === undefined) return [];
  const startIndex = Math.min(range.start.column - 1, source.length);
  const endIndex = range.end.line === range.start.line ? Math.min(range.end.column - 1, source.length) : source.length;
  const shown = expand(source);
  let display = shown.text;
  let caretStart = shown.columns[startIndex]!;
  let caretEnd = Math.max(shown.columns[endIndex]!, caretStart + 1);
  if (display.length > MAX_FRAME_WIDTH) {
    const from = Math.max(0, Math.min(caretStart - 40, display.length - MAX_FRAME_WIDTH));
    const to = Math.min(display.length, from + MAX_FRAME_WIDTH);
    const head = from > 0 ? '...' : '';
    display = head + display.slice(from, to) + (to < display.length ? '...' : '');
    caretStart = caretStart - from + head.length;
    caretEnd = Math.max(Math.min(caretEnd, to) - from + head.length, caretStart + 1);
  }
  const number = String(range.start.line);
  const width = Math.max(GUTTER_WIDTH, number.length);
  const carets = ' '.repeat(caretStart) + '^'.repeat(caretEnd - caretStart);
  return [
    `${paint('blue', `${number.padStart(width)} |`)} ${display}`.trimEnd(),
    `${paint('blue', `${' '.repeat(width)} |`)} ${paint(['bold', SEVERITY_COLOR[severity]], carets)}`,
  ];
}

/** Line `line` (1-based) of text, without its line end; undefined past the end. */
function lineAt(text: string, line: number): string | undefined {
  let start = 0;
  for (let i = 1; i < line; i++) {
    const newline = text.indexOf('\n', start);
    if (newline === -1) return undefined;
    start = newline + 1;
  }
  const end = text.indexOf('\n', start);
  const raw = text.slice(start, end === -1 ? text.length : end);
  return raw.endsWith('\r') ? raw.slice(0, -1) : raw;
}

/**
 * The line as printed (tabs expanded, control characters shown as '?') and, for each index of the
 * source line and one past its end, the printed column where that character starts.
 */
function expand(source: string): { text: string; columns: number[] } {
  let text = '';
  const columns: number[] = [];
  for (const char of source) {
    // A character outside the BMP is two indexes of the source line; both map to where it starts.
    for (let unit = 0; unit < char.length; unit++) columns.push(text.length);
    if (char === '\t') text += ' '.repeat(TAB_STOP - (text.length % TAB_STOP));
    else if (isControl(char)) text += '?';
    else text += char;
  }
  columns.push(text.length);
  return { text, columns };
}

function isControl(char: string): boolean {
  const code = char.codePointAt(0)!;
  return code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0);
}

/** Messages quote the user's text; keep its control characters from reaching the terminal. */
function clean(message: string): string {
  let out = '';
  for (const char of message) {
    out += char !== '\n' && isControl(char) ? `\\x${char.codePointAt(0)!.toString(16).padStart(2, '0')}` : char;
  }
  return out;
}
