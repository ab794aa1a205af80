// CST (chevrotain's generic tree) to the plain syntax tree of dsl/ast.ts, with a source range on
// every node. A statement recovered from an error may lack any token: the visitor builds what is
// there and drops a node whose defining name is missing, so checks never see half a name.
import type { CstNode, IToken } from 'chevrotain';
import type { SourceRange } from '../core/diagnostic.js';
import type {
  Expr,
  CompareOp,
  Include,
  KernelsDecl,
  Name,
  Ordering,
  PluginOption,
  PluginUse,
  StageDecl,
  Statement,
  ValueLiteral,
} from './ast.js';
import type { LineIndex } from './line-index.js';
import { isRealToken, pipelineParser, tokenSpan } from './parser.js';
import { decodeString, type SyntaxProblem, NumberLiteral, StringLiteral, VersionLiteral } from './tokens.js';

type Children = Record<string, (CstNode | IToken)[] | undefined>;

interface Span {
  start: number;
  end: number;
}

/** An expression with the span of its text including any parentheses around it. */
interface Term {
  expr: Expr;
  span: Span;
}

const BaseVisitor = pipelineParser.getBaseCstVisitorConstructor();

class AstBuilder extends BaseVisitor {
  lines!: LineIndex;
  problems: SyntaxProblem[] = [];

  constructor() {
    super();
    this.validateVisitor();
  }

  statement(ctx: Children): Statement | undefined {
    const node = first(ctx.includeStatement) ?? first(ctx.kernelsStatement) ?? first(ctx.stageStatement) ?? first(ctx.extendStatement) ?? first(ctx.ordering);
    return this.visitNode<Statement>(node);
  }

  includeStatement(ctx: Children): Include | undefined {
    const keyword = token(ctx.Include);
    const path = token(ctx.StringLiteral);
    if (keyword === undefined || path === undefined) return undefined;
    return { kind: 'include', path: decodeString(path).value, range: this.range(spanOf([keyword, path])!) };
  }

  kernelsStatement(ctx: Children): KernelsDecl | undefined {
    const keyword = token(ctx.Kernels);
    const versions = [...tokens(ctx.VersionLiteral), ...tokens(ctx.NumberLiteral)].sort((a, b) => a.startOffset - b.startOffset);
    if (keyword === undefined || versions.length === 0) return undefined;
    const condition = this.condition(ctx);
    const span = spanOf([keyword, ...versions])!;
    if (condition !== undefined) span.end = Math.max(span.end, condition.span.end);
    const decl: KernelsDecl = {
      kind: 'kernels',
      versions: versions.map((t) => ({ kind: 'version', text: t.image, range: this.range(tokenSpan(t)) })),
      range: this.range(span),
    };
    if (condition !== undefined) decl.when = condition.expr;
    return decl;
  }

  stageStatement(ctx: Children): StageDecl | undefined {
    return this.stage(ctx, false);
  }

  extendStatement(ctx: Children): StageDecl | undefined {
    return this.stage(ctx, true);
  }

  private stage(ctx: Children, extend: boolean): StageDecl | undefined {
    const name = this.name(token(ctx.Name));
    if (name === undefined) return undefined;
    const block = first(ctx.block);
    const blockChildren = block?.children as Children | undefined;
    const uses = blockChildren === undefined ? [] : this.uses(blockChildren, name.text);
    const braces = blockChildren === undefined ? [] : [token(blockChildren.LCurly), token(blockChildren.RCurly)];
    const span = spanOf([...allTokens(ctx), ...braces])!;
    for (const use of uses) span.end = Math.max(span.end, use.range.end.offset);
    const condition = this.condition(ctx);
    const stage: StageDecl = { kind: 'stage', name, extend, uses, range: this.range(span) };
    if (condition !== undefined) stage.when = condition.expr;
    const description = token(ctx.StringLiteral);
    if (description !== undefined) stage.description = decodeString(description).value;
    return stage;
  }

