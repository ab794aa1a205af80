// The grammar of kbuild.pipeline as a chevrotain CstParser. One instance is built at load time
// (performSelfAnalysis is costly) and reused for every statement of every file.
//
// The parser's entry rule is one statement: dsl/split-statements.ts cuts a file into statements
// first (a statement ends at a newline outside braces), so an error never spills from one statement
// into the next, and chevrotain's own recovery (token insertion and deletion, re-sync inside a
// block's lines) only has to work within one statement.
import { CstParser, EOF, type CstNode, type IToken } from './chevrotain.js';
import {
  allTokens,
  AndAnd,
  Bang,
  Colon,
  Comma,
  Equals,
  Extend,
  Include,
  Kernels,
  Greater,
  GreaterEquals,
  Less,
  LessEquals,
  VersionLiteral,
  LCurly,
  LParen,
  Name,
  Newline,
  NotEquals,
  NumberLiteral,
  OrOr,
  RCurly,
  RParen,
  Stage,
  StringLiteral,
  Use,
  When,
  type SyntaxProblem,
} from './tokens.js';
import { SyntaxMessages, TooManyErrors, type StatementContext } from './syntax-messages.js';

export class PipelineParser extends CstParser {
  readonly messages: SyntaxMessages;

  constructor(messages = new SyntaxMessages()) {
    super(allTokens, { recoveryEnabled: true, errorMessageProvider: messages, maxLookahead: 2 });
    this.messages = messages;
    this.performSelfAnalysis();
  }

  statement = this.RULE('statement', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.includeStatement) },
      { ALT: () => this.SUBRULE(this.kernelsStatement) },
      { ALT: () => this.SUBRULE(this.stageStatement) },
      { ALT: () => this.SUBRULE(this.extendStatement) },
      { ALT: () => this.SUBRULE(this.ordering) },
    ]);
  });

  // include "org.pipeline"
  includeStatement = this.RULE('includeStatement', () => {
    this.CONSUME(Include);
    this.CONSUME(StringLiteral);
  });

  // kernels VERSION... [when EXPR]
  kernelsStatement = this.RULE('kernelsStatement', () => {
    this.CONSUME(Kernels);
    this.AT_LEAST_ONE(() => {
      this.OR([{ ALT: () => this.CONSUME(VersionLiteral) }, { ALT: () => this.CONSUME(NumberLiteral) }]);
    });
    this.OPTION(() => {
      this.CONSUME(When);
      this.SUBRULE(this.expression);
    });
  });

  // stage NAME ["description"] [when EXPR] { ... }
  stageStatement = this.RULE('stageStatement', () => {
    this.CONSUME(Stage);
    this.CONSUME(Name);
    this.OPTION(() => this.CONSUME(StringLiteral));
    this.OPTION2(() => {
      this.CONSUME(When);
      this.SUBRULE(this.expression);
    });
    this.SUBRULE(this.block);
  });

  // extend stage NAME { ... }
  extendStatement = this.RULE('extendStatement', () => {
    this.CONSUME(Extend);
    this.CONSUME(Stage);
    this.CONSUME(Name);
    this.SUBRULE(this.block);
  });

  // `{` (use ... NEWLINE)* `}`: one use per line; `}` on its own line or right after the last use.
  // Newlines before `{` are accepted here only so that to-ast can say precisely that `{` belongs on
  // the stage line (the statement splitter joins such a `{` line to its stage).
  block = this.RULE('block', () => {
    this.MANY(() => this.CONSUME(Newline, { LABEL: 'newlineBeforeBrace' }));
    this.CONSUME(LCurly);
    this.OPTION(() => this.SUBRULE(this.useClause));
    this.MANY2(() => {
      this.CONSUME2(Newline);
      this.OPTION2(() => this.SUBRULE2(this.useClause));
    });
    this.CONSUME(RCurly);
  });

  // use PLUGIN [(key = value, ...)] [when EXPR]
  useClause = this.RULE('useClause', () => {
    this.CONSUME(Use);
    this.CONSUME(Name);
    this.OPTION(() => {
      this.CONSUME(LParen);
      this.SUBRULE(this.pluginOption);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.pluginOption);
      });
      this.CONSUME(RParen);
    });
    this.OPTION2(() => {
      this.CONSUME(When);
      this.SUBRULE(this.expression);
    });
  });

  pluginOption = this.RULE('pluginOption', () => {
    this.CONSUME(Name);
    this.CONSUME(Equals);
    this.SUBRULE(this.value);
  });

  value = this.RULE('value', () => {
    this.OR([
      { ALT: () => this.CONSUME(Name) },
      { ALT: () => this.CONSUME(NumberLiteral) },
      { ALT: () => this.CONSUME(VersionLiteral) },
      { ALT: () => this.CONSUME(StringLiteral) },
    ]);
  });

  // TARGET: PREREQUISITE... [when EXPR]
  ordering = this.RULE('ordering', () => {
    this.CONSUME(Name, { LABEL: 'target' });
    this.CONSUME(Colon);
    this.AT_LEAST_ONE(() => this.CONSUME2(Name, { LABEL: 'prerequisite' }));
    this.OPTION(() => {
      this.CONSUME(When);
      this.SUBRULE(this.expression);
    });
  });

  // `||` binds loosest, then `&&`, then `!`. Chains and `!` runs are loops, not recursion; only
  // parentheses recurse, and split-statements bounds their depth before the parser runs.
  expression = this.RULE('expression', () => {
    this.SUBRULE(this.andExpression);
    this.MANY(() => {
      this.CONSUME(OrOr);
      this.SUBRULE2(this.andExpression);
    });
  });

  andExpression = this.RULE('andExpression', () => {
    this.SUBRULE(this.notExpression);
    this.MANY(() => {
      this.CONSUME(AndAnd);
      this.SUBRULE2(this.notExpression);
    });
  });

  notExpression = this.RULE('notExpression', () => {
    this.MANY(() => this.CONSUME(Bang));
    this.SUBRULE(this.primary);
  });

  primary = this.RULE('primary', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LParen);
          this.SUBRULE(this.expression);
          this.CONSUME(RParen);
        },
      },
      {
        ALT: () => {
          this.CONSUME(Name);
          this.OPTION(() => {
            this.OR2([
              { ALT: () => this.CONSUME(Equals) },
              { ALT: () => this.CONSUME(NotEquals) },
              { ALT: () => this.CONSUME(LessEquals) },
              { ALT: () => this.CONSUME(GreaterEquals) },
              { ALT: () => this.CONSUME(Less) },
              { ALT: () => this.CONSUME(Greater) },
            ]);
            this.SUBRULE(this.value);
          });
        },
      },
    ]);
  });
}

