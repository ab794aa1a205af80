// THE up-to-date rule (principle 2 of DESIGN.md), in one place, returning its reason as data so that
// `kpipe explain --why`, the progress output and .kpipe/last-run.json all say the same thing. The
// executor asks; it never decides on its own (ninja keeps this in DependencyScan::RecomputeDirty).
//
// A step is up to date when, compared with the record of its last successful run:
//   - its commands are the same (argv, environment, redirections, builtins: commandIdentity below),
//   - every input has the same *content* (sha256; the stat fast path avoids reading unchanged files),
//   - every output exists and still has the content kpipe wrote.
// A step delegated to kbuild runs every time (make decides), unless it says which of kbuild's records
// answer for it (Step.kbuildInputs): then it is up to date when, besides the above, every file those
// records, the Makefiles and the configuration name, the tools and the environment are as they were
// after its last success (core/state/kbuild-inputs.ts), which is when make would find nothing to do.
// That a dependency reran is not a reason by itself: if the dependency wrote byte-identical outputs,
// the inputs' content is unchanged and the step stays up to date (early cutoff).
import crypto from 'node:crypto';
import type { Step } from '../planning/step.js';
import type { StepGraph } from '../planning/step-graph.js';
import type { StepRecord } from './state-store.js';
import { StateStore } from './state-store.js';
import { FileProbe } from './file-probe.js';
import { describeCommandChange } from './command-fingerprint.js';
import type { KbuildCheck } from './kbuild-inputs.js';

export type Reason =
  /** No record of a successful run. */
  | { kind: 'new' }
  /** `change`: what differs, when the record's fingerprint can tell (core/state/command-fingerprint.ts). */
  | { kind: 'command-changed'; change?: string }
  | { kind: 'input-changed'; path: string }
  /** Cannot run: an input does not exist (and no step of this run made it). */
  | { kind: 'input-missing'; path: string }
  | { kind: 'output-missing'; path: string }
  /** The output's content is not what kpipe wrote: changed behind kpipe's back. */
  | { kind: 'output-modified'; path: string }
  /**
   * kbuild's own command (`make -f scripts/Makefile.build ...`): always run, kbuild decides. `dryRun`
   * (explain only): what kbuild's `make -n` said it would do.
   */
  | { kind: 'delegated'; dryRun?: 'nothing-to-do' | 'would-run'; changed?: string }
  /**
   * Prediction only (explain): up to date unless `step`, which runs first, changes `path`. `kbuild`:
   * that step is kbuild's, whose decision kpipe cannot know beforehand (the compile stage).
   */
  | { kind: 'waits-for'; step: string; path: string; kbuild?: boolean }
  /** `kbuildFiles`: a delegated step, current because that many of kbuild's inputs are as they were. */
  | { kind: 'up-to-date'; kbuildFiles?: number };

export type ReasonKind = Reason['kind'];

/** True when the reason means the step must run (before knowing what its dependencies will write). */
export function mustRun(reason: Reason): boolean {
  return reason.kind !== 'up-to-date' && reason.kind !== 'waits-for';
}

export function describeReason(reason: Reason): string {
  switch (reason.kind) {
    case 'new':
      return 'never ran';
    case 'command-changed':
      return reason.change ? `command changed: ${reason.change}` : 'command changed';
    case 'input-changed':
      return `input ${reason.path} changed`;
    case 'input-missing':
      return `input ${reason.path} is missing`;
    case 'output-missing':
      return `output ${reason.path} is missing`;
    case 'output-modified':
      return `output ${reason.path} was changed outside kpipe`;
    case 'delegated':
      if (reason.dryRun === 'nothing-to-do') return `delegated to kbuild, which has nothing to do (make -n${reason.changed ? `; ${reason.changed}` : ''})`;
      if (reason.dryRun === 'would-run') return `delegated to kbuild, which would run it (make -n${reason.changed ? `; ${reason.changed}` : ''})`;
      return reason.changed ? `delegated to kbuild, which decides (${reason.changed})` : 'delegated to kbuild, which decides';
    case 'waits-for':
      return reason.kbuild
        ? `kbuild decides ${reason.step} first; up to date if it leaves ${reason.path} as it is`
        : `waits for ${reason.step}, which runs first; reruns only if ${reason.path} comes out different`;
    case 'up-to-date':
      if (reason.kbuildFiles !== undefined) return `up to date: kbuild's ${reason.kbuildFiles} inputs, its environment and tools are as after its last run`;
      return 'up to date';
  }
}

