// The tokens of kbuild.pipeline. The language is newline-significant (a statement ends at the end
// of its line), so Newline is a real token; spaces, tabs and `#` comments are skipped.
import { createToken, Lexer, type IToken, type TokenType } from './chevrotain.js';

/** A span of the text with what is wrong there; turned into a Diagnostic by the caller. */
export interface SyntaxProblem {
  message: string;
  hint?: string;
  /** 0-based offsets, end exclusive. */
  start: number;
  end: number;
}

// Names: stages (`vmlinux.unstripped`), plugins (`module-hashes`), option keys, Kconfig symbols and
// bare values (`y`, `x86`) all share one token, so a keyword prefix (`stages`) is still a name.
export const Name = createToken({ name: 'Name', pattern: /[A-Za-z_][A-Za-z0-9_.-]*/ });

function keyword(word: string): TokenType {
  return createToken({ name: word[0]!.toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Name });
}

export const Stage = keyword('stage');
export const Extend = keyword('extend');
export const Use = keyword('use');
export const When = keyword('when');
export const Include = keyword('include');
export const Kernels = keyword('kernels');

/** Every keyword as written, for "did you mean" at the start of a statement. */
export const KEYWORDS = ['stage', 'extend', 'use', 'when', 'include', 'kernels'] as const;

// A string that closes on its line; `\"` and `\\` are its escapes (others are reported by
// decodeString). An unclosed one is lexed as UnterminatedString and repaired in lex() below.
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /"(?:[^"\\\n]|\\[^\n])*"/ });
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"[^\n]*/ });
export const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: /0[xX][0-9a-fA-F]+|[0-9]+/ });
/** A kernel version (`6.1`, `6.12.117`): dotted numbers, compared component by component. */
export const VersionLiteral = createToken({ name: 'VersionLiteral', pattern: /[0-9]+(?:\.[0-9]+)+/ });

export const Newline = createToken({ name: 'Newline', pattern: /\n/, line_breaks: true });
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\f\v\r\uFEFF]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });

export const LCurly = createToken({ name: 'LCurly', pattern: /\{/ });
export const RCurly = createToken({ name: 'RCurly', pattern: /\}/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });
export const OrOr = createToken({ name: 'OrOr', pattern: /\|\|/ });
export const AndAnd = createToken({ name: 'AndAnd', pattern: /&&/ });
export const NotEquals = createToken({ name: 'NotEquals', pattern: /!=/ });
export const LessEquals = createToken({ name: 'LessEquals', pattern: /<=/ });
export const GreaterEquals = createToken({ name: 'GreaterEquals', pattern: />=/ });
export const Less = createToken({ name: 'Less', pattern: /</ });
export const Greater = createToken({ name: 'Greater', pattern: />/ });
export const Bang = createToken({ name: 'Bang', pattern: /!/ });
export const Equals = createToken({ name: 'Equals', pattern: /=/ });

/** Order matters: the first pattern that matches wins (keywords before Name, `!=` before `!`, `6.1` before `6`). */
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  Newline,
  StringLiteral,
  UnterminatedString,
  VersionLiteral,
  NumberLiteral,
  Stage,
  Extend,
  Use,
  When,
  Include,
  Kernels,
  Name,
  LCurly,
  RCurly,
  LParen,
  RParen,
  Comma,
  Colon,
  OrOr,
  AndAnd,
  NotEquals,
  LessEquals,
  GreaterEquals,
  Less,
  Greater,
  Bang,
  Equals,
];

/** How a token reads in a message: `'vmlinux'`, `"a string"`, `the end of the line`. */
export function describeToken(token: IToken): string {
  if (token.tokenType === Newline) return 'the end of the line';
  if (token.tokenType === StringLiteral || token.tokenType === UnterminatedString) return shorten(token.image);
  return `'${shorten(token.image)}'`;
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

// positionTracking 'onlyOffset': lines and columns come from LineIndex, which counts them the way
// the formatter prints them.
const lexer = new Lexer(allTokens, { positionTracking: 'onlyOffset', ensureOptimizations: true });

export interface LexResult {
  tokens: IToken[];
  problems: SyntaxProblem[];
}

/** Tokens of a whole file (Newline included), with every lexical error; never throws. */
export function lex(text: string): LexResult {
  const result = lexer.tokenize(text);
  const problems: SyntaxProblem[] = result.errors.map((error) => unexpectedCharacters(text, error.offset, error.length));
  for (const token of result.tokens) {
    if (token.tokenType === UnterminatedString) {
      problems.push({
        message: `unterminated string ${shorten(token.image)}`,
        hint: "close it with '\"' on the same line",
        start: token.startOffset,
        end: token.startOffset + 1,
      });
      // Parse on as if it were closed, so one missing quote is one error.
      token.tokenType = StringLiteral;
      token.tokenTypeIdx = StringLiteral.tokenTypeIdx!;
    }
    if (token.tokenType === StringLiteral) problems.push(...decodeString(token).problems);
  }
  problems.sort((a, b) => a.start - b.start);
  return { tokens: result.tokens, problems };
}

function unexpectedCharacters(text: string, offset: number, length: number): SyntaxProblem {
  const characters = text.slice(offset, offset + length);
  const problem: SyntaxProblem = {
    message: `unexpected ${length === 1 ? 'character' : 'characters'} ${quote(shorten(characters))}`,
    start: offset,
    end: offset + length,
  };
  if (characters === '&') problem.hint = "'and' is written '&&'";
  else if (characters === '|') problem.hint = "'or' is written '||'";
  else if (characters === "'") problem.hint = 'strings are written in double quotes';
  return problem;
}

function quote(text: string): string {
  return text.includes("'") ? `"${text}"` : `'${text}'`;
}

/** The value of a string token (quotes removed, `\"` and `\\` unescaped) and its bad escapes. */
export function decodeString(token: IToken): { value: string; problems: SyntaxProblem[] } {
  const image = token.image;
  const closed = image.length >= 2 && image.endsWith('"') && !endsInEscape(image);
  const body = image.slice(1, closed ? -1 : undefined);
  const problems: SyntaxProblem[] = [];
  let value = '';
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (char !== '\\') {
      value += char;
      continue;
    }
    const next = body[i + 1];
    if (next === '"' || next === '\\') {
      value += next;
      i++;
      continue;
    }
    const offset = token.startOffset + 1 + i;
    problems.push({
      message: next === undefined ? "a string cannot end in '\\'" : `unknown escape '\\${next}' in a string`,
      hint: "only \\\" and \\\\ are escapes; write '\\\\' for a backslash",
      start: offset,
      end: offset + (next === undefined ? 1 : 2),
    });
    value += char;
  }
  return { value, problems };
}

/** True when the final '"' of an image is itself escaped (`"abc\"`), i.e. the string is unclosed. */
function endsInEscape(image: string): boolean {
  let backslashes = 0;
  for (let i = image.length - 2; i >= 1 && image[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}
