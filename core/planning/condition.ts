// Evaluates a `when` expression against Kconfig and says why, in the words `kpipe explain` prints:
// `when MODULE_HASHES` is off because "MODULE_HASHES is not set". Only the symbols that decided the
// result are named (a false `A && B` names the false side), like a person would explain it.
import type { Expr } from '../../dsl/ast.js';
import type { Kconfig } from './kconfig.js';

export interface ConditionResult {
  value: boolean;
  /** The facts that decided the value, e.g. ["DEBUG_INFO_BTF=y", "MODULE_HASHES is not set"]. */
  because: string[];
}

export function evaluate(expr: Expr, kconfig: Kconfig): ConditionResult {
  switch (expr.kind) {
    case 'symbol': {
      const name = expr.symbol.text;
      return { value: kconfig.isEnabled(name), because: [kconfig.describe(name)] };
    }
    case 'compare': {
      const name = expr.symbol.text;
      // An unset bool or tristate reads as n, as in Kconfig.
      const actual = kconfig.get(name) ?? 'n';
      const equal = actual === expr.value.text;
      return { value: expr.op === '=' ? equal : !equal, because: [kconfig.describe(name)] };
    }
    case 'not': {
      const inner = evaluate(expr.operand, kconfig);
      return { value: !inner.value, because: inner.because };
    }
    case 'and':
    case 'or': {
      const left = evaluate(expr.left, kconfig);
      const decidedByLeft = expr.kind === 'and' ? !left.value : left.value;
      if (decidedByLeft) return left;
      const right = evaluate(expr.right, kconfig);
      const decidedByRight = expr.kind === 'and' ? !right.value : right.value;
      if (decidedByRight && expr.kind === 'or') return right;
      if (!right.value && expr.kind === 'and') return right;
      return { value: right.value, because: [...left.because, ...right.because] };
    }
  }
}

/** The expression as the user would write it, for messages. */
export function exprToString(expr: Expr): string {
  switch (expr.kind) {
    case 'symbol':
      return expr.symbol.text;
    case 'compare':
      return `${expr.symbol.text}${expr.op}${expr.value.kind === 'string' ? JSON.stringify(expr.value.text) : expr.value.text}`;
    case 'not':
      return `!${wrap(expr.operand)}`;
    case 'and':
      return `${wrap(expr.left, 'and')} && ${wrap(expr.right, 'and')}`;
    case 'or':
      return `${wrap(expr.left, 'or')} || ${wrap(expr.right, 'or')}`;
  }
}

function wrap(expr: Expr, parent?: 'and' | 'or'): string {
  const s = exprToString(expr);
  if (expr.kind === 'or' && parent !== 'or') return `(${s})`;
  if (expr.kind === 'and' && parent === undefined) return `(${s})`;
  return s;
}
