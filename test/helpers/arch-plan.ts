// Plans of the shipped kbuild.pipeline for an architecture kpipe has no profile of, from a handful of
// Kconfig symbols: enough to see what an arch post-link plugin adds to the final link.
import { planFor, kconfigOf, type TestPlan } from './plan.js';
import type { Step } from '../../core/planning/step.js';

/** A config of SRCARCH `arch` with exactly these symbols set (CONFIG_ prefix omitted). */
export function archPlan(arch: string, symbols: string[]): TestPlan {
  const kconfig = kconfigOf(symbols.map((s) => `CONFIG_${s}`).join('\n'));
  kconfig.set('ARCH', arch, { kind: 'set', where: 'test' });
  return planFor(kconfig);
}

/** The step of the final link: the image, and every command that edits or reads it afterwards. */
export function finalLink(plan: TestPlan): Step {
  return plan.steps.find((s) => s.stage === 'vmlinux.unstripped' && s.outputs.includes('vmlinux.unstripped'))!;
}
