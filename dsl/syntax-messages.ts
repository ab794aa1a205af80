// chevrotain's errorMessageProvider, speaking the user's words: "expected a stage name after
// 'stage' but found '{'" rather than "Expecting token of type --> Name <--". The provider only
// returns strings, so the "did you mean" advice it finds is kept per token for parseStatement.
import { EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from './chevrotain.js';
import { suggest } from '../core/suggest.js';
import {
  AndAnd,
  Colon,
  Comma,
  describeToken,
  Equals,
  Extend,
  Include,
  KEYWORDS,
  LCurly,
  LParen,
  Name,
  Newline,
  NotEquals,
  LessEquals,
  GreaterEquals,
  Less,
  Greater,
  Kernels,
  VersionLiteral,
  NumberLiteral,
  OrOr,
  Bang,
  RCurly,
  RParen,
  Stage,
  StringLiteral,
  Use,
  When,
} from './tokens.js';

/** What the statement being parsed is, for errors at its end (where chevrotain sees EOF). */
export interface StatementContext {
  /** `stage 'vmlinux'`, for "expected '}' to close stage 'vmlinux'". */
  head?: string;
  /** What ends the statement: `the end of the line`, `the end of the file`, ... */
  endDescription: string;
  /** Where errors at the end of the statement point. */
  endSpan: { start: number; end: number };
}

/**
 * Errors one statement may report before its parse is abandoned. chevrotain recovers from each bad
 * line of a block by re-entering the block's loop recursively and by scanning ahead to the end of
 * the statement, so this bound is what keeps a block of a thousand bad lines from costing time
 * quadratic in its length or the whole stack.
 */
export const MAX_ERRORS_PER_STATEMENT = 20;

/** Thrown out of chevrotain (which passes on anything but its own exceptions) to stop a statement. */
export class TooManyErrors extends Error {
  constructor(readonly token: IToken) {
    super('too many errors in one statement');
  }
}

const ORDERING_SHAPE = " (an ordering is 'TARGET: PREREQUISITE...')";
const STATEMENT_KINDS = "'stage', 'extend stage', 'include', 'kernels' or an ordering 'TARGET: PREREQUISITE...'";

/** Tokens that begin a term of a condition: after a complete condition, an operator is missing. */
const STARTS_TERM = new Set<TokenType>([Name, LParen, Bang, NumberLiteral, VersionLiteral, StringLiteral]);

/** The punctuation and keywords as the user types them. */
const LITERALS = new Map<TokenType, string>([
  [LCurly, "'{'"],
  [RCurly, "'}'"],
  [LParen, "'('"],
  [RParen, "')'"],
  [Comma, "','"],
  [Colon, "':'"],
  [Equals, "'='"],
  [NotEquals, "'!='"],
  [LessEquals, "'<='"],
  [GreaterEquals, "'>='"],
  [Less, "'<'"],
  [Greater, "'>'"],
  [Kernels, "'kernels'"],
  [VersionLiteral, 'a version'],
  [Bang, "'!'"],
  [AndAnd, "'&&'"],
  [OrOr, "'||'"],
  [Newline, 'the end of the line'],
  [Stage, "'stage'"],
  [Extend, "'extend'"],
  [Include, "'include'"],
  [Use, "'use'"],
  [When, "'when'"],
  [Name, 'a name'],
  [NumberLiteral, 'a number'],
]);

export class SyntaxMessages implements IParserErrorMessageProvider {
  private tokens: IToken[] = [];
  private indexes = new Map<IToken, number>();
  private context: StatementContext = { endDescription: 'the end of the file', endSpan: { start: 0, end: 0 } };
  private hints = new Map<IToken, string>();
  private count = 0;

  /** Called before each statement is parsed. */
  begin(tokens: IToken[], context: StatementContext): void {
    this.tokens = tokens.slice(); // chevrotain pads its input with EOF sentinels while parsing
    this.indexes = new Map(tokens.map((token, index) => [token, index]));
    this.context = context;
    this.hints = new Map();
    this.count = 0;
  }

  /** Every build*Message call is one error that chevrotain saves. */
  private countError(token: IToken): void {
    if (++this.count > MAX_ERRORS_PER_STATEMENT) throw new TooManyErrors(token);
  }

  /**
   * The token before `token` in the statement, EOF's being the statement's last. chevrotain's own
   * `previous` is wrong after in-repetition recovery (it is the last token skipped), so it is not used.
   */
  previousOf(token: IToken): IToken | undefined {
    if (token.tokenType === EOF) return this.tokens[this.tokens.length - 1];
    const index = this.indexes.get(token);
    return index === undefined || index === 0 ? undefined : this.tokens[index - 1];
  }

  hintFor(token: IToken): string | undefined {
    return this.hints.get(token);
  }

  buildMismatchTokenMessage(options: { expected: TokenType; actual: IToken; ruleName: string }): string {
    const { expected, actual, ruleName } = options;
    const previous = this.previousOf(actual);
    this.countError(actual);
    const found = this.found(actual);
    if (expected === RCurly && ruleName === 'block') return this.blockEnd(actual, previous);
    if (expected === Name) {
      return `expected ${nameKind(ruleName)} after ${this.describe(previous)} but found ${found}`;
    }
    this.hintKeyword(actual);
    let what = LITERALS.get(expected) ?? expected.name;
    let shape = '';
    if (expected === StringLiteral) what = ruleName === 'includeStatement' ? 'a file name in double quotes' : 'a "string"';
    if (expected === Colon) shape = ORDERING_SHAPE;
    if (expected === Equals) shape = " (an option is 'key = value')";
    if (expected === RParen && ruleName === 'useClause') what = "',' or ')'";
    if (expected === When) what = ruleName === 'ordering' ? "another prerequisite, 'when' or the end of the line" : "'when' or the end of the line";
    if (expected === LCurly) shape = " (a stage is 'stage NAME { use PLUGIN ... }')";
    return `expected ${what} after ${this.describe(previous)} but found ${found}${shape}`;
  }

  buildNotAllInputParsedMessage(options: { firstRedundant: IToken; ruleName: string }): string {
    const token = options.firstRedundant;
    this.countError(token);
    const index = this.indexes.get(token) ?? 0;
    const previous = this.previousOf(token);
    if (previous?.tokenType === RCurly) this.hints.set(token, 'start the next statement on a new line');
    else if (STARTS_TERM.has(token.tokenType) && this.tokens.slice(0, index).some((t) => t.tokenType === When)) {
      this.hints.set(token, "join conditions with '&&' or '||'");
    } else this.hintKeyword(token);
    const after = previous === undefined ? '' : ` after ${this.describe(previous)}`;
    return `expected the end of the line${after} but found ${this.found(token)}`;
  }

  buildNoViableAltMessage(options: { actual: IToken[]; ruleName: string }): string {
    const actual = options.actual[0]!;
    this.countError(actual);
    const found = this.found(actual);
    const after = this.after(actual);
    switch (options.ruleName) {
      case 'statement':
        this.hintKeyword(actual);
        return `expected a statement (${STATEMENT_KINDS}) but found ${found}`;
      case 'value':
        if (actual.tokenType === Equals) this.hints.set(actual, "compare with a single '=' (there is no '==')");
        return `expected a value (a word, a number or a "string")${after} but found ${found}`;
      case 'primary':
        return `expected a Kconfig symbol, '!' or '('${after} but found ${found}`;
      default:
        return `unexpected ${found}${after}`;
    }
  }

  buildEarlyExitMessage(options: { actual: IToken[]; ruleName: string }): string {
    const actual = options.actual[0]!;
    this.countError(actual);
    const after = this.after(actual);
    if (options.ruleName === 'ordering') {
      return `expected a prerequisite stage name${after} but found ${this.found(actual)}${ORDERING_SHAPE}`;
    }
    if (options.ruleName === 'kernelsStatement') {
      return `expected a kernel version${after} but found ${this.found(actual)} (a kernels line is 'kernels 6.1 6.12 ...')`;
    }
    return `expected more${after} but found ${this.found(actual)}`;
  }

  /** `}` was expected in a stage block; what the user most likely got wrong depends on where. */
  private blockEnd(actual: IToken, previous: IToken | undefined): string {
    const found = this.found(actual);
    if (actual.tokenType === EOF) return `expected '}' to close ${this.context.head ?? 'the block'} but found ${found}`;
    this.hintKeyword(actual);
    if (previous === undefined || previous.tokenType === Newline || previous.tokenType === LCurly) {
      return `expected 'use' or '}' but found ${found} (a stage block holds one 'use PLUGIN' per line)`;
    }
    if (actual.tokenType === Use) this.hints.set(actual, "put each 'use' on its own line");
    return `expected '}' or the end of the line after ${this.describe(previous)} but found ${found}`;
  }

  private found(token: IToken): string {
    return token.tokenType === EOF ? this.context.endDescription : describeToken(token);
  }

  private describe(token: IToken | undefined): string {
    return token === undefined ? 'the start of the statement' : describeToken(token);
  }

  /** ` after 'x'`, or nothing at the start of the statement. */
  private after(actual: IToken): string {
    const previous = this.previousOf(actual);
    return previous === undefined ? '' : ` after ${describeToken(previous)}`;
  }

  /** A name where a keyword could go that is spelt close to one: `usee`, `whne`. */
  private hintKeyword(token: IToken): void {
    if (token.tokenType !== Name) return;
    const keyword = suggest(token.image, KEYWORDS);
    if (keyword !== undefined) this.hints.set(token, `did you mean '${keyword}'?`);
  }
}

function nameKind(ruleName: string): string {
  switch (ruleName) {
    case 'stageStatement':
    case 'extendStatement':
    case 'ordering':
      return 'a stage name';
    case 'useClause':
      return 'a plugin name';
    case 'pluginOption':
      return 'an option name';
    case 'primary':
      return 'a Kconfig symbol';
    case 'kernelsStatement':
      return 'a kernel version';
    default:
      return 'a name';
  }
}
