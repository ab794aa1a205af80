// `kpipe run`: executes a step graph in an output tree, incrementally and in parallel (ninja's Builder).
// The executor never decides whether a step is up to date (core/state/up-to-date.ts does, with a reason) and
// never spawns a process itself (a CommandRunner does). Its own job is the order, the temporaries and
// the bookkeeping:
//   - a step is decided only once all its dependencies are done, so it sees their final outputs, and
//     a dependency that rewrote identical bytes leaves it up to date (early cutoff); the exception is
//     a step whose outputs usually come out the same (Step.likelyUnchanged): its dependents start on
//     its last outputs while it runs, and are decided again if it writes others (./speculation.ts);
//   - ready steps that must run wait for a slot (`-j`), the one with the longest remaining chain first;
//   - outputs are written under temporary names and renamed into place after the step's last command;
//     only then is the step's record appended to the journal;
//   - a failure keeps every old output untouched and removes the temporaries; without --keep-going no
//     new step starts, and the running ones finish;
//   - an interruption (opts.signal) stops the children, removes temporaries and returns a status the
//     CLI turns into 130 or 143.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import type { Diagnostic } from '../diagnostic.js';
import { error, KpipeError } from '../diagnostic.js';
import { absolutePath } from '../paths.js';
import type { Command, ExecCommand, Step } from '../planning/step.js';
import { kbuildWrittenOutputs, quietLine, stepLabel } from '../planning/step.js';
import { IndexHeap } from '../planning/index-heap.js';
import type { StepGraph } from '../planning/step-graph.js';
import { criticalPathLengths, subgraphFor } from '../planning/step-graph.js';
import type { IdentityOptions, Reason } from '../state/up-to-date.js';
import { commandFingerprint } from '../state/command-fingerprint.js';
import { decide, identityText, outputsAsRecorded, runContext, sha256 } from '../state/up-to-date.js';
import { StateStore } from '../state/state-store.js';
import { FileProbe } from '../state/file-probe.js';
import type { FileRecord } from '../state/file-state.js';
import { hashAndStat } from '../state/file-state.js';
import { TempOutputs, tempBase } from './temp-outputs.js';
import type { CommandRunner, RunOutcome } from './runner.js';
import { defaultRunner } from './spawn-helper.js';
import type { Progress, Verbosity } from './progress.js';
import { createProgress } from './progress.js';
import { acquireTreeLock, type TreeLock } from './lock.js';
import { getBuiltin } from './builtins.js';
import { shellJoin, shellQuote } from '../shell-quote.js';
import type { Outcome, RunLog, RunLogStep, RunStatus } from './run-log.js';
import { mergeRunLogs, runLogStep, runLogStepsText, writeRunLog } from './run-log.js';
import { EXIT_CODE_FOR_SIGNAL } from './interrupt.js';
import { treeUnwritable } from './fs-failure.js';
import { ProcessNotes, reapOrphans } from './orphans.js';
import type { CacheQuery, CacheSource, Restored, StepCache } from '../cache/step-cache.js';
import { cacheQuery, kbuildKeyInputs } from '../cache/cache-query.js';
import type { KbuildCheck, KbuildContext } from '../state/kbuild-inputs.js';
import { checkKbuildInputs, forgetKbuildInputs } from '../state/kbuild-inputs.js';
import { HandOff, KbuildKeeps } from './kbuild-keeps.js';
import type { NarrowCompile } from '../state/kbuild-narrow.js';
import { narrowCompile } from '../state/kbuild-narrow.js';
import { narrowCommands, narrowMissed, narrowStamps } from './kbuild-narrow-run.js';
import { Speculation } from './speculation.js';
import type { PrefetchedStats } from '../state/stat-prefetch.js';
import { decodeStats, statBatch, statRecords } from '../state/stat-prefetch.js';
import { NoopVerdict, verdictCanStand } from '../state/noop-verdict.js';
import { nowNanoseconds } from '../state/file-state.js';

export interface RunOptions {
  /** The output tree (absolute, or relative to the current directory). */
  objtree: string;
  /** Where `.kpipe/` (lock, state, last-run.json) lives: the output tree unless given (`M=DIR`). */
  stateDir?: string;
  /** The source tree, for commands with `cwd: 'srctree'`. */
  srctree?: string;
  /** Commands running at once (`-j`). */
  jobs: number;
  /** Go on with the steps that do not depend on a failed one. */
  keepGoing: boolean;
  verbosity: Verbosity;
  /** Run only what these outputs (any spelling) or step ids need. */
  targets?: string[];
  /** Environment kpipe adds for every command (ARCH, CROSS_COMPILE, ...); part of each step's identity. */
  env?: Record<string, string>;
  /** Abort to interrupt (see core/running/interrupt.ts); its reason (`'SIGINT'`, `'SIGTERM'`) picks the exit code. */
  signal?: AbortSignal;
  /** Where progress and tool output go (default: process.stdout). */
  out?: Writable;
  /** Default: the real runner, spawning processes. */
  runner?: CommandRunner;
  /** Spinner or lines; by default the spinner when `out` is a terminal. */
  interactive?: boolean;
  /** When another run holds the tree: wait for it (default) or stop with a `locked` error. */
  lock?: 'wait' | 'fail';
  /** `--step-timeout`: a step still running after this many seconds fails, its process groups killed. */
  stepTimeoutSeconds?: number;
  /** The step cache (core/cache): a step that must run is restored from it when it can, and stored in it when it ran. */
  cache?: StepCache;
  /**
   * kbuild's tools (the words of CC, LD, NM, ...): a delegated step with Step.kbuildInputs is current
   * only while their executables are unchanged.
   */
  kbuildPrograms?: readonly string[];
  /** `M=DIR` (absolute), whose records the compile step's make writes (core/state/kbuild-inputs.ts). */
  kbuildExtmod?: string;
  /** The first part of the same `kpipe run` (the compile stage): last-run.json tells both as one. */
  earlier?: RunLog;
  /**
   * Start the dependents of a Step.likelyUnchanged step while it runs (default: with -j2 or more,
   * unless KPIPE_SPECULATE=0).
   */
  speculate?: boolean;
  /**
   * Another runSteps of the same `kpipe run` follows (the link after the compile stage): after a good
   * run, keep the tree locked and leave it the keeps of kbuild's inputs (RunResult.handOff), which then
   * run while its first tools do (core/running/kbuild-keeps.ts).
   */
  handOff?: boolean;
  /** The earlier part's RunResult.handOff: its lock and its keeps are this run's. */
  continues?: HandOff;
}

