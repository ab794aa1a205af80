// Text of one kbuild.pipeline file to its syntax tree and every syntax error in it. Never throws:
// errors are Diagnostics with code `syntax`, one per line at most (the first on a line is the
// cause; later ones on the same line are almost always its echo).
import type { Diagnostic } from '../core/diagnostic.js';
import type { PipelineFile, Statement } from './ast.js';
import { LineIndex } from './line-index.js';
import { parseStatement } from './parser.js';
import { splitStatements } from './split-statements.js';
import { toStatement } from './to-ast.js';
import { lex, type SyntaxProblem } from './tokens.js';

export interface ParseResult {
  file: PipelineFile;
  diagnostics: Diagnostic[];
}

/** Parses `text`, the contents of `file` (the path put into every range). */
export function parsePipeline(text: string, file: string): ParseResult {
  const lines = new LineIndex(file, text);
  const statements: Statement[] = [];
  const problems: SyntaxProblem[] = [];
  try {
    const lexed = lex(text);
    problems.push(...lexed.problems);
    // Lines with an error so far, to stop once the report is full: recovering from an error costs
    // chevrotain a walk of the grammar, and a binary file can have one on every line.
    const problemLines = new Set<number>();
    const note = (list: readonly SyntaxProblem[]) => {
      for (const problem of list) problemLines.add(lines.position(problem.start).line);
    };
    let lexedSeen = 0;
    for (const tokens of splitStatements(lexed.tokens)) {
      const start = tokens.tokens[0]!.startOffset;
      const before = lexedSeen;
      while (lexedSeen < lexed.problems.length && lexed.problems[lexedSeen]!.start < start) lexedSeen++;
      note(lexed.problems.slice(before, lexedSeen));
      if (problemLines.size > MAX_SYNTAX_ERRORS) break;
      if (tokens.rejected !== undefined) {
        problems.push(tokens.rejected);
        note([tokens.rejected]);
        continue;
      }
      const parsed = parseStatement(tokens.tokens, tokens.context);
      problems.push(...parsed.problems);
      note(parsed.problems);
      if (parsed.cst === undefined) continue;
      const built = toStatement(parsed.cst, lines);
      problems.push(...built.problems);
      note(built.problems);
      if (built.statement !== undefined) statements.push(built.statement);
    }
  } catch (error) {
    // A bug in kpipe, not in the file: say so, keep what was parsed, and let the caller go on.
    const message = error instanceof Error ? error.message : String(error);
    return {
      file: { file, statements },
      diagnostics: [
        ...toDiagnostics(problems, lines),
        { code: 'internal-error', severity: 'error', message: `kpipe failed to parse this file: ${message}`, range: lines.range(0, 0) },
      ],
    };
  }
  return { file: { file, statements }, diagnostics: toDiagnostics(problems, lines) };
}

/** Syntax errors reported per file; past this the file is mostly not what we think it is. */
export const MAX_SYNTAX_ERRORS = 50;

function toDiagnostics(problems: SyntaxProblem[], lines: LineIndex): Diagnostic[] {
  const sorted = [...problems].sort((a, b) => a.start - b.start);
  const diagnostics: Diagnostic[] = [];
  const seenLines = new Set<number>();
  for (const problem of sorted) {
    const range = lines.range(problem.start, problem.end);
    if (seenLines.has(range.start.line)) continue;
    seenLines.add(range.start.line);
    if (diagnostics.length === MAX_SYNTAX_ERRORS) {
      diagnostics.push({
        code: 'syntax',
        severity: 'error',
        message: `too many syntax errors in this file; stopped after ${MAX_SYNTAX_ERRORS}`,
        range,
      });
      break;
    }
    const diagnostic: Diagnostic = { code: 'syntax', severity: 'error', message: problem.message, range };
    if (problem.hint !== undefined) diagnostic.hint = problem.hint;
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}
