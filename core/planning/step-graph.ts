// The step graph: which step produces each file, which steps read it, and one run order. Plain data,
// like ninja's State (graph.h): deciding what is dirty lives in core/state/up-to-date.ts and running lives in
// core/running/executor.ts. Building the graph also validates it, and every problem is a Diagnostic naming the
// steps and plugins involved, because the plugins that made the steps never see one another.
import { IndexHeap } from './index-heap.js';
import type { Diagnostic } from '../diagnostic.js';
import { suggest } from '../suggest.js';
import { error } from '../diagnostic.js';
import path from 'node:path';
import { canonicalFast as canonicalPath } from '../canonical-fast.js';
import type { Step } from './step.js';
import { outputReferencedBy } from '../running/temp-outputs.js';
import { outputsOutsideTree } from '../running/output-tree.js';

export interface StepGraph {
  /** Absolute path of the output tree every relative path is based on. */
  readonly objtree: string;
  /**
   * Steps in run order: topological, and otherwise in the order they were given (kbuild's order, which
   * `kpipe explain` prints). Paths in them are canonical. Every index below points into this array, and
   * a step's dependencies always come before it (unless the graph has a cycle, reported as an error).
   */
  readonly steps: readonly Step[];
  /** Step id -> index. */
  readonly index: ReadonlyMap<string, number>;
  /** Canonical output path -> index of the step writing it. */
  readonly producer: ReadonlyMap<string, number>;
  /** Canonical path -> indices of the steps reading it (sources included). */
  readonly consumers: ReadonlyMap<string, readonly number[]>;
  /** Per step: indices of the steps producing its inputs, ascending. */
  readonly deps: readonly (readonly number[])[];
  /** Per step: indices of the steps reading one of its outputs, ascending. */
  readonly dependents: readonly (readonly number[])[];
  /**
   * Per step: the length of the longest chain of work from the step to the end of the graph, itself
   * included (in commands, until the executor substitutes measured durations). The executor starts the
   * ready step with the longest chain first, so long tails (vmlinux's three links) never wait behind
   * thousands of short module steps.
   */
  readonly criticalPath: readonly number[];
}

export interface StepGraphOptions {
  objtree: string;
  /** True when a canonical path is a source: a file nobody produces that must exist before the run. */
  isSource: (canonicalPath: string) => boolean;
  /** Directories besides the output tree that steps may write in (absolute): `M=DIR`. */
  outputRoots?: readonly string[];
}

export function buildStepGraph(
  input: readonly Step[],
  opts: StepGraphOptions,
): { graph: StepGraph; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const objtree = path.resolve(opts.objtree);
  const steps = input.map((s) => canonicalStep(s, objtree));
  const n = steps.length;

  const index = new Map<string, number>();
  steps.forEach((step, i) => {
    const other = index.get(step.id);
    if (other === undefined) index.set(step.id, i);
    else
      diagnostics.push(
        error('duplicate-step-id', `two steps have the id '${step.id}' (plugins ${steps[other]!.plugin} and ${step.plugin})`, {
          plugin: step.plugin,
        }),
      );
  });

  diagnostics.push(...outputsOutsideTree(steps, objtree, opts.outputRoots));
  const producer = new Map<string, number>();
  steps.forEach((step, i) => {
    for (const out of step.outputs) {
      const other = producer.get(out);
      if (other === undefined) producer.set(out, i);
      else diagnostics.push(duplicateOutput(out, steps[other]!, step));
    }
    diagnostics.push(...checkInPlace(step, objtree));
  });

  // Asked once per path: .module-common.o is read by every module step.
  const sourceAnswers = new Map<string, boolean>();
  const isSource = (p: string) => {
    let answer = sourceAnswers.get(p);
    if (answer === undefined) sourceAnswers.set(p, (answer = opts.isSource(p)));
    return answer;
  };
  const deps: number[][] = [];
  steps.forEach((step, i) => {
    const mine: number[] = [];
    for (const inp of step.inputs) {
      const p = producer.get(inp);
      if (p === undefined) {
        if (!isSource(inp)) diagnostics.push(missingInput(inp, step));
      } else if (p === i) {
        diagnostics.push(
          error('step-cycle', `step cycle: ${step.id} -> ${step.id} (it reads its own output ${inp})`, { plugin: step.plugin }),
        );
      } else if (!mine.includes(p)) mine.push(p);
    }
    deps.push(mine);
  });

  const { order, cyclic } = stableTopologicalOrder(n, deps);
  if (cyclic.length > 0) diagnostics.push(...cycleDiagnostics(cyclic, steps, deps, producer));

  // Usually the given order is already a run order: then the maps built above are the graph's.
  const unchanged = order.every((old, k) => old === k);
  const graph = unchanged
    ? assemble(objtree, steps, () => deps, order, { index, producer })
    : assemble(objtree, order.map((i) => steps[i]!), (newIndexOfOld) =>
        order.map((old) => deps[old]!.map((d) => newIndexOfOld[d]!).sort((a, b) => a - b)),
      order);
  return { graph, diagnostics };
}