  private uses(block: Children, stageName: string): PluginUse[] {
    const brace = token(block.LCurly);
    if (brace !== undefined && token(block.newlineBeforeBrace) !== undefined) {
      this.problems.push({
        message: `'{' must be on the same line as stage '${stageName}'`,
        hint: `move '{' to the end of the line of stage '${stageName}'`,
        ...tokenSpan(brace),
      });
    }
    return nodes(block.useClause)
      .map((node) => this.visitNode<PluginUse>(node))
      .filter((use): use is PluginUse => use !== undefined);
  }

  block(): undefined {
    return undefined; // read through stage(), which needs the stage's name for its message
  }

  useClause(ctx: Children): PluginUse | undefined {
    const plugin = this.name(token(ctx.Name));
    if (plugin === undefined) return undefined;
    const options = nodes(ctx.pluginOption)
      .map((node) => this.visitNode<PluginOption>(node))
      .filter((option): option is PluginOption => option !== undefined);
    const condition = this.condition(ctx);
    const span = spanOf([token(ctx.Use), ...allTokens(ctx)])!;
    if (condition !== undefined) span.end = Math.max(span.end, condition.span.end);
    for (const option of options) span.end = Math.max(span.end, option.range.end.offset);
    const use: PluginUse = { kind: 'use', plugin, options, range: this.range(span) };
    if (condition !== undefined) use.when = condition.expr;
    return use;
  }

  pluginOption(ctx: Children): PluginOption | undefined {
    const key = this.name(token(ctx.Name));
    const value = this.visitNode<ValueLiteral>(first(ctx.value));
    if (key === undefined || value === undefined) return undefined;
    return { key, value, range: this.range({ start: key.range.start.offset, end: value.range.end.offset }) };
  }

  value(ctx: Children): ValueLiteral | undefined {
    const literal = token(ctx.Name) ?? token(ctx.NumberLiteral) ?? token(ctx.VersionLiteral) ?? token(ctx.StringLiteral);
    if (literal === undefined) return undefined;
    const range = this.range(tokenSpan(literal));
    if (literal.tokenType === StringLiteral) return { kind: 'string', text: decodeString(literal).value, range };
    const kind = literal.tokenType === NumberLiteral ? 'number' : literal.tokenType === VersionLiteral ? 'version' : 'word';
    return { kind, text: literal.image, range };
  }

  ordering(ctx: Children): Ordering | undefined {
    const target = this.name(token(ctx.target));
    const prerequisites = tokens(ctx.prerequisite)
      .map((t) => this.name(t))
      .filter((name): name is Name => name !== undefined);
    if (target === undefined || prerequisites.length === 0) return undefined;
    const span = spanOf(allTokens(ctx))!;
    const condition = this.condition(ctx);
    if (condition !== undefined) span.end = Math.max(span.end, condition.span.end);
    const ordering: Ordering = { kind: 'ordering', target, prerequisites, range: this.range(span) };
    if (condition !== undefined) ordering.when = condition.expr;
    return ordering;
  }

  private condition(ctx: Children): Term | undefined {
    return this.visitNode<Term>(first(ctx.expression));
  }

  expression(ctx: Children): Term | undefined {
    return this.chain(ctx.andExpression, 'or');
  }

  andExpression(ctx: Children): Term | undefined {
    return this.chain(ctx.notExpression, 'and');
  }

  /**
   * `a || b || c || d` as a balanced tree: the operators are associative, and a balanced tree keeps
   * a long chain shallow for every recursive walk of the condition.
   */
  private chain(operands: Children[string], kind: 'and' | 'or'): Term | undefined {
    const terms = nodes(operands)
      .map((node) => this.visitNode<Term>(node))
      .filter((term): term is Term => term !== undefined);
    if (terms.length === 0) return undefined;
    const build = (from: number, to: number): Term => {
      if (to - from === 1) return terms[from]!;
      const middle = (from + to) >> 1;
      const left = build(from, middle);
      const right = build(middle, to);
      const span = { start: left.span.start, end: right.span.end };
      return { expr: { kind, left: left.expr, right: right.expr, range: this.range(span) }, span };
    };
    return build(0, terms.length);
  }

