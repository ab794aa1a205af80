// A `when` condition given as text, for plugins: an option like `sign_when = "MODULE_SIG && !MODULE_HASHES"`
// is read with the pipeline's own grammar and evaluated as the pipeline's conditions are, so a
// plugin's conditions and the DSL's never disagree on a corner (`SYM` true for m, `ARCH=x86`).
import { parsePipeline } from '../../dsl/parse.js';
import { evaluate, type ConditionResult } from './condition.js';
import type { Kconfig } from './kconfig.js';

export type { ConditionResult } from './condition.js';

/**
 * Evaluates `text` (e.g. `MODULES && !COMPILE_TEST`) against `kconfig`. Throws an Error saying what is
 * wrong with the text: thrown from a plugin, it is reported with the plugin's name and hook.
 */
export function evaluateCondition(text: string, kconfig: Kconfig): ConditionResult {
  if (text.includes('\n')) throw new Error(`condition '${text}' spans lines: a condition is one line`);
  // An ordering statement is the smallest piece of the grammar that carries a condition.
  const parsed = parsePipeline(`condition: kconfig when ${text}\n`, '<condition>');
  const ordering = parsed.file.statements[0];
  if (parsed.diagnostics.length > 0 || ordering?.kind !== 'ordering' || !ordering.when) {
    const why = parsed.diagnostics[0]?.message ?? 'not a condition';
    throw new Error(`cannot read the condition '${text}': ${why}`);
  }
  return evaluate(ordering.when, kconfig);
}