export interface RunResult {
  status: RunStatus;
  /** 0 ok, 1 a step failed (or the tree is locked), 2 bad targets, 128+N interrupted by signal N. */
  exitCode: number;
  diagnostics: Diagnostic[];
  /** What .kpipe/last-run.json holds (absent only when the run never got the tree's lock). */
  log?: RunLog;
  /** With RunOptions.handOff, after a good run: pass it on (RunOptions.continues) or finish() it. */
  handOff?: HandOff;
}

export async function runSteps(graph: StepGraph, opts: RunOptions): Promise<RunResult> {
  const objtree = path.resolve(opts.objtree);
  const stateDir = path.resolve(opts.stateDir ?? objtree);
  if (objtree !== graph.objtree) throw new Error(`runSteps: graph was built for ${graph.objtree}, not ${objtree}`);
  // What every step of the plan writes, targets or not: kbuild's inputs are the rest (kbuild-inputs.ts).
  const planned = graph.steps;
  if (opts.targets && opts.targets.length > 0) {
    const sub = subgraphFor(graph, opts.targets);
    if (sub.diagnostics.length > 0) return { status: 'failed', exitCode: 2, diagnostics: sub.diagnostics };
    graph = sub.graph;
  }
  graph.deps.forEach((ds, i) => {
    if (ds.some((d) => d >= i)) throw new KpipeError([error('step-cycle', 'runSteps: the step graph has a cycle; build it with buildStepGraph and check its diagnostics')]);
  });
  const progress = await createProgress({ out: opts.out ?? process.stdout, verbosity: opts.verbosity, ...(opts.interactive !== undefined ? { interactive: opts.interactive } : {}) });

  let lock: TreeLock;
  const continued = opts.continues?.take();
  if (continued) lock = continued.lock;
  else try {
    lock = await acquireTreeLock(stateDir, {
      mode: opts.lock ?? 'wait',
      command: 'kpipe run',
      onWait: (_holder, message) => progress.note(message),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    if (e instanceof KpipeError) return { status: 'failed', exitCode: e.exitCode, diagnostics: e.diagnostics };
    if ((e as Error).name === 'AbortError') return { status: 'interrupted', exitCode: exitCodeFor(opts.signal), diagnostics: [] };
    const unwritable = treeUnwritable(e, objtree);
    if (unwritable) return { status: 'failed', exitCode: 1, diagnostics: [unwritable] };
    throw e;
  }
  let run: Run | undefined;
  let handOff: HandOff | undefined;
  try {
    // Tools a killed run left behind would go on writing while this one decides: stop them first.
    const reaped = await reapOrphans(stateDir);
    if (reaped > 0 && opts.verbosity === 'verbose') progress.note(`kpipe: stopped ${reaped} process group(s) a killed run left running`);
    // Every file the steps name, stat'ed on the other core while the state loads (a no-op's largest cost).
    const files = filesOf(graph);
    const statAt = nowNanoseconds();
    const batch = statBatch(files, objtree);
    // A whole plan like the last no-op's, on the same records: its verdict may stand (noop-verdict.ts).
    const verdict = !opts.targets?.length && !opts.earlier && !opts.continues && !opts.handOff && verdictCanStand(graph.steps)
      ? new NoopVerdict(graph.steps, runContext(identityOptions(opts)), objtree, stateDir)
      : undefined;
    let records = verdict?.standsOnRecords ? ((await batch) ?? statRecords(files, objtree)) : undefined;
    if (records && verdict!.standsOn(records)) {
      const log = unchangedRun(graph, opts, objtree, progress, files.length);
      writeRunLog(log, stateDir, verdict!.logSteps);
      return { status: 'ok', exitCode: 0, diagnostics: [], log };
    }
    const store = StateStore.load(stateDir);
    // A torn last journal line after `kill -9` is routine; with -v, say why steps may rerun.
    if (opts.verbosity === 'verbose') for (const problem of store.problems) progress.note(`kpipe: state: ${problem}`);
    const runner = opts.runner ?? defaultRunner(new ProcessNotes(stateDir));
    run = new Run(graph, store, objtree, { ...opts, runner }, progress, planned, stateDir, continued?.keeps);
    const removedLeftovers = run.removeLeftoversOfKilledRuns();
    // With a verdict to keep, the decisions must be made on the very stats it keeps.
    records ??= (await batch) ?? (verdict ? statRecords(files, objtree) : undefined);
    const prefetched = records && decodeStats(files, records);
    if (prefetched && !removedLeftovers) run.usePrefetched(prefetched);
    const own = await run.execute();
    runner.close?.();
    store.close();
    const log = opts.earlier ? mergeRunLogs(opts.earlier, own) : own;
    const logSteps = runLogStepsText(log.steps);
    if (verdict) {
      const allUpToDate = own.status === 'ok' && own.counts.upToDate === own.counts.total && run.diagnostics.length === 0;
      if (allUpToDate && records && !removedLeftovers) verdict.keep(records, statAt, logSteps);
      else verdict.forget();
    }
    writeRunLog(log, stateDir, logSteps);
    const exitCode = log.status === 'ok' ? 0 : log.status === 'failed' ? 1 : exitCodeFor(opts.signal);
    if (run.handsOff) handOff = new HandOff(lock, run.handedKeeps);
    return { status: log.status, exitCode, diagnostics: run.diagnostics, log, ...(handOff ? { handOff } : {}) };
  } catch (e) {
    // The state store and run log fail only when the tree cannot be written (full, read-only): the
    // steps' own reports stay, and the journal records what did finish (a lost record costs a rerun).
    const unwritable = treeUnwritable(e, objtree);
    if (!unwritable) throw e;
    return { status: 'failed', exitCode: 1, diagnostics: [...(run?.diagnostics ?? []), unwritable] };
  } finally {
    if (!handOff) lock.release();
  }
}

/** What the identity and the fingerprint of every step are made from, besides the step. */
function identityOptions(opts: RunOptions): IdentityOptions {
  return { ...(opts.env ? { env: opts.env } : {}), ...(opts.srctree ? { srctree: path.resolve(opts.srctree) } : {}) };
}

/**
 * The last no-op's verdict stands (core/state/noop-verdict.ts): every step is up to date, told as a
 * run that decided each one tells it, without loading the state.
 */
function unchangedRun(graph: StepGraph, opts: RunOptions, objtree: string, progress: Progress, files: number): RunLog {
  const startedAt = new Date();
  const n = graph.steps.length;
  progress.start(n);
  if (opts.verbosity === 'verbose') progress.note(`kpipe: the plan, kpipe's records and the ${files} files are as at the last run, when every step was up to date`);
  opts.cache?.finish();
  const durationMs = Date.now() - startedAt.getTime();
  progress.finish(okSummary(0, n, n, 0, durationMs), true);
  const log: Omit<RunLog, 'steps'> = {
    version: 1,
    objtree,
    startedAt: startedAt.toISOString(),
    durationMs,
    status: 'ok',
    jobs: opts.jobs,
    targets: [],
    counts: { total: n, ran: 0, upToDate: n, failed: 0 },
  };
  // last-run.json is written from the verdict's own copy of its steps; these are for a caller that
  // reads them (kpipe's CLI does not), built when asked: 11,000 of them cost a no-op 6 ms.
  let steps: RunLogStep[] | undefined;
  const reason: Reason = { kind: 'up-to-date' };
  return Object.defineProperty(log, 'steps', {
    enumerable: true,
    get: () => (steps ??= graph.steps.map((step) => runLogStep(step, 'up-to-date', reason, 0))),
  }) as RunLog;
}

function okSummary(ran: number, total: number, upToDate: number, cached: number, durationMs: number): string {
  return `${ran} of ${total} steps ran, ${upToDate} up to date${cached > 0 ? `, ${cached} from the cache` : ''} (${(durationMs / 1000).toFixed(1)} s)`;
}

/** Each file some step reads or writes, once. */
function filesOf(graph: StepGraph): string[] {
  const files = new Set<string>();
  for (const step of graph.steps) {
    for (const p of step.inputs) files.add(p);
    for (const p of step.outputs) files.add(p);
  }
  return [...files];
}

function exitCodeFor(signal: AbortSignal | undefined): number {
  return EXIT_CODE_FOR_SIGNAL[String(signal?.reason)] ?? 130;
}

/** The outcome of running one step. */
type StepEnd = { kind: 'ok'; unchanged: boolean } | { kind: 'failed'; diagnostic: Diagnostic } | { kind: 'interrupted' } | { kind: 'stale' };

/**
 * One execution of a graph. A step is waiting (`remaining` dependencies > 0), then ready (decided at
 * once), then queued for a slot if it must run, then running, and ends with an outcome.
 */
class Run {
  readonly diagnostics: Diagnostic[] = [];
  private readonly steps: readonly Step[];
  private readonly n: number;
  private readonly remaining: Int32Array;
  /** 1 once a step's dependents were told it is done (at its end, or at its start when predicted). */
  private readonly released: Uint8Array;
  private readonly isRunning: Uint8Array;
  /** Present when some step is likelyUnchanged and there is a second slot to start its dependents in. */
  private readonly speculation: Speculation | undefined;
  /** Failures of steps begun on a prediction still open: real only if the prediction holds. */
  private readonly heldFailures = new Map<number, Diagnostic>();
  private readonly reasons: (Reason | undefined)[];
  private readonly outcomes: (Outcome | undefined)[];
  private readonly durations: Float64Array;
  /** Longest remaining chain per step, computed when the first step must run (a no-op never does). */
  private priorityCache: number[] | undefined;
  private ready: number[] = [];
  private readonly queue: IndexHeap;
  private readonly probe: FileProbe;
  private readonly runner: CommandRunner;
  private readonly abort = new AbortController();
  /** Unique per run: names this run's temporaries. */
  private readonly tag = `${process.pid.toString(36)}${crypto.randomBytes(3).toString('hex')}`;
  private readonly madeDirs = new Set<string>();
  private readonly identities = new Map<string, string>();
  private readonly identityContext: ReturnType<typeof runContext>;
  /** What the identity and the fingerprint of every step are made from, besides the step. */
  private readonly commandOptions: IdentityOptions;
  private readonly tempListings = new Map<string, Map<string, string[]>>();
  private running = 0;
  private stopping = false;
  private settle: (() => void) | undefined;
  private readonly startedAt = new Date();
  /** Steps whose outputs came from the cache, and from which store. */
  private readonly restored = new Map<string, CacheSource>();
  /** What each running step's tools printed, kept with its cache entry and shown again on a hit. */
  private readonly toolOutput = new Map<string, string>();
  private kbuildCtx: KbuildContext | undefined;
  /** Keeps of kbuild's inputs, made beside the steps that follow (core/running/kbuild-keeps.ts). */
  private readonly keeps = new KbuildKeeps();
  /**
   * With RunOptions.handOff, the keeps of `replan` steps: made beside the next part's first tools. (Only
   * theirs: the next part's plan never holds them again, so it never asks what they kept.)
   */
  readonly handedKeeps = new KbuildKeeps();
  /**
   * Decided once, when the steps are done: with RunOptions.handOff, nothing failed or was interrupted,
   * so the next part takes handedKeeps (otherwise this run made them).
   */
  handsOff = false;
  /** The commands a delegated step ran instead of its own (the narrow compile), for its quiet lines. */
  private readonly ranCommands = new Map<string, readonly Command[]>();

  constructor(
    private readonly graph: StepGraph,
    private readonly store: StateStore,
    private readonly objtree: string,
    private readonly opts: RunOptions,
    private readonly progress: Progress,
    /** The whole plan's steps (the graph may be a target's part of it). */
    private readonly planned: readonly Step[] = graph.steps,
    private readonly stateDir: string = objtree,
    /** The earlier part's keeps (RunOptions.continues): made once this run's first tools are running. */
    adopted?: KbuildKeeps,
  ) {
    if (adopted) this.keeps.adopt(adopted);
    this.steps = graph.steps;
    this.n = this.steps.length;
    this.remaining = new Int32Array(this.n);
    this.released = new Uint8Array(this.n);
    this.isRunning = new Uint8Array(this.n);
    const speculate = opts.speculate ?? process.env.KPIPE_SPECULATE !== '0';
    this.speculation = speculate && opts.jobs > 1 && this.steps.some((s) => s.likelyUnchanged) ? new Speculation(graph) : undefined;
    this.reasons = new Array(this.n);
    this.outcomes = new Array(this.n);
    this.durations = new Float64Array(this.n);
    this.probe = new FileProbe(objtree, store);
    this.commandOptions = identityOptions(opts);
    this.identityContext = runContext(this.commandOptions);
    this.runner = opts.runner ?? defaultRunner();
    this.queue = new IndexHeap((a, b) => {
      // Longest remaining chain first; among equals, plan order.
      const p = (this.priorityCache ??= this.measuredCriticalPath());
      return p[a]! !== p[b]! ? p[a]! > p[b]! : a < b;
    });
    if (opts.signal) {
      const signal = opts.signal;
      if (signal.aborted) this.abort.abort(signal.reason);
      else signal.addEventListener('abort', () => this.interrupt(signal.reason), { once: true });
    }
  }

  /** A run killed with -9 left temporaries and scratch files behind; its journal says which. True when there were some. */
  removeLeftoversOfKilledRuns(): boolean {
    const leftovers = this.store.pendingSteps();
    for (const pending of leftovers) {
      for (const f of pending.files) fs.rmSync(absolutePath(f, this.objtree), { force: true });
      this.store.endStep(pending.id, pending.tag);
    }
    return leftovers.length > 0;
  }

  /** Stats taken before any step ran (core/state/stat-prefetch.ts), for the decisions until one starts. */
  usePrefetched(stats: PrefetchedStats): void {
    this.probe.usePrefetched(stats);
  }

  execute(): Promise<RunLog> {
    const started = performance.now();
    this.progress.start(this.n);
    for (let i = 0; i < this.n; i++) {
      this.remaining[i] = this.graph.deps[i]!.length;
      if (this.remaining[i] === 0) this.ready.push(i);
    }
    return new Promise<void>((resolve) => {
      this.settle = resolve;
      this.pump();
      this.keeps.start(this.planned, this.keepNote);
    }).then(async () => {
      this.handsOff = this.opts.handOff === true && !this.interrupted && this.diagnostics.length === 0;
      if (!this.handsOff) this.keeps.adopt(this.handedKeeps);
      await this.keeps.settle(this.planned, this.keepNote);
      return this.finish(performance.now() - started);
    });
  }

  private readonly keepNote = (line: string): void => {
    if (this.opts.verbosity === 'verbose') this.progress.note(line);
  };

  private get interrupted(): boolean {
    return this.abort.signal.aborted;
  }

  private interrupt(reason: unknown): void {
    this.stopping = true;
    this.abort.abort(reason);
    queueMicrotask(() => this.pump());
  }

  /**
   * Decides every ready step (up-to-date ones complete at once and release their dependents), then
   * fills free slots from the queue. Re-entered whenever a step ends.
   */
  private pump(): void {
    const spec = this.speculation;
    if (spec?.restartPending && this.running === 0 && !this.stopping) this.decideAgain(spec.takeRestart());
    // A failed prediction: nothing is decided or started until what runs on it has ended.
    while (!this.stopping && !spec?.restartPending) {
      while (!this.stopping && this.ready.length > 0) this.decideStep(this.ready.pop()!);
      if (this.stopping || this.running >= Math.max(1, this.opts.jobs) || this.queue.size === 0) break;
      const i = this.queue.pop();
      if (spec?.isSpeculative(i) && writesInPlace(this.steps[i]!)) spec.defer(i);
      else this.startStep(i);
    }
    if (this.running === 0 && (this.stopping || (this.ready.length === 0 && this.queue.size === 0))) {
      const settle = this.settle;
      this.settle = undefined;
      settle?.();
    }
  }

  private decideStep(i: number): void {
    const step = this.steps[i]!;
    const reason = decide(step, this.identity(step), this.store.step(step.id), this.probe, undefined, this.commandOptions, this.kbuildCheck);
    this.reasons[i] = reason;
    if (reason.kind === 'up-to-date') {
      this.complete(i, 'up-to-date');
    } else if (reason.kind === 'input-missing') {
      this.fail(
        i,
        error('missing-input', `${labelText(step)}: input ${reason.path} does not exist (step ${step.id}, stage ${step.stage}, plugin ${step.plugin})`, {
          plugin: step.plugin,
          hint: 'it is not produced by any step of the plan, so it must exist before the run',
        }),
      );
    } else {
      this.queue.push(i);
    }
  }

  private startStep(i: number): void {
    this.running++;
    this.isRunning[i] = 1;
    // Its commands may change what kbuild's inputs look like, and any file the batch stat'ed before
    // the run: take their stat again from now on.
    this.kbuildCtx?.seen?.clear();
    this.probe.dropPrefetch();
    const step = this.steps[i]!;
    this.progress.stepStarted(step);
    const t0 = performance.now();
    const predicted = this.predict(i);
    this.runStep(step, i)
      .catch((e: unknown): StepEnd => ({
        kind: 'failed',
        diagnostic: error('step-failed', `${labelText(step)} failed (step ${step.id}, stage ${step.stage}, plugin ${step.plugin}): ${(e as Error).message}`, {
          plugin: step.plugin,
        }),
      }))
      .then((end) => {
        this.running--;
        this.isRunning[i] = 0;
        if (predicted) end = this.settlePrediction(i, end);
        // Begun on outputs a failed prediction has since replaced: a failure on them is no failure.
        if (end.kind === 'failed' && this.speculation?.isStale(i)) end = { kind: 'stale' };
        // ... and what they wrote since the start.
        this.kbuildCtx?.seen?.clear();
        this.durations[i] = performance.now() - t0;
        if (end.kind === 'ok' && !end.unchanged) this.announceDelegated(step);
        if (end.kind === 'ok') this.complete(i, end.unchanged ? 'built-unchanged' : 'built');
        else if (end.kind === 'failed' && this.speculation?.isSpeculative(i)) this.heldFailures.set(i, end.diagnostic);
        else if (end.kind === 'failed') this.fail(i, end.diagnostic);
        else {
          // Interrupted, or stale (dropped: decided again once nothing runs).
          this.outcomes[i] = 'interrupted';
          this.progress.stepDone(step);
        }
        this.pump();
      });
  }

  /** The quiet lines of a delegated step whose outputs kbuild changed (held back until now). */
  private announceDelegated(step: Step): void {
    if (!step.delegated || this.opts.verbosity !== 'normal') return;
    for (const c of this.ranCommands.get(step.id) ?? step.commands) if (c.label) this.progress.note(quietLine(c.label));
  }

  private complete(i: number, outcome: Outcome): void {
    this.outcomes[i] = outcome;
    this.progress.stepDone(this.steps[i]!);
    this.release(i);
  }

  private release(i: number): void {
    if (this.released[i]) return;
    this.released[i] = 1;
    for (const d of this.graph.dependents[i]!) if (--this.remaining[d]! === 0) this.ready.push(d);
  }

  /**
   * A likelyUnchanged step starting: when its outputs on disk are what its last run wrote, under the
   * same command, its dependents are released now, to run on those outputs (./speculation.ts).
   */
  private predict(i: number): boolean {
    const step = this.steps[i]!;
    if (!this.speculation || !step.likelyUnchanged || writesInPlace(step)) return false;
    if (!outputsAsRecorded(step, this.identity(step), this.store.step(step.id), this.probe)) return false;
    this.speculation.predict(i);
    if (this.opts.verbosity === 'verbose') this.progress.note(`kpipe: ${labelText(step)}: the steps after it start on its last outputs while it runs (${step.likelyUnchanged})`);
    this.release(i);
    return true;
  }

  /**
   * The predicted step ended. The same outputs: what started on them stands, and what waited may
   * start. Others, or none: what runs on the old ones is stale, and everything downstream is decided
   * again once nothing runs (a failure also takes back the release).
   */
  private settlePrediction(i: number, end: StepEnd): StepEnd {
    const spec = this.speculation!;
    if (end.kind === 'ok' && end.unchanged) {
      for (const d of spec.confirm(i)) this.queue.push(d);
      for (const [d, diagnostic] of this.heldFailures) {
        if (spec.isSpeculative(d)) continue;
        this.heldFailures.delete(d);
        this.fail(d, diagnostic);
      }
      return end;
    }
    // Other outputs were refuted in runStep, the moment they were renamed into place; a failure (or
    // an interruption) is refuted here, and takes back the release: its dependents wait for it again.
    if (spec.isPredicted(i)) this.refute(i);
    if (end.kind !== 'ok') this.released[i] = 0;
    return end;
  }

  /**
   * Called the moment a step's outputs are in place, before anything else may end: when it was
   * predicted and wrote others, whatever still runs on the old ones is stale from here on.
   */
  private refuteIfChanged(i: number, end: StepEnd): StepEnd {
    if (this.speculation?.isPredicted(i) && !(end.kind === 'ok' && end.unchanged)) this.refute(i);
    return end;
  }

  private refute(i: number): void {
    const count = this.speculation!.refute(i, (c) => this.isRunning[c] === 1);
    if (this.opts.verbosity === 'verbose') this.progress.note(`kpipe: ${labelText(this.steps[i]!)} came out different: the ${count} steps after it are decided again`);
  }

  /** After a failed prediction, with nothing running: the steps downstream wait and are decided anew. */
  private decideAgain(again: Set<number>): void {
    let counted = 0;
    for (const c of again) {
      if (this.outcomes[c] !== undefined) counted++;
      this.outcomes[c] = undefined;
      this.reasons[c] = undefined;
      this.released[c] = 0;
      this.heldFailures.delete(c);
    }
    this.progress.stepsAgain(counted);
    this.ready = this.ready.filter((c) => !again.has(c));
    this.queue.retain((c) => !again.has(c));
    for (const c of [...again].sort((a, b) => a - b)) {
      this.remaining[c] = this.graph.deps[c]!.filter((d) => this.released[d] === 0).length;
      if (this.remaining[c] === 0) this.ready.push(c);
    }
  }

  private fail(i: number, diagnostic: Diagnostic): void {
    this.outcomes[i] = 'failed';
    this.diagnostics.push(diagnostic);
    this.progress.stepDone(this.steps[i]!);
    if (!this.opts.keepGoing) this.stopping = true;
  }

  private identity(step: Step): string {
    let id = this.identities.get(step.id);
    if (id === undefined) this.identities.set(step.id, (id = sha256(identityText(step, this.identityContext))));
    return id;
  }

  /** Runs the commands of a step that must run, on temporaries, and puts the outputs in place. */
  private async runStep(step: Step, index: number): Promise<StepEnd> {
    const t0 = performance.now();
    // What the step reads, as it is now that its dependencies are done: this is what the record keeps.
    const inputs: string[] = [];
    for (const p of step.inputs) {
      const h = this.probe.hash(p);
      if (h === undefined) return { kind: 'failed', diagnostic: this.stepError(step, undefined, `input ${p} does not exist`) };
      inputs.push(p, h);
    }
    const previous = this.store.step(step.id);
    // kbuild's own commands write their outputs in place (ExecCommand.kbuildWrites): no temporaries for those.
    const inPlace = kbuildWrittenOutputs(step);
    const temps = step.delegated ? undefined : new TempOutputs(inPlace.length > 0 ? step.outputs.filter((o) => !inPlace.includes(o)) : step.outputs, this.objtree, this.tag);
    const scratch = step.scratch ?? [];
    for (const o of step.outputs) this.makeDir(path.dirname(absolutePath(o, this.objtree)));
    // A step that writes nothing is a check (relocs_check.sh, ...): cheap, and its output is the point.
    // Delegated steps are kbuild's to decide: never cached. A kbuild command within a step
    // (init/version-timestamp.o in the first link) is keyed by kbuild's record of it, and a hit
    // restores what it wrote in place too, through temporaries of their own.
    const cacheable = temps !== undefined && this.opts.cache !== undefined && step.outputs.length > 0;
    // Whatever kbuild does now, what kpipe kept of its inputs no longer answers (kill -9 included).
    const startedMs = Date.now();
    if (step.kbuildInputs) forgetKbuildInputs(this.stateDir, step.id);
    const query = cacheable ? this.cacheQueryFor(step, inputs, inPlace) : undefined;
    const restoreTemps = query && inPlace.length > 0 ? new TempOutputs(step.outputs, this.objtree, this.tag) : temps;
    if (temps) {
      this.removeStrayTemporaries(step);
      const restoreOnly = restoreTemps === temps ? [] : inPlace.map((o) => restoreTemps!.temps.get(o)!);
      this.store.beginStep({ id: step.id, tag: this.tag, files: [...temps.temps.values(), ...restoreOnly, ...scratch] });
    }
    let end: StepEnd | undefined;
    const deadline = this.deadline();
    try {
      if (query) {
        const hit = await this.opts.cache!.restore(query, (o) => restoreTemps!.tempAbsolute(o), this.abort.signal);
        if (this.interrupted) return (end = { kind: 'interrupted' });
        if (hit && this.speculation?.isStale(index)) return (end = { kind: 'stale' });
        if (hit) return (end = this.refuteIfChanged(index, this.putRestored(step, restoreTemps!, inputs, previous, performance.now() - t0, hit)));
      }
      const narrow = step.kbuildNarrow ? this.narrowPlan(step) : undefined;
      let done = false;
      if (narrow) {
        const before = narrowStamps(narrow, this.objtree);
        const commands = narrowCommands(step.plugin, narrow, step.kbuildNarrow!);
        end = await this.runCommands(step, commands, temps, deadline);
        if (end?.kind === 'interrupted') return end;
        // kbuild is the judge: whatever the narrow make did not do as its whole traversal would, or
        // failed at (a compile error included), the traversal does, and reports.
        const missed = end?.kind === 'failed' ? `${end.diagnostic.message}${(end.diagnostic.related ?? []).map((r) => `\n${r.message}`).join('')}` : narrowMissed(narrow, this.objtree, before);
        if (missed === undefined) {
          this.ranCommands.set(step.id, commands);
          done = true;
        } else if (this.opts.verbosity === 'verbose') this.progress.note(`kpipe: ${step.id}: the narrow make missed (${missed}): asking make for everything`);
      }
      if (!done) {
        end = await this.runCommands(step, step.commands, temps, deadline);
        if (end) return end;
      }
      if (this.interrupted) return (end = { kind: 'interrupted' });
      if (step.delegated) {
        end = this.recordDelegated(step, inputs, previous, performance.now() - t0);
        if (end.kind === 'ok' && step.kbuildInputs) {
          // Made beside the steps this one releases, on a worker when large (core/running/kbuild-keeps.ts).
          const keep = { step, identity: this.identity(step), ctx: this.kbuildContext(), startedMs, endedMs: Date.now(), planned: this.planned };
          if (this.opts.handOff && step.replan) this.handedKeeps.add(keep);
          else {
            this.keeps.add(keep);
            this.keeps.start(this.planned, this.keepNote);
          }
        }
        return end;
      }
      // Begun on a predicted step's old outputs, which it has since replaced: it may have read either.
      if (this.speculation?.isStale(index)) return (end = { kind: 'stale' });
      end = this.refuteIfChanged(index, this.putInPlace(step, temps!, inPlace, inputs, previous, performance.now() - t0));
      // Stored under kbuild's records as the run left them: they describe the outputs stored.
      const storeAs = cacheable && inPlace.length > 0 ? this.cacheQueryFor(step, inputs, inPlace) : query;
      if (storeAs && end.kind === 'ok') await this.storeInCache(step, storeAs);
      return end;
    } finally {
      deadline.dispose();
      for (const s of scratch) fs.rmSync(absolutePath(s, this.objtree), { force: true });
      if (end?.kind !== 'ok') {
        if (temps) {
          for (const t of new Set([...temps.temps.values(), ...restoreTemps!.temps.values()])) fs.rmSync(absolutePath(t, this.objtree), { force: true });
          this.store.endStep(step.id, this.tag);
        }
        // kbuild may have half-written its outputs in place: measure them again when next asked.
        for (const o of step.outputs) this.probe.forget(o);
      }
    }
  }

  /** Runs commands in order; the first failure (or the interruption) ends the step. */
  private async runCommands(step: Step, commands: readonly Command[], temps: TempOutputs | undefined, deadline: { signal: AbortSignal; expired: () => boolean }): Promise<StepEnd | undefined> {
    for (const command of commands) {
      if (this.interrupted) return { kind: 'interrupted' };
      const end = await this.runCommand(step, command, temps, deadline.signal);
      if (deadline.expired()) return { kind: 'failed', diagnostic: this.timedOut(step, command, end) };
      if (end) return end;
    }
    return this.interrupted ? { kind: 'interrupted' } : undefined;
  }

  /** For the compile phase: how little make may be asked (core/state/kbuild-narrow.ts); -v tells why not. */
  private narrowPlan(step: Step): NarrowCompile | undefined {
    const plan = narrowCompile(step, this.identity(step), this.kbuildContext());
    if (typeof plan !== 'string') {
      if (this.opts.verbosity === 'verbose') this.progress.note(`kpipe: ${step.id}: narrowed to what ${plan.changed.length === 1 ? plan.changed[0] : `${plan.changed.length} changed files`} reach${plan.changed.length === 1 ? 'es' : ''} (${plan.builds.length} director${plan.builds.length === 1 ? 'y' : 'ies'})`);
      return plan;
    }
    if (this.opts.verbosity === 'verbose') this.progress.note(`kpipe: ${step.id}: the whole traversal: ${plan}`);
    return undefined;
  }

  /** The step's cache lookup: its inputs, and kbuild's records for what its kbuild commands write in place. */
  private cacheQueryFor(step: Step, inputs: readonly string[], inPlace: readonly string[]): CacheQuery | undefined {
    const kbuild = inPlace.length > 0 ? kbuildKeyInputs(step, this.probe, this.objtree) : [];
    return kbuild && cacheQuery(step, this.identity(step), kbuild.length > 0 ? [...inputs, ...kbuild] : inputs, this.objtree, this.opts);
  }

  /**
   * The signal a step's commands run under: the run's own, plus `--step-timeout`. Aborting it makes the
   * runner stop the command's whole process group (SIGTERM, then SIGKILL), as an interruption does.
   */
  private deadline(): { signal: AbortSignal; expired: () => boolean; dispose: () => void } {
    const seconds = this.opts.stepTimeoutSeconds;
    if (seconds === undefined) return { signal: this.abort.signal, expired: () => false, dispose: () => {} };
    const controller = new AbortController();
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      controller.abort('step-timeout');
    }, seconds * 1000);
    const follow = () => controller.abort(this.abort.signal.reason);
    if (this.abort.signal.aborted) follow();
    else this.abort.signal.addEventListener('abort', follow, { once: true });
    return {
      signal: controller.signal,
      expired: () => expired && !this.interrupted,
      dispose: () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', follow);
      },
    };
  }

  /** The command's own failure report (its command line and output so far), as a timeout. */
  private timedOut(step: Step, command: Command, end: StepEnd | undefined): Diagnostic {
    const seconds = this.opts.stepTimeoutSeconds!;
    const how = `timed out after ${seconds} s (--step-timeout ${seconds}); its processes were killed`;
    const label = command.label ?? stepLabel(step);
    const cause = end?.kind === 'failed' ? end.diagnostic : undefined;
    return error('step-timeout', `${label.tag} ${label.target} ${how} (step ${step.id}, stage ${step.stage}, plugin ${cause?.plugin ?? step.plugin})`, {
      plugin: cause?.plugin ?? step.plugin,
      related: cause?.related ?? [],
    });
  }

  /** Runs one command; returns an end only when the step cannot go on. */
  private async runCommand(step: Step, command: Command, temps: TempOutputs | undefined, signal: AbortSignal): Promise<StepEnd | undefined> {
    const action = command.action;
    if (action.kind === 'builtin') {
      this.progress.command(step, command, `kpipe builtin ${shellJoin([action.name, ...action.args])}`);
      const fn = getBuiltin(action.name);
      if (!fn) return { kind: 'failed', diagnostic: this.stepError(step, command, `unknown builtin '${action.name}'`) };
      try {
        await fn([...action.args], {
          objtree: this.objtree,
          resolve: (p) => (temps ? temps.resolve(p) : absolutePath(p, this.objtree)),
          signal,
          env: this.commandEnv(undefined),
        });
      } catch (e) {
        if (this.interrupted) return { kind: 'interrupted' };
        return { kind: 'failed', diagnostic: this.stepError(step, command, 'failed', e instanceof Error ? e.message : String(e)) };
      }
      return undefined;
    }

    const display = displayCommand(action, this.opts.srctree, this.commandEnv(undefined));
    // kbuild prints `CC init/version-timestamp.o` only when it compiles: a delegated step's quiet line
    // waits until we know whether kbuild changed anything (see announceDelegated), and so does a
    // kbuild command's within a step.
    const holdLine = (step.delegated || action.kbuildWrites !== undefined) && this.opts.verbosity === 'normal';
    if (!holdLine) this.progress.command(step, command, display);
    const before = action.kbuildWrites?.map((o) => this.probe.hash(o));
    let cwd = this.objtree;
    if (action.cwd === 'srctree') {
      if (!this.opts.srctree) return { kind: 'failed', diagnostic: this.stepError(step, command, 'runs in the source tree, but no source tree is known') };
      cwd = path.resolve(this.opts.srctree);
    }
    if (temps && action.inPlace !== undefined && !fs.existsSync(temps.tempAbsolute(action.inPlace))) {
      // Never let an in-place tool work on the file a previous run left: that is seed 002's bug.
      return { kind: 'failed', diagnostic: this.stepError(step, command, `edits ${action.inPlace} in place, but no earlier command of the step wrote it`) };
    }
    const argv = temps && !action.kbuildWrites ? temps.substitute(action.argv, cwd) : action.argv;
    const stdoutFile = action.stdout === undefined ? undefined : temps ? temps.resolve(action.stdout) : absolutePath(action.stdout, this.objtree);
    const outcome = await this.runner.run({ argv, cwd, env: this.commandEnv(action.env), ...(stdoutFile ? { stdoutFile } : {}) }, signal);
    if (this.interrupted) return { kind: 'interrupted' };
    if (outcome.spawnError !== undefined || outcome.exitCode !== 0) {
      return { kind: 'failed', diagnostic: this.stepError(step, command, howItFailed(outcome), outcome.output) };
    }
    if (before && action.kbuildWrites) {
      for (const o of action.kbuildWrites) this.probe.forget(o);
      const changed = action.kbuildWrites.some((o, k) => this.probe.hash(o) !== before[k]);
      if (changed && holdLine && command.label) this.progress.note(quietLine(command.label));
    }
    // kbuild sends some tools' chatter to /dev/null (objcopy's "empty loadable segment"); shown on failure only.
    if (outcome.output !== '' && !action.quietOnSuccess) {
      this.progress.output(outcome.output);
      if (this.opts.cache) this.toolOutput.set(step.id, (this.toolOutput.get(step.id) ?? '') + outcome.output);
    }
    return undefined;
  }

  private baseEnv: NodeJS.ProcessEnv | undefined;
  /** The process environment, then kpipe's (ARCH, ...), then the command's own. */
  private commandEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
    this.baseEnv ??= { ...process.env, ...this.opts.env };
    return extra ? { ...this.baseEnv, ...extra } : this.baseEnv;
  }

  /** A cache hit: its temporaries are put in place exactly as a run's would be (early cutoff, journal). */
  private putRestored(step: Step, temps: TempOutputs, inputs: string[], previous: ReturnType<StateStore['step']>, durationMs: number, hit: Restored): StepEnd {
    this.restored.set(step.id, hit.source);
    if (this.opts.verbosity !== 'quiet') this.progress.note(quietLine({ tag: 'CACHED', target: stepLabel(step).target }));
    if (hit.log !== '') this.progress.output(hit.log);
    return this.putInPlace(step, temps, [], inputs, previous, durationMs, hit.records);
  }

  /** After a step ran: its outputs (in place, just hashed) go to the cache; the cache never fails the step. */
  private async storeInCache(step: Step, query: CacheQuery): Promise<void> {
    const outputs = [];
    for (const o of step.outputs) {
      const rec = this.store.file(o);
      if (!rec) return;
      const executable = (fs.statSync(absolutePath(o, this.objtree)).mode & 0o111) !== 0;
      outputs.push({ path: o, hash: rec.hash, size: rec.size, ...(executable ? { executable } : {}) });
    }
    const log = this.toolOutput.get(step.id) ?? '';
    this.toolOutput.delete(step.id);
    await this.opts.cache!.store(query, outputs, log, (o) => absolutePath(o, this.objtree), this.abort.signal);
  }

  /**
   * Hashes the temporaries, renames them over the outputs, then (and only then) records the step.
   * `inPlace`: outputs kbuild commands of the step wrote in place, hashed where they are.
   * `known`: the hashes a cache hit brought (checked on the way in), so they are not computed again.
   */
  private putInPlace(step: Step, temps: TempOutputs, inPlace: readonly string[], inputs: string[], previous: ReturnType<StateStore['step']>, durationMs: number, known?: Map<string, FileRecord>): StepEnd {
    const fresh: [string, FileRecord][] = [];
    const kbuildHashes = new Map<string, string>();
    for (const o of inPlace) {
      const h = this.probe.hash(o);
      if (h === undefined) return { kind: 'failed', diagnostic: this.stepError(step, undefined, `kbuild succeeded but did not write ${o}`) };
      kbuildHashes.set(o, h);
    }
    for (const o of step.outputs) {
      if (kbuildHashes.has(o)) continue;
      const rec = known?.get(o) ?? hashAndStat(temps.tempAbsolute(o));
      if (!rec) return { kind: 'failed', diagnostic: this.stepError(step, undefined, `its commands succeeded but did not write ${o}`) };
      // kpipe wrote it a moment ago: the racy-stat caution is for files others write.
      fresh.push([o, { ...rec, trusted: true }]);
    }
    for (const [o] of fresh) fs.renameSync(temps.tempAbsolute(o), absolutePath(o, this.objtree));
    for (const [o, rec] of fresh) this.probe.wrote(o, rec);
    // In the step's order, as the up-to-date rule looks them up.
    const outputs: string[] = [];
    const freshHash = new Map(fresh.map(([o, rec]) => [o, rec.hash]));
    for (const o of step.outputs) outputs.push(o, kbuildHashes.get(o) ?? freshHash.get(o)!);
    this.store.recordStep({ id: step.id, command: this.identity(step), inputs, outputs, durationMs: Math.round(durationMs), fingerprint: commandFingerprint(step, this.commandOptions) }, [], this.tag);
    return { kind: 'ok', unchanged: sameOutputs(previous?.outputs, outputs) };
  }

  /** What a delegated step's make would be asked (core/state/kbuild-inputs.ts). */
  private kbuildContext(): KbuildContext {
    return (this.kbuildCtx ??= {
      objtree: this.objtree,
      ...(this.opts.srctree ? { srctree: path.resolve(this.opts.srctree) } : {}),
      stateDir: this.stateDir,
      env: this.commandEnv(undefined),
      programs: this.opts.kbuildPrograms ?? [],
      ...(this.opts.kbuildExtmod ? { extmod: this.opts.kbuildExtmod } : {}),
      seen: new Map(),
    });
  }

  private readonly kbuildCheck = (step: Step, identity: string): KbuildCheck => checkKbuildInputs(step, identity, this.kbuildContext());

  /** kbuild wrote the outputs in place; hash them (unchanged stat: unchanged hash) and record. */
  private recordDelegated(step: Step, inputs: string[], previous: ReturnType<StateStore['step']>, durationMs: number): StepEnd {
    const outputs: string[] = [];
    for (const o of step.outputs) {
      this.probe.forget(o);
      const h = this.probe.hash(o);
      if (h === undefined) return { kind: 'failed', diagnostic: this.stepError(step, undefined, `kbuild succeeded but did not write ${o}`) };
      outputs.push(o, h);
    }
    this.store.recordStep({ id: step.id, command: this.identity(step), inputs, outputs, durationMs: Math.round(durationMs), fingerprint: commandFingerprint(step, this.commandOptions) }, []);
    return { kind: 'ok', unchanged: sameOutputs(previous?.outputs, outputs) };
  }

  private stepError(step: Step, command: Command | undefined, how: string, output?: string): Diagnostic {
    const label = command?.label ?? stepLabel(step);
    const plugin = command?.plugin ?? step.plugin;
    const related = [];
    if (command) {
      const a = command.action;
      related.push({ message: `command: ${a.kind === 'exec' ? displayCommand(a, this.opts.srctree, this.commandEnv(undefined)) : `kpipe builtin ${shellJoin([a.name, ...a.args])}`}` });
    }
    if (output !== undefined && output.trim() !== '') related.push({ message: `output:\n${output.trimEnd()}` });
    return error('step-failed', `${label.tag} ${label.target} failed: ${how} (step ${step.id}, stage ${step.stage}, plugin ${plugin})`, {
      plugin,
      related,
    });
  }

  private makeDir(dir: string): void {
    if (this.madeDirs.has(dir)) return;
    fs.mkdirSync(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  /** Temporaries of this step's outputs from earlier runs (a tool orphaned by `kill -9` may add one late). */
  private removeStrayTemporaries(step: Step): void {
    for (const o of step.outputs) {
      const dir = path.dirname(absolutePath(o, this.objtree));
      let listing = this.tempListings.get(dir);
      if (!listing) {
        listing = new Map();
        for (const entry of fs.readdirSync(dir)) {
          const base = tempBase(entry);
          if (base !== undefined) (listing.get(base) ?? listing.set(base, []).get(base)!).push(entry);
        }
        this.tempListings.set(dir, listing);
      }
      const base = path.basename(o);
      for (const entry of listing.get(base) ?? []) fs.rmSync(path.join(dir, entry), { force: true });
      listing.delete(base);
    }
  }

  /** Critical path in measured milliseconds where the journal knows the steps' last durations. */
  private measuredCriticalPath(): number[] {
    const known: number[] = [];
    for (const s of this.steps) {
      const r = this.store.step(s.id);
      if (r) known.push(r.durationMs);
    }
    known.sort((a, b) => a - b);
    const typical = known.length > 0 ? Math.max(1, known[known.length >> 1]!) : 1;
    return criticalPathLengths(this.steps, this.graph.dependents, (s) => {
      const r = this.store.step(s.id);
      return r ? Math.max(1, r.durationMs) : typical * Math.max(1, s.commands.length);
    });
  }

  private finish(durationMs: number): RunLog {
    const entries: RunLogStep[] = [];
    let ran = 0;
    let upToDate = 0;
    let failed = 0;
    let cached = 0;
    for (let i = 0; i < this.n; i++) {
      let outcome = this.outcomes[i];
      if (outcome === undefined) {
        const blocked = this.graph.deps[i]!.some((d) => this.outcomes[d] === 'failed' || this.outcomes[d] === 'dependency-failed');
        outcome = this.outcomes[i] = blocked ? 'dependency-failed' : 'not-run';
      }
      const entry = runLogStep(this.steps[i]!, outcome, this.reasons[i], this.durations[i]!);
      const source = this.restored.get(this.steps[i]!.id);
      if (source) {
        entry.ran = false;
        entry.cached = source;
      }
      if (outcome === 'up-to-date') upToDate++;
      else if (source) cached++;
      else if (outcome === 'built' || outcome === 'built-unchanged') ran++;
      else if (outcome === 'failed') failed++;
      entries.push(entry);
    }
    this.opts.cache?.finish();
    const incomplete = entries.some((e) => e.outcome === 'interrupted' || e.outcome === 'not-run');
    const status: RunStatus = this.interrupted && incomplete ? 'interrupted' : failed > 0 || this.diagnostics.length > 0 ? 'failed' : 'ok';
    const seconds = (durationMs / 1000).toFixed(1);
    this.progress.finish(
      status === 'ok'
        ? okSummary(ran, this.n, upToDate, cached, durationMs)
        : status === 'failed'
          ? `${failed} step(s) failed; ${ran} ran, ${upToDate} up to date (${seconds} s)`
          : `interrupted (${seconds} s)`,
      status === 'ok',
    );
    return {
      version: 1,
      objtree: this.objtree,
      startedAt: this.startedAt.toISOString(),
      durationMs: Math.round(durationMs),
      status,
      jobs: this.opts.jobs,
      targets: this.opts.targets ?? [],
      counts: { total: this.n, ran, upToDate, failed, ...(cached > 0 ? { cached } : {}) },
      steps: entries,
    };
  }
}

/**
 * kbuild's own commands write in place with their own records, and a step without outputs acts on
 * the tree itself (a check, make's mtimes): they never run on a prediction, nor are predicted.
 */
function writesInPlace(step: Step): boolean {
  return step.delegated === true || step.replan === true || step.outputs.length === 0 || kbuildWrittenOutputs(step).length > 0;
}

function labelText(step: Step): string {
  const l = stepLabel(step);
  return `${l.tag} ${l.target}`;
}

function sameOutputs(before: readonly string[] | undefined, after: readonly string[]): boolean {
  return before !== undefined && before.length === after.length && before.every((x, k) => x === after[k]);
}

function howItFailed(o: RunOutcome): string {
  if (o.spawnError !== undefined) return o.spawnError;
  if (o.signal) return `killed by ${o.signal}`;
  return `exited with status ${o.exitCode}`;
}

/**
 * The command as a person would type it (`make V=1` style): declared paths, not temporaries. With
 * `inherited` (the environment the command would get anyway), only the variables the command sets or
 * changes are shown: a delegated compile carries kbuild's whole exported environment, most of it the
 * user's own (issue 16: one line of 10,659 characters).
 */
export function displayCommand(a: ExecCommand, srctree?: string, inherited?: NodeJS.ProcessEnv): string {
  const own = a.env && a.envName === undefined ? Object.entries(a.env).filter(([k, v]) => inherited?.[k] !== v) : [];
  const env = own.map(([k, v]) => `${k}=${shellQuote(v)} `).join('');
  const redirect = a.stdout !== undefined ? ` > ${shellQuote(a.stdout)}` : '';
  const cd = a.cwd === 'srctree' ? `cd ${shellQuote(srctree ?? '$srctree')} && ` : '';
  // A shell comment: the line stays one sh can run (in that environment).
  const named = a.envName !== undefined ? `  # in ${a.envName.replace(/\n/g, ' ')}` : '';
  return `${cd}${env}${shellJoin(a.argv)}${redirect}${named}`;
}

/** Max-heap of step indices: longest critical path first, then graph order. */