  notExpression(ctx: Children): Term | undefined {
    let term = this.visitNode<Term>(first(ctx.primary));
    if (term === undefined) return undefined;
    const bangs = tokens(ctx.Bang);
    for (let i = bangs.length - 1; i >= 0; i--) {
      const span: Span = { start: bangs[i]!.startOffset, end: term.span.end };
      term = { expr: { kind: 'not', operand: term.expr, range: this.range(span) }, span };
    }
    return term;
  }

  primary(ctx: Children): Term | undefined {
    const open = token(ctx.LParen);
    if (open !== undefined || first(ctx.expression) !== undefined) {
      const inner = this.condition(ctx);
      if (inner === undefined) return undefined;
      const span = spanOf([open, token(ctx.RParen)]) ?? inner.span;
      return { expr: inner.expr, span: { start: Math.min(span.start, inner.span.start), end: Math.max(span.end, inner.span.end) } };
    }
    const symbol = this.name(token(ctx.Name));
    if (symbol === undefined) return undefined;
    const operator = token(ctx.Equals) ?? token(ctx.NotEquals) ?? token(ctx.LessEquals) ?? token(ctx.GreaterEquals) ?? token(ctx.Less) ?? token(ctx.Greater);
    if (operator === undefined) {
      return { expr: { kind: 'symbol', symbol, range: symbol.range }, span: tokenSpan(token(ctx.Name)!) };
    }
    const value = this.visitNode<ValueLiteral>(first(ctx.value));
    if (value === undefined) return undefined;
    const span = { start: symbol.range.start.offset, end: value.range.end.offset };
    const op = operator.image as CompareOp;
    return { expr: { kind: 'compare', symbol, op, value, range: this.range(span) }, span };
  }

  private visitNode<T>(node: CstNode | undefined): T | undefined {
    return node === undefined ? undefined : (this.visit(node) as T | undefined);
  }

  private name(t: IToken | undefined): Name | undefined {
    return t === undefined ? undefined : { text: t.image, range: this.range(tokenSpan(t)) };
  }

  private range(span: Span): SourceRange {
    return this.lines.range(span.start, span.end);
  }
}

// The CST children of a rule, without tokens chevrotain invented while recovering.
function tokens(list: Children[string]): IToken[] {
  return (list ?? []).filter((item): item is IToken => !isCstNode(item) && isRealToken(item));
}

function token(list: Children[string]): IToken | undefined {
  return tokens(list)[0];
}

function nodes(list: Children[string]): CstNode[] {
  return (list ?? []).filter(isCstNode);
}

function first(list: Children[string]): CstNode | undefined {
  return nodes(list)[0];
}

function isCstNode(item: CstNode | IToken): item is CstNode {
  return 'children' in item;
}

/** The real tokens directly under a node (not in its sub-rules). */
function allTokens(ctx: Children): IToken[] {
  return Object.values(ctx).flatMap((list) => tokens(list));
}

function spanOf(list: (IToken | undefined)[]): Span | undefined {
  let span: Span | undefined;
  for (const t of list) {
    if (!isRealToken(t)) continue;
    const { start, end } = tokenSpan(t);
    span = span === undefined ? { start, end } : { start: Math.min(span.start, start), end: Math.max(span.end, end) };
  }
  return span;
}

const builder = new AstBuilder();

/** The statement of one parsed statement CST, and what only the tree can tell is wrong. */
export function toStatement(cst: CstNode, lines: LineIndex): { statement: Statement | undefined; problems: SyntaxProblem[] } {
  builder.lines = lines;
  builder.problems = [];
  const statement = builder.visit(cst) as Statement | undefined;
  return { statement, problems: builder.problems };
}