/**
 * The version of what the rule below reads: a change to it (a new check, another field of a record)
 * bumps this, so that a no-op verdict kept by an older kpipe (./noop-verdict.ts, which keys on the
 * plan, the records and the stats) no longer stands for the rule's answer.
 */
export const RULE_VERSION = 1;

export interface IdentityOptions {
  /** Environment kpipe passes to every command (ARCH, CROSS_COMPILE, ...): part of every identity. */
  env?: Record<string, string>;
  /** Commands running in the source tree depend on where it is. */
  srctree?: string;
}

/**
 * What makes two runs of a step "the same command": everything that reaches the tools (argv, extra
 * environment, redirections, in-place targets, working directory, builtin names and arguments), and
 * nothing cosmetic (labels, notes, plugin names). Hashed from a length-prefixed encoding, which is
 * unambiguous and several times cheaper than JSON for 11,000 steps.
 */
export function commandIdentity(step: Step, opts: IdentityOptions = {}): string {
  return sha256(identityText(step, runContext(opts)));
}

/** The part of every identity that comes from the run, not the step: computed once per run. */
export function runContext(opts: IdentityOptions): { env: string; srctree: string } {
  return { env: words(sortedEnv(opts.env)), srctree: words([opts.srctree ?? '']) };
}

export function identityText(step: Step, context: { env: string; srctree: string }): string {
  let text = step.delegated ? 'kpipe-identity-1 delegated' : 'kpipe-identity-1';
  let usesSrctree = false;
  for (const { action: a } of step.commands) {
    if (a.kind === 'exec') {
      text += `|exec${words(a.argv)}`;
      if (a.env) text += `|env${words(sortedEnv(a.env))}`;
      if (a.stdout !== undefined) text += `|stdout${words([a.stdout])}`;
      if (a.inPlace !== undefined) text += `|inplace${words([a.inPlace])}`;
      if (a.cwd === 'srctree') {
        text += '|srctree';
        usesSrctree = true;
      }
    } else {
      text += `|builtin${words([a.name, ...a.args])}`;
    }
  }
  return `${text}|runenv${context.env}${usesSrctree ? `|in${context.srctree}` : ''}`;
}

/** NAME, value, NAME, value, ... by NAME. */
function sortedEnv(env: Record<string, string> | undefined): string[] {
  if (!env) return [];
  return Object.keys(env)
    .sort()
    .flatMap((k) => [k, env[k]!]);
}

function words(list: readonly string[]): string {
  let s = '';
  for (const w of list) s += ` ${w.length}:${w}`;
  return s;
}

/** One-shot crypto.hash where Node has it (20.12+): several times cheaper than createHash for 11,000 steps. */
export const sha256: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text).digest('hex');

/**
 * The decision for one step, given the record of its last successful run. The order of the checks is
 * the order of the reasons' usefulness to a person: a step that cannot run at all, then one that never
 * ran, then a changed command, then missing outputs (cheap, definitive), then the inputs, and last an
 * output edited behind kpipe's back. `unsettled` inputs are skipped: explain uses it for inputs that a
 * step which must run first will rewrite (the executor decides only once they are settled).
 */
