// Stages and their orderings after `when` conditions are resolved against Kconfig: which plugins are
// on in which stage and why, which orderings hold and why, and the order stages are planned in.
// A cycle among active orderings is reported whole, each edge with its file:line and the condition
// that switched it on.
import type { Expr, PluginOption, Statement, ValueLiteral } from '../../dsl/ast.js';
import path from 'node:path';
import { error, type Diagnostic, type SourceRange } from '../diagnostic.js';
import { evaluate, exprToString } from './condition.js';
import type { Kconfig } from './kconfig.js';

export type PluginOptionValue = string | number | boolean;

export interface ResolvedUse {
  plugin: string;
  stage: string;
  options: Record<string, PluginOptionValue>;
  active: boolean;
  /** The facts behind `active` (empty when the use has no condition). */
  because: string[];
  when?: string;
  range: SourceRange;
}

export interface StageNode {
  name: string;
  description?: string;
  range: SourceRange;
  /** False when the stage's own `when` does not hold: none of its plugins run, no ordering names it. */
  active: boolean;
  because: string[];
  when?: string;
  uses: ResolvedUse[];
}

/** `target: prerequisite`: target is built after prerequisite, and may read what it wrote. */
export interface OrderingEdge {
  target: string;
  prerequisite: string;
  active: boolean;
  because: string[];
  when?: string;
  range: SourceRange;
}

export interface StageGraph {
  /** In declaration order. */
  stages: StageNode[];
  edges: OrderingEdge[];
  /** Stages in build order (prerequisites first; declaration order among independent stages). */
  order: string[];
}

export function buildStageGraph(statements: readonly Statement[], kconfig: Kconfig): { graph: StageGraph; diagnostics: Diagnostic[] } {
  const stages = new Map<string, StageNode>();
  const edges: OrderingEdge[] = [];
  const condition = (when: Expr | undefined) => {
    if (!when) return { active: true, because: [] as string[] };
    const r = evaluate(when, kconfig);
    return { active: r.value, because: r.because, when: exprToString(when) };
  };

  for (const s of statements) {
    if (s.kind === 'stage') {
      let node = stages.get(s.name.text);
      if (!node) {
        // `extend stage` of an unknown stage is reported by dsl/validate; creating it here keeps the
        // rest of the plan going so every error of the file is seen at once.
        node = { name: s.name.text, range: s.name.range, uses: [], ...condition(s.when) };
        if (s.description !== undefined) node.description = s.description;
        stages.set(node.name, node);
      }
      const stage = node;
      for (const use of s.uses) {
        node.uses.push({
          plugin: use.plugin.text,
          stage: node.name,
          options: optionsOf(use.options),
          range: use.range,
          ...(stage.active ? condition(use.when) : offWithStage(stage)),
        });
      }
    } else if (s.kind === 'ordering') {
      const c = condition(s.when);
      for (const prereq of s.prerequisites) {
        edges.push({ target: s.target.text, prerequisite: prereq.text, range: s.range, ...c });
      }
    }
  }

  // A later use of a plugin in a stage is a variant of an earlier one (dsl/validate's checkDuplicateUse):
  // when its condition holds it replaces the earlier one, so one use per plugin is on, and it takes
  // the earlier one's place: plugins of a stage are applied in order (btf records the base modfinal's
  // modules got only after modfinal), whichever line of the block the variant is written on.
  for (const node of stages.values()) {
    for (let i = node.uses.length - 1; i >= 0; i--) {
      const later = node.uses[i]!;
      if (!later.active) continue;
      let first = -1;
      node.uses.slice(0, i).forEach((earlier, j) => {
        if (earlier.plugin !== later.plugin || !earlier.active) return;
        if (first < 0) first = j;
        const where = `${path.basename(later.range.file)}:${later.range.start.line}`;
        Object.assign(earlier, { active: false, because: [`replaced by the use at ${where}${later.when ? ` (when ${later.when}: ${later.because.join(', ')})` : ''}`] });
      });
      if (first >= 0) {
        node.uses.splice(i, 1);
        node.uses.splice(first + 1, 0, later);
        i++; // the use now at i was before the variant: look at it again
      }
    }
  }

  // An ordering that names an inactive stage holds no more than the stage does.
  for (const e of edges) {
    const off = [stages.get(e.target), stages.get(e.prerequisite)].find((st) => st !== undefined && !st.active);
    if (e.active && off) Object.assign(e, offWithStage(off));
  }
  const names = [...stages.keys()];
  const diagnostics: Diagnostic[] = [];
  const cycle = findCycle(names, edges.filter((e) => e.active && stages.has(e.target) && stages.has(e.prerequisite)));
  if (cycle) diagnostics.push(cycleDiagnostic(cycle));
  const order = cycle ? names : topologicalOrder(names, edges.filter((e) => e.active));
  return { graph: { stages: names.map((n) => stages.get(n)!), edges, order }, diagnostics };
}