/**
 * The part of the graph that `targets` need: the steps producing them (a target is an output path, in
 * any spelling, or a step id) and everything those steps depend on, in the same order.
 */
export function subgraphFor(graph: StepGraph, targets: readonly string[]): { graph: StepGraph; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const wanted = new Uint8Array(graph.steps.length);
  const stack: number[] = [];
  for (const target of targets) {
    const i = graph.index.get(target) ?? graph.producer.get(canonicalPath(target, graph.objtree));
    if (i === undefined) {
      const stages = [...new Set(graph.steps.map((s) => s.stage))];
      const guess = suggest(target, [...stages, ...graph.producer.keys()]);
      diagnostics.push(
        error('unknown-target', `no step produces '${target}'`, {
          hint: `${guess ? `did you mean '${guess}'? ` : ''}a target is a stage (${stages.join(', ')}), an output of the plan (\`kpipe explain\` lists them) or a step id`,
        }),
      );
    } else stack.push(i);
  }
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (wanted[i]) continue;
    wanted[i] = 1;
    for (const d of graph.deps[i]!) stack.push(d);
  }
  const keep: number[] = [];
  wanted.forEach((w, i) => {
    if (w) keep.push(i);
  });
  const sub = assemble(graph.objtree, keep.map((i) => graph.steps[i]!), (newIndexOfOld) =>
    keep.map((old) => graph.deps[old]!.map((d) => newIndexOfOld[d]!)),
  keep);
  return { graph: sub, diagnostics };
}

/**
 * Longest chain of work from each step to the end of the graph, itself included. `weight` is a step's
 * own cost: its number of commands by default, its last measured duration when the executor knows it.
 */
export function criticalPathLengths(
  steps: readonly Step[],
  dependents: readonly (readonly number[])[],
  weight: (step: Step, index: number) => number = (s) => Math.max(1, s.commands.length),
): number[] {
  const length = new Array<number>(steps.length).fill(0);
  for (let i = steps.length - 1; i >= 0; i--) {
    let longest = 0;
    for (const d of dependents[i]!) if (length[d]! > longest) longest = length[d]!;
    length[i] = weight(steps[i]!, i) + longest;
  }
  return length;
}

/** Builds the graph's maps for `steps`, already ordered; `oldIndices[k]` is the caller's index of step k. */
function assemble(
  objtree: string,
  steps: Step[],
  depsIn: (newIndexOfOld: Int32Array) => number[][],
  oldIndices: readonly number[],
  built?: { index: Map<string, number>; producer: Map<string, number> },
): StepGraph {
  const maxOld = oldIndices.reduce((m, i) => Math.max(m, i), -1);
  const newIndexOfOld = new Int32Array(maxOld + 1).fill(-1);
  oldIndices.forEach((old, k) => (newIndexOfOld[old] = k));
  const deps = built ? depsIn(newIndexOfOld) : depsIn(newIndexOfOld).map((d) => d.filter((x) => x >= 0));

  const index = built?.index ?? new Map<string, number>();
  const producer = built?.producer ?? new Map<string, number>();
  const consumers = new Map<string, number[]>();
  const dependents: number[][] = steps.map(() => []);
  steps.forEach((step, i) => {
    if (!built) {
      if (!index.has(step.id)) index.set(step.id, i);
      for (const out of step.outputs) if (!producer.has(out)) producer.set(out, i);
    }
    for (const inp of step.inputs) {
      let readers = consumers.get(inp);
      if (!readers) consumers.set(inp, (readers = []));
      readers.push(i);
    }
  });
  deps.forEach((ds, i) => {
    for (const d of ds) dependents[d]!.push(i);
  });
  const criticalPath = criticalPathLengths(steps, dependents);
  return { objtree, steps, index, producer, consumers, deps, dependents, criticalPath };
}