export function decide(
  step: Step,
  identity: string,
  record: StepRecord | undefined,
  probe: FileProbe,
  unsettled?: ReadonlySet<string>,
  /** The run's environment and source tree, to say what changed in a changed command. */
  commandOptions?: IdentityOptions,
  /** For a delegated step with Step.kbuildInputs: would make find nothing to do? */
  kbuild?: (step: Step, identity: string) => KbuildCheck,
): Reason {
  const settled = (p: string) => unsettled === undefined || !unsettled.has(p);
  for (const p of step.inputs) if (settled(p) && !probe.exists(p)) return { kind: 'input-missing', path: p };
  if (step.delegated) {
    if (!step.kbuildInputs || !kbuild) return { kind: 'delegated' };
    // kpipe's own record first (cheap), then kbuild's inputs.
    const own = decide({ ...step, delegated: false }, identity, record, probe, unsettled);
    if (own.kind !== 'up-to-date') return { kind: 'delegated', changed: describeReason(own) };
    const check = kbuild(step, identity);
    return check.current ? { kind: 'up-to-date', kbuildFiles: check.files } : { kind: 'delegated', changed: check.changed };
  }
  if (!record) return { kind: 'new' };
  if (record.command !== identity) {
    const change = record.fingerprint !== undefined && commandOptions ? describeCommandChange(step, commandOptions, record.fingerprint) : undefined;
    return change ? { kind: 'command-changed', change } : { kind: 'command-changed' };
  }
  for (const p of step.outputs) if (!probe.exists(p)) return { kind: 'output-missing', path: p };
  for (let k = 0; k < step.inputs.length; k++) {
    const p = step.inputs[k]!;
    if (settled(p) && probe.hash(p) !== recordedHash(record.inputs, p, k)) return { kind: 'input-changed', path: p };
  }
  for (let k = 0; k < step.outputs.length; k++) {
    const p = step.outputs[k]!;
    if (probe.hash(p) !== recordedHash(record.outputs, p, k)) return { kind: 'output-modified', path: p };
  }
  return { kind: 'up-to-date' };
}

/**
 * The step's outputs are, byte for byte, what its last run wrote under this command: the outputs the
 * executor lets a likelyUnchanged step's dependents start on (core/running/speculation.ts).
 */
export function outputsAsRecorded(step: Step, identity: string, record: StepRecord | undefined, probe: FileProbe): boolean {
  if (!record || record.command !== identity) return false;
  return step.outputs.every((p, k) => probe.exists(p) && probe.hash(p) === recordedHash(record.outputs, p, k));
}

/** The hash a record holds for `p`; records usually list paths in the step's order, so try `k` first. */
function recordedHash(flat: readonly string[], p: string, k: number): string | undefined {
  if (flat[2 * k] === p) return flat[2 * k + 1];
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === p) return flat[i + 1];
  return undefined;
}

/**
 * `kpipe explain --why`: what a run would do now, without running anything or writing state. A step
 * reading an output of a step that must run is reported as `waits-for` that step (it reruns only if
 * the output comes out different), unless it must run for a reason of its own.
 */
export function explainWhy(
  graph: StepGraph,
  objtree: string = graph.objtree,
  opts: IdentityOptions = {},
  stateDir = objtree,
  /** For a step delegated to kbuild: what kbuild would do (core/running/kbuild-dry-run.ts). */
  dryRun?: (step: Step) => 'nothing-to-do' | 'would-run' | undefined,
  /** For a delegated step with Step.kbuildInputs: are they as kept (core/state/kbuild-inputs.ts)? */
  kbuild?: (step: Step, identity: string) => KbuildCheck,
): Map<string, Reason> {
  const store = StateStore.load(stateDir);
  const probe = new FileProbe(objtree, store);
  const reasons = new Map<string, Reason>();
  const mayChange = new Uint8Array(graph.steps.length);
  graph.steps.forEach((step, i) => {
    const unsettled = new Set<string>();
    let first: Reason | undefined;
    for (const d of graph.deps[i]!) {
      if (!mayChange[d]) continue;
      const dep = graph.steps[d]!;
      for (const p of step.inputs) {
        if (!dep.outputs.includes(p)) continue;
        unsettled.add(p);
        // A step kbuild decides without having been asked (the compile stage): kpipe cannot know.
        const asked = reasons.get(dep.id);
        const kbuild = dep.delegated === true && !(asked?.kind === 'delegated' && asked.dryRun !== undefined);
        first ??= { kind: 'waits-for', step: dep.id, path: p, ...(kbuild ? { kbuild: true } : {}) };
      }
    }
    let reason = decide(step, commandIdentity(step, opts), store.step(step.id), probe, unsettled, opts, kbuild);
    if (reason.kind === 'delegated' && dryRun && unsettled.size === 0) {
      // Its inputs are settled, so what kbuild says now is what it will do in the run.
      const answer = dryRun(step);
      if (answer) reason = { ...reason, dryRun: answer };
    }
    if (reason.kind === 'up-to-date' && first) reason = first;
    // kbuild with nothing to do leaves its outputs as they are: its dependents are decided on them.
    const settles = reason.kind === 'up-to-date' || (reason.kind === 'delegated' && reason.dryRun === 'nothing-to-do');
    if (!settles) mayChange[i] = 1;
    reasons.set(step.id, reason);
  });
  return reasons;
}
