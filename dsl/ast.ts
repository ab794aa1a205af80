// The syntax tree of a kbuild.pipeline file: plain interfaces, each node with its source range, so
// validation and the plan can point at the exact text (Langium's model: the tree is data).
import type { SourceRange } from '../core/diagnostic.js';

/** A name as written, with where it was written. */
export interface Name {
  text: string;
  range: SourceRange;
}

/** A Kconfig value in a comparison: `y`, `m`, `n`, a bare word (`x86`), a number, a version (`6.12`), or a "string". */
export interface ValueLiteral {
  kind: 'word' | 'number' | 'version' | 'string';
  /** As written for a word or number (`0x10`); for a string its value: no quotes, `\"` and `\\` resolved. */
  text: string;
  range: SourceRange;
}

/** A condition over Kconfig symbols, as written after `when`. */
export type Expr = SymbolExpr | CompareExpr | NotExpr | BinaryExpr;

/** `SYM`: true when the symbol is set to y or m. */
export interface SymbolExpr {
  kind: 'symbol';
  symbol: Name;
  range: SourceRange;
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/**
 * `SYM=value`, `SYM!=value`, or an ordered comparison (`KERNELVERSION >= 6.15`, `NR_CPUS > 64`):
 * numbers and dotted versions compared component by component.
 */
export interface CompareExpr {
  kind: 'compare';
  symbol: Name;
  op: CompareOp;
  value: ValueLiteral;
  range: SourceRange;
}

export interface NotExpr {
  kind: 'not';
  operand: Expr;
  range: SourceRange;
}

/**
 * `a && b`, `a || b`. A chain of one operator is a balanced tree (`a || b || c || d` is
 * `(a || b) || (c || d)`; both operators are associative), so a long chain stays shallow.
 * Ranges of nodes exclude parentheses around them; conditions nest at most 64 deep in `(` and `!`.
 */
export interface BinaryExpr {
  kind: 'and' | 'or';
  left: Expr;
  right: Expr;
  range: SourceRange;
}

/** `key = value` inside `use plugin(...)`. */
export interface PluginOption {
  key: Name;
  value: ValueLiteral;
  range: SourceRange;
}

/** `use btf(flags = "...") when DEBUG_INFO_BTF` inside a stage block. */
export interface PluginUse {
  kind: 'use';
  plugin: Name;
  options: PluginOption[];
  when?: Expr;
  range: SourceRange;
}

/**
 * `stage NAME { use ... }` declares a stage; `extend stage NAME { use ... }` adds plugins to a stage
 * declared elsewhere (usually in an included file), so an org layers its file without forking.
 */
export interface StageDecl {
  kind: 'stage';
  name: Name;
  extend: boolean;
  /** Optional one-line description: `stage vmlinux "the final image" { ... }`. */
  description?: string;
  /** `stage NAME when EXPR { ... }`: the whole stage is off when EXPR does not hold. */
  when?: Expr;
  uses: PluginUse[];
  range: SourceRange;
}

/** `A: B C when EXPR` — A is built after (and from) B and C, when EXPR holds. */
export interface Ordering {
  kind: 'ordering';
  target: Name;
  prerequisites: Name[];
  when?: Expr;
  range: SourceRange;
}

/** `include "other.pipeline"`, resolved relative to the including file. */
export interface Include {
  kind: 'include';
  path: string;
  range: SourceRange;
}

/**
 * `kernels 6.1 6.12 7.2`: the kernel lines the file describes. A tree of another version is refused
 * before anything runs; a version names a line by prefix (`6.1` is 6.1.*). With `when EXPR`, the
 * lines described when EXPR holds (`kernels 6.1 6.12 when KBUILD_EXTMOD`): a tree must be on one of
 * them too.
 */
export interface KernelsDecl {
  kind: 'kernels';
  versions: ValueLiteral[];
  when?: Expr;
  range: SourceRange;
}

export type Statement = StageDecl | Ordering | Include | KernelsDecl;

export interface PipelineFile {
  /** The path as given to the loader (absolute). */
  file: string;
  statements: Statement[];
}
