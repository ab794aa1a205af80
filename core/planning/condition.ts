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
      if (expr.op !== '=' && expr.op !== '!=') {
        // Ordered: both sides numbers or dotted versions; anything else (unset, a string) is false.
        const order = compareVersions(kconfig.get(name), expr.value.text);
        const value = order !== undefined && holds(expr.op, order);
        return { value, because: [kconfig.describe(name)] };
      }
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
      // A symbol that decided both sides (`KERNELVERSION >= 6.12 && KERNELVERSION < 7.2`) is named once.
      return { value: right.value, because: [...new Set([...left.because, ...right.because])] };
    }
  }
}

function holds(op: '<' | '<=' | '>' | '>=', order: number): boolean {
  if (op === '<') return order < 0;
  if (op === '<=') return order <= 0;
  if (op === '>') return order > 0;
  return order >= 0;
}

/**
 * The components of a number (`64`, `0x40`) or a version (`6.12.117`, `6.15.0-rc1`: the suffix after
 * the numbers is ignored), or undefined when the text is neither.
 */
export function versionParts(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return [Number.parseInt(text.slice(2), 16)];
  const m = /^([0-9]+(?:\.[0-9]+)*)(?:[-+~_].*)?$/.exec(text);
  return m ? m[1]!.split('.').map(Number) : undefined;
}

/**
 * Sign of `actual - literal`, component by component, a missing component reading as 0
 * (`6.12.117 > 6.12`, `6.12 = 6.12.0`); undefined when either side is not a number or version.
 */
export function compareVersions(actual: string | undefined, literal: string): number | undefined {
  const a = versionParts(actual);
  const b = versionParts(literal);
  if (a === undefined || b === undefined) return undefined;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** The expression as the user would write it, for messages. */
export function exprToString(expr: Expr): string {
  switch (expr.kind) {
    case 'symbol':
      return expr.symbol.text;
    case 'compare':
      // Ordered comparisons read best spaced (`KERNELVERSION >= 6.15`), as they are written.
      const op = expr.op === '=' || expr.op === '!=' ? expr.op : ` ${expr.op} `;
      return `${expr.symbol.text}${op}${expr.value.kind === 'string' ? JSON.stringify(expr.value.text) : expr.value.text}`;
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
