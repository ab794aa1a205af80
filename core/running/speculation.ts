// Starting a step's dependents before it ends, on the outputs its last run left (Step.likelyUnchanged:
// pahole's BTF, which most edits do not change, takes 1.7 s that the kallsyms passes and the final
// link would otherwise wait through). The bookkeeping only; the executor asks and obeys.
//
// Why this keeps every guarantee:
//   - a step started early hashes its inputs when it starts, as every step does, so its record says
//     "the previous BTF gave these outputs": a true fact, whatever the predicted step writes later;
//   - the predicted step still writes its outputs under temporaries and renames them at its end, so
//     until then the old files stay whole under their names;
//   - a step still running when the predicted one renames different outputs over them may have read
//     either: its result is dropped (stale), never recorded, and it runs again;
//   - when the prediction fails, every step downstream is decided again once nothing runs, on the
//     outputs now in place: the up-to-date rule, not this file, says what reruns;
//   - kbuild's own commands write in place and keep their own records: downstream delegated steps,
//     and steps with kbuild commands in them, wait for the prediction to be settled.
import type { StepGraph } from '../planning/step-graph.js';

export class Speculation {
  /** Per step: how many predicted steps upstream of it are still running. */
  private readonly unresolved: Int32Array;
  /** Per predicted step: everything downstream of it, in plan order. */
  private readonly closures = new Map<number, number[]>();
  /** Running steps begun on a prediction that failed: what they write is not kept. */
  private readonly stale: Uint8Array;
  /** Steps that may not start while a prediction upstream is open (they write in place). */
  private deferred: number[] = [];
  /** Downstream steps to decide again once nothing runs (a prediction failed). */
  private again: Set<number> | undefined;

  constructor(private readonly graph: StepGraph) {
    this.unresolved = new Int32Array(graph.steps.length);
    this.stale = new Uint8Array(graph.steps.length);
  }

  /** Opens a prediction for step `p`: returns its downstream closure (to release its dependents). */
  predict(p: number): number[] {
    const closure = this.downstream(p);
    this.closures.set(p, closure);
    for (const c of closure) this.unresolved[c]!++;
    return closure;
  }

  isPredicted(p: number): boolean {
    return this.closures.has(p);
  }

  /** True while a predicted step upstream of `i` runs. */
  isSpeculative(i: number): boolean {
    return this.unresolved[i]! > 0;
  }

  defer(i: number): void {
    this.deferred.push(i);
  }

  isStale(i: number): boolean {
    return this.stale[i] === 1;
  }

  /** `p` wrote what it wrote before: its downstream steps stand; returns the deferred ones now free. */
  confirm(p: number): number[] {
    this.close(p);
    const free = this.deferred.filter((d) => this.unresolved[d] === 0);
    this.deferred = this.deferred.filter((d) => this.unresolved[d]! > 0);
    return free;
  }

  /**
   * `p` wrote other outputs (or failed): the running steps downstream are stale, and everything
   * downstream is to be decided again once nothing runs. Returns how many steps that is.
   */
  refute(p: number, isRunning: (i: number) => boolean): number {
    const closure = this.close(p);
    this.again ??= new Set();
    for (const c of closure) {
      this.again.add(c);
      if (isRunning(c)) this.stale[c] = 1;
    }
    return closure.length;
  }

  /** A failed prediction waits for the running steps to end before anything else is decided. */
  get restartPending(): boolean {
    return this.again !== undefined;
  }

  /** Takes the steps to decide again (and forgets their stale marks and deferrals). */
  takeRestart(): Set<number> {
    const again = this.again ?? new Set<number>();
    this.again = undefined;
    for (const c of again) this.stale[c] = 0;
    this.deferred = this.deferred.filter((d) => !again.has(d));
    return again;
  }

  private close(p: number): number[] {
    const closure = this.closures.get(p) ?? [];
    this.closures.delete(p);
    for (const c of closure) this.unresolved[c]!--;
    return closure;
  }

  private downstream(p: number): number[] {
    const seen = new Uint8Array(this.graph.steps.length);
    const stack = [...this.graph.dependents[p]!];
    const out: number[] = [];
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (seen[d]) continue;
      seen[d] = 1;
      out.push(d);
      stack.push(...this.graph.dependents[d]!);
    }
    return out.sort((a, b) => a - b);
  }
}