function offWithStage(stage: StageNode): { active: false; because: string[]; when: string } {
  // The stage's own condition, which is what switched this off.
  return { active: false, because: stage.because, when: stage.when ?? '' };
}

function optionsOf(options: readonly PluginOption[]): Record<string, PluginOptionValue> {
  const out: Record<string, PluginOptionValue> = {};
  for (const o of options) out[o.key.text] = optionValue(o.value);
  return out;
}

function optionValue(v: ValueLiteral): PluginOptionValue {
  if (v.kind === 'number') return Number(v.text);
  if (v.kind === 'version') return v.text;
  if (v.kind === 'word' && (v.text === 'true' || v.text === 'y')) return true;
  if (v.kind === 'word' && (v.text === 'false' || v.text === 'n')) return false;
  return v.text;
}

/** Kahn's algorithm, always taking the earliest-declared ready stage, so the order is stable. */
function topologicalOrder(names: string[], active: OrderingEdge[]): string[] {
  const pending = new Map(names.map((n) => [n, 0]));
  for (const e of active) if (pending.has(e.target) && pending.has(e.prerequisite)) pending.set(e.target, pending.get(e.target)! + 1);
  const order: string[] = [];
  while (order.length < names.length) {
    const next = names.find((n) => pending.get(n) === 0 && !order.includes(n));
    if (next === undefined) break;
    order.push(next);
    for (const e of active) if (e.prerequisite === next && pending.has(e.target)) pending.set(e.target, pending.get(e.target)! - 1);
  }
  return order;
}

/** The first cycle found by depth-first search, as the edges that form it, in build order. */
function findCycle(names: string[], active: OrderingEdge[]): OrderingEdge[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: OrderingEdge[] = [];
  const visit = (stage: string): OrderingEdge[] | undefined => {
    state.set(stage, 'visiting');
    // Follow "is built after" edges from a stage to its prerequisites.
    for (const e of active.filter((x) => x.target === stage)) {
      const s = state.get(e.prerequisite);
      if (s === 'visiting') {
        const start = path.findIndex((p) => p.target === e.prerequisite);
        return [...path.slice(start === -1 ? path.length : start), e];
      }
      if (s === undefined) {
        path.push(e);
        const found = visit(e.prerequisite);
        if (found) return found;
        path.pop();
      }
    }
    state.set(stage, 'done');
    return undefined;
  };
  for (const n of names) {
    if (!state.has(n)) {
      const found = visit(n);
      if (found) return found.reverse();
    }
  }
  return undefined;
}

function cycleDiagnostic(cycle: OrderingEdge[]): Diagnostic {
  // In build order: each edge's prerequisite is built before its target.
  const chain = [cycle[0]!.prerequisite, ...cycle.map((e) => e.target)].join(' -> ');
  const related = cycle.map((e) => ({
    message: `'${e.target}: ${e.prerequisite}' puts ${e.prerequisite} before ${e.target}${e.when ? ` (when ${e.when}: ${e.because.join(', ')})` : ' (unconditional)'}`,
    range: e.range,
  }));
  const inCycle = new Set(cycle.flatMap((e) => [e.target, e.prerequisite]));
  const hint = inCycle.has('modules') && inCycle.has('vmlinux')
    ? "modules need only vmlinux's BTF, which vmlinux.unstripped already has: order vmlinux.unstripped -> modules -> vmlinux " +
      "('modules: vmlinux.unstripped' and 'vmlinux: modules when MODULE_HASHES'), as in seed 001"
    : 'remove or condition one of these orderings';
  return error('stage-cycle', `the stage orderings form a cycle: ${chain}`, { range: cycle[0]!.range, related, hint });
}

/** True when `later` is (transitively) ordered after `earlier` by active edges. */
export function isOrderedAfter(graph: StageGraph, later: string, earlier: string): boolean {
  const seen = new Set<string>();
  const stack = [later];
  while (stack.length > 0) {
    const s = stack.pop()!;
    for (const e of graph.edges) {
      if (!e.active || e.target !== s || seen.has(e.prerequisite)) continue;
      if (e.prerequisite === earlier) return true;
      seen.add(e.prerequisite);
      stack.push(e.prerequisite);
    }
  }
  return false;
}