/** Paths in canonical spelling and without repeats, so `./vmlinux` and `vmlinux` are one artifact. */
function canonicalStep(step: Step, objtree: string): Step {
  const canon = (paths: readonly string[] | undefined) => {
    const list = (paths ?? []).map((p) => canonicalPath(p, objtree));
    // Linear search for the usual handful; a set for a step reading every module.
    if (list.length > 16) return [...new Set(list)];
    return list.filter((c, k) => list.indexOf(c) === k);
  };
  const commands = step.commands.map((c) => {
    if (c.action.kind !== 'exec' || (c.action.stdout === undefined && c.action.inPlace === undefined && c.action.kbuildWrites === undefined)) return c;
    const action = { ...c.action };
    if (action.stdout !== undefined) action.stdout = canonicalPath(action.stdout, objtree);
    if (action.inPlace !== undefined) action.inPlace = canonicalPath(action.inPlace, objtree);
    if (action.kbuildWrites !== undefined) action.kbuildWrites = action.kbuildWrites.map((p) => canonicalPath(p, objtree));
    if (action.kbuildStamps !== undefined) action.kbuildStamps = action.kbuildStamps.map((p) => canonicalPath(p, objtree));
    return { ...c, action };
  });
  const out: Step = { ...step, commands, inputs: canon(step.inputs), outputs: canon(step.outputs) };
  if (step.scratch !== undefined) out.scratch = canon(step.scratch);
  return out;
}

/**
 * Kahn's algorithm taking the lowest original index among the ready steps each time: when the given
 * order is already valid it is kept exactly, otherwise steps move only as far as their inputs require.
 */
function stableTopologicalOrder(n: number, deps: readonly (readonly number[])[]): { order: number[]; cyclic: number[] } {
  const pending = new Int32Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  deps.forEach((ds, i) => {
    pending[i] = ds.length;
    for (const d of ds) dependents[d]!.push(i);
  });
  const ready = new IndexHeap((a, b) => a < b);
  for (let i = 0; i < n; i++) if (pending[i] === 0) ready.push(i);
  const order: number[] = [];
  while (ready.size > 0) {
    const i = ready.pop();
    order.push(i);
    for (const d of dependents[i]!) if (--pending[d]! === 0) ready.push(d);
  }
  const cyclic: number[] = [];
  if (order.length < n) {
    for (let i = 0; i < n; i++) if (pending[i]! > 0) cyclic.push(i);
    order.push(...cyclic);
  }
  return { order, cyclic };
}


/**
 * One diagnostic per strongly connected component of the steps left over by the topological sort,
 * printing one cycle through it as `a -> b -> a` (a reads a file that b writes), like ninja.
 */
function cycleDiagnostics(
  cyclic: readonly number[],
  steps: readonly Step[],
  deps: readonly (readonly number[])[],
  producer: ReadonlyMap<string, number>,
): Diagnostic[] {
  const inCycle = new Set(cyclic);
  const diagnostics: Diagnostic[] = [];
  const reported = new Set<number>();
  for (const start of cyclic) {
    if (reported.has(start)) continue;
    const cycle = findCycleThrough(start, deps, inCycle);
    if (!cycle) continue; // start only leads into a cycle: that cycle is reported from its own steps
    for (const i of componentOf(cycle[0]!, deps, inCycle)) reported.add(i);
    const via = cycle.slice(0, -1).map((a, k) => {
      const b = cycle[k + 1]!;
      const file = steps[a]!.inputs.find((p) => producer.get(p) === b);
      return { message: `${steps[a]!.id} (${steps[a]!.plugin}) reads ${file}, written by ${steps[b]!.id} (${steps[b]!.plugin})` };
    });
    diagnostics.push(
      error('step-cycle', `step cycle: ${cycle.map((i) => steps[i]!.id).join(' -> ')}`, {
        plugin: steps[cycle[0]!]!.plugin,
        related: via,
        hint: 'two steps need each other\'s outputs; order their stages in kbuild.pipeline or split a step',
      }),
    );
  }
  return diagnostics;
}

/** A path start -> ... -> start along dependencies, or undefined when start is on no cycle. */
function findCycleThrough(start: number, deps: readonly (readonly number[])[], allowed: ReadonlySet<number>): number[] | undefined {
  const parent = new Map<number, number>();
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]!;
    for (const d of deps[i]!) {
      if (!allowed.has(d)) continue;
      if (d === start) {
        const path = [start];
        for (let k = i; k !== start; k = parent.get(k)!) path.push(k);
        path.push(start);
        return [path[0]!, ...path.slice(1, -1).reverse(), start];
      }
      if (!parent.has(d)) {
        parent.set(d, i);
        queue.push(d);
      }
    }
  }
  return undefined;
}