export const pipelineParser = new PipelineParser();

export interface StatementParse {
  /** Undefined only when nothing of the statement could be recognised. */
  cst: CstNode | undefined;
  problems: SyntaxProblem[];
}

/** Parses the tokens of one statement (no Newline at either end); never throws on bad input. */
export function parseStatement(tokens: IToken[], context: StatementContext): StatementParse {
  const parser = pipelineParser;
  parser.messages.begin(tokens, context);
  parser.input = tokens;
  let cst: CstNode | undefined;
  let abandoned: TooManyErrors | undefined;
  // chevrotain reports each error as an exception; their stack traces are never read and, on a
  // file with an error on every line, capturing them was most of the time spent.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    cst = parser.statement();
  } catch (error) {
    if (!(error instanceof TooManyErrors)) throw error;
    abandoned = error;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  const problems = parser.errors.map((error): SyntaxProblem => {
    const token = error.token;
    const hint = parser.messages.hintFor(token);
    const { start, end } = problemSpan(token, parser.messages.previousOf(token), context);
    return hint === undefined ? { message: error.message, start, end } : { message: error.message, hint, start, end };
  });
  if (abandoned !== undefined) {
    problems.push({
      message: `too many errors in this statement; the rest of it was not checked`,
      ...problemSpan(abandoned.token, parser.messages.previousOf(abandoned.token), context),
    });
  }
  return { cst, problems };
}

/** Where an error about `token` points: the token, or for "found the end of ..." just after the text before it. */
function problemSpan(token: IToken, previous: IToken | undefined, context: StatementContext): { start: number; end: number } {
  if (!isRealToken(token)) return context.endSpan;
  if (token.tokenType === Newline && previous !== undefined) {
    const end = tokenSpan(previous).end;
    return { start: end, end };
  }
  return tokenSpan(token);
}

/** False for EOF and for tokens chevrotain invented while recovering (they have no offsets). */
export function isRealToken(token: IToken | undefined): token is IToken {
  return (
    token !== undefined &&
    token.tokenType !== EOF &&
    token.isInsertedInRecovery !== true &&
    Number.isFinite(token.startOffset)
  );
}

export function tokenSpan(token: IToken): { start: number; end: number } {
  return { start: token.startOffset, end: (token.endOffset ?? token.startOffset + token.image.length - 1) + 1 };
}
