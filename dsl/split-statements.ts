// Statement-level error recovery for a newline-significant language: cut a file's tokens into
// statements before parsing, so a mistake costs one statement, never the rest of the file.
// A statement ends at a newline outside braces. Inside a block, a line that can only start a
// statement (`stage`, `extend`, `include`, `NAME:`) ends the block there when no `}` follows before
// the next `{`: a forgotten `}` must not swallow the rest of the file, while a statement written
// inside a block that is closed later costs only its own line.
//
// It also rejects, before the parser runs, what the parser would explain badly or at unbounded
// cost: a statement-start word that is a misspelt keyword (`stgae`), `use` or `}` outside a block,
// and conditions nested deeper than MAX_NESTING.
import type { IToken } from 'chevrotain';
import { suggest } from '../core/suggest.js';
import {
  Bang,
  Colon,
  describeToken,
  Extend,
  Include,
  Kernels,
  LCurly,
  LParen,
  Name,
  Newline,
  RCurly,
  RParen,
  Stage,
  Use,
  type SyntaxProblem,
} from './tokens.js';
import { tokenSpan } from './parser.js';
import type { StatementContext } from './syntax-messages.js';

/** Deepest nesting of `(` and `!` in a condition; deeper is an error, so no walk of an Expr recurses unboundedly. */
export const MAX_NESTING = 64;

const STATEMENT_KEYWORDS = ['stage', 'extend', 'include', 'kernels'];

export interface StatementTokens {
  /** The statement's tokens; Newlines only inside it (in a block), never at its ends. */
  tokens: IToken[];
  context: StatementContext;
  /** Set when the statement must not be parsed: this is its one error. */
  rejected?: SyntaxProblem;
}

export function splitStatements(tokens: readonly IToken[]): StatementTokens[] {
  const statements: StatementTokens[] = [];
  let i = 0;
  while (i < tokens.length) {
    if (tokens[i]!.tokenType === Newline) {
      i++;
      continue;
    }
    const start = i;
    const first = tokens[start]!;
    // Only a stage may take its `{` from the next line (reported by to-ast, parsed as if joined).
    const takesBlock = first.tokenType === Stage || first.tokenType === Extend;
    let depth = 0;
    let sawBrace = false;
    let end: StatementEnd = { kind: 'file' };
    let closedAt = -1; // a `}` known to close the block later on
    let j = start;
    for (; j < tokens.length; j++) {
      const token = tokens[j]!;
      if (token.tokenType === LCurly) {
        depth++;
        sawBrace = true;
      } else if (token.tokenType === RCurly) {
        if (depth > 0) depth--;
      } else if (token.tokenType === Newline) {
        let k = j;
        while (k < tokens.length && tokens[k]!.tokenType === Newline) k++;
        if (k === tokens.length) break;
        if (depth === 0 && takesBlock && !sawBrace && tokens[k]!.tokenType === LCurly) {
          j = k - 1;
          continue;
        }
        if (depth === 0) {
          end = { kind: 'line' };
          break;
        }
        if (startsStatement(tokens, k) && closedAt < k) {
          closedAt = closingBrace(tokens, k);
          if (closedAt === -1) {
            end = { kind: 'statement', next: tokens[k]! };
            break;
          }
        }
        j = k - 1;
      }
    }
    const statementTokens = tokens.slice(start, j);
    const statement: StatementTokens = { tokens: statementTokens, context: contextOf(statementTokens, end) };
    const rejected = reject(statementTokens);
    if (rejected !== undefined) statement.rejected = rejected;
    statements.push(statement);
    i = j;
  }
  return statements;
}

/** What ended a statement: its line, the file, or (in an unclosed block) the next statement. */
type StatementEnd = { kind: 'line' } | { kind: 'file' } | { kind: 'statement'; next: IToken };

/**
 * The `}` after index k that closes the open block, or -1 when a new block opens first (or the file
 * ends): then a statement line inside the block means a forgotten `}`, not a misplaced statement.
 */
function closingBrace(tokens: readonly IToken[], k: number): number {
  for (let i = k; i < tokens.length; i++) {
    const type = tokens[i]!.tokenType;
    if (type === RCurly) return i;
    if (type === LCurly) return -1;
  }
  return -1;
}

function startsStatement(tokens: readonly IToken[], k: number): boolean {
  const type = tokens[k]!.tokenType;
  if (type === Stage || type === Extend || type === Include || type === Kernels) return true;
  return type === Name && tokens[k + 1]?.tokenType === Colon;
}

function contextOf(statement: IToken[], end: StatementEnd): StatementContext {
  const afterLast = tokenSpan(statement[statement.length - 1]!).end;
  let endDescription = end.kind === 'file' ? 'the end of the file' : 'the end of the line';
  let endSpan = { start: afterLast, end: afterLast };
  if (end.kind === 'statement') {
    endDescription = `${describeToken(end.next)}, which starts the next statement`;
    endSpan = tokenSpan(end.next);
  }
  const context: StatementContext = { endDescription, endSpan };
  const [a, b, c] = statement;
  if (a?.tokenType === Stage && b?.tokenType === Name) context.head = `stage '${b.image}'`;
  if (a?.tokenType === Extend && b?.tokenType === Stage && c?.tokenType === Name) context.head = `stage '${c.image}'`;
  return context;
}

function reject(statement: IToken[]): SyntaxProblem | undefined {
  const first = statement[0]!;
  const span = tokenSpan(first);
  if (first.tokenType === Use) {
    return { message: "'use' outside a stage block", hint: "write it inside 'stage NAME { ... }'", ...span };
  }
  if (first.tokenType === RCurly) return { message: "unmatched '}'", ...span };
  if (first.tokenType === Name && statement[1]?.tokenType !== Colon) {
    const keyword = suggest(first.image, STATEMENT_KEYWORDS);
    if (keyword !== undefined) {
      return { message: `unknown statement '${first.image}'`, hint: `did you mean '${keyword}'?`, ...span };
    }
  }
  return tooDeep(statement);
}

/** Nesting of a condition: open parentheses plus every `!` applying to them or to the current term. */
function tooDeep(statement: IToken[]): SyntaxProblem | undefined {
  const bangsBeforeParen: number[] = [];
  let bangsOutside = 0;
  let run = 0;
  for (const token of statement) {
    if (token.tokenType === Bang) run++;
    else if (token.tokenType === LParen) {
      bangsBeforeParen.push(run);
      bangsOutside += run;
      run = 0;
    } else {
      run = 0;
      if (token.tokenType === RParen) bangsOutside -= bangsBeforeParen.pop() ?? 0;
      else if (token.tokenType === Newline) {
        bangsBeforeParen.length = 0;
        bangsOutside = 0;
      }
    }
    if (bangsBeforeParen.length + bangsOutside + run > MAX_NESTING) {
      return {
        message: `condition nested too deeply (more than ${MAX_NESTING} levels of '(' and '!')`,
        ...tokenSpan(token),
      };
    }
  }
  return undefined;
}