/** Steps on some cycle with `start`: reachable from it and reaching it. */
function componentOf(start: number, deps: readonly (readonly number[])[], allowed: ReadonlySet<number>): number[] {
  const forward = reach(start, (i) => deps[i]!, allowed);
  const reverse = new Map<number, number[]>();
  for (const i of allowed) for (const d of deps[i]!) if (allowed.has(d)) (reverse.get(d) ?? reverse.set(d, []).get(d)!).push(i);
  const backward = reach(start, (i) => reverse.get(i) ?? [], allowed);
  return [...forward].filter((i) => backward.has(i));
}

function reach(start: number, next: (i: number) => readonly number[], allowed: ReadonlySet<number>): Set<number> {
  const seen = new Set([start]);
  const stack = [start];
  while (stack.length > 0) for (const d of next(stack.pop()!)) if (allowed.has(d) && !seen.has(d)) seen.add(d), stack.push(d);
  return seen;
}

function duplicateOutput(path: string, first: Step, second: Step): Diagnostic {
  return error(
    'duplicate-output',
    `two steps write ${path}: ${first.id} (plugin ${first.plugin}) and ${second.id} (plugin ${second.plugin})`,
    {
      plugin: second.plugin,
      related: [
        { message: `${first.id} (stage ${first.stage}, plugin ${first.plugin}) writes ${path}` },
        { message: `${second.id} (stage ${second.stage}, plugin ${second.plugin}) writes ${path}` },
      ],
      hint: 'one artifact has one producer; let the second step write another file or edit it in the same step',
    },
  );
}

function missingInput(path: string, step: Step): Diagnostic {
  return error('missing-input', `step ${step.id} (plugin ${step.plugin}) reads ${path}, which no step produces and is not a source`, {
    plugin: step.plugin,
    hint: 'check the spelling of the path, or the plugin that should produce it',
  });
}

/** An in-place command must edit an output that an earlier command of the same step wrote. */
function checkInPlace(step: Step, objtree: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  step.commands.forEach((command, k) => {
    const a = command.action;
    if (a.kind !== 'exec') return;
    // No arrays made per command: this runs for every command of a distribution's plan.
    const mustBeOutput = (p: string | undefined, alsoAllowed?: readonly string[]) => {
      if (p === undefined || step.outputs.includes(p) || alsoAllowed?.includes(p)) return;
      out.push(
        error('invalid-step', `step ${step.id} (plugin ${command.plugin}): ${p} is edited or redirected to but is not an output of the step`, {
          plugin: command.plugin,
        }),
      );
    };
    mustBeOutput(a.inPlace);
    // stdout may also go to a scratch file (`nm -n vmlinux > System.map.nm`, removed after the step).
    mustBeOutput(a.stdout, step.scratch);
    for (const p of a.kbuildWrites ?? []) mustBeOutput(p);
    if (a.inPlace !== undefined && !step.delegated && !writtenBefore(step.commands, k, a.inPlace, objtree))
      out.push(
        error('invalid-step', `step ${step.id} (plugin ${command.plugin}): a command edits ${a.inPlace} in place, but no earlier command of the step writes it`, {
          plugin: command.plugin,
          hint: 'an in-place tool works on the copy its own step just wrote; put the command that writes the file first in the same step',
        }),
      );
  });
  return out;
}

/** Whether one of the first `k` commands writes `output`. */
function writtenBefore(commands: Step['commands'], k: number, output: string, objtree: string): boolean {
  const only = new Set([output]);
  const base = [path.basename(output)];
  for (let j = 0; j < k; j++) if (writes(commands[j]!, output, only, base, objtree)) return true;
  return false;
}

/** Whether a command names `output` the way the executor redirects to a temporary (temp-outputs.ts). */
function writes(command: Step['commands'][number], output: string, only: ReadonlySet<string>, base: readonly string[], objtree: string): boolean {
  const a = command.action;
  if (a.kind === 'builtin') return a.args.some((w) => w.endsWith(base[0]!) && canonicalPath(w, objtree) === output);
  if (a.stdout === output) return true;
  return a.argv.some((w) => {
    if (a.cwd === 'srctree' && !path.isAbsolute(w.slice(w.lastIndexOf('=') + 1))) return false;
    return outputReferencedBy(w, only, base, objtree, objtree) !== undefined;
  });
}
