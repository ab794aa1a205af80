// A step is plain data: what to run, what it reads, what it writes, who asked for it. Everything that
// decides (up-to-date), orders (step graph) or runs (executor) works on these values and nothing
// else, so the same plan can be explained, executed, or exported to ninja.
//
// Paths: every path in a step is canonical (core/paths.ts): relative to the output tree when inside
// it (`vmlinux`, never `./vmlinux`), absolute otherwise (sources in the srctree, tools).

/** kbuild's quiet line: `  LD      .tmp_vmlinux1` is `{ tag: 'LD', target: '.tmp_vmlinux1' }`. */
export interface QuietLabel {
  tag: string;
  target: string;
}

/** Runs a program. Never through a shell: argv[0] is looked up on PATH, the rest are passed as is. */
export interface ExecCommand {
  kind: 'exec';
  argv: string[];
  /** Extra environment for this command only (e.g. LLVM_OBJCOPY for pahole). */
  env?: Record<string, string>;
  /**
   * What `env` is, when it is a whole environment rather than a few variables (a delegated compile
   * runs in kbuild's exported environment, thousands of characters): `-v` and failure reports then
   * name it instead of listing it. Display only: the up-to-date rule still compares every variable.
   */
  envName?: string;
  /** Standard output goes to this file (one of the step's outputs), like `nm -n x > x.syms`. */
  stdout?: string;
  /**
   * The tool modifies this file in place (pahole -J, resolve_btfids, sorttable). It must be one of the
   * step's outputs, already written by an earlier command of the same step: the executor runs the
   * tool on the temporary copy, never on the file a previous run left behind.
   */
  inPlace?: string;
  /** The tool's output is known noise (kbuild's `2>/dev/null`): printed only if the command fails. */
  quietOnSuccess?: boolean;
  /** Working directory: the output tree (default) or the source tree. */
  cwd?: 'objtree' | 'srctree';
  /**
   * The command is kbuild's own make, run as one command of a larger step (link-vmlinux.sh compiles
   * init/version-timestamp.o at the start of the link, and only then): it writes these outputs of the
   * step in place, with its own .cmd records, instead of temporaries, and its quiet line is printed
   * only when it changed them, as kbuild prints `CC` only when it compiles.
   */
  kbuildWrites?: string[];
  /**
   * Files this kbuild command regenerates with the time of the run: kbuild's filechk of
   * include/generated/utsversion.h, from KBUILD_BUILD_TIMESTAMP or the clock. The step cache keys a
   * step with kbuildWrites by the dependencies kbuild recorded for what it wrote (its `.cmd` files),
   * less these: a link restored from the cache carries the time of the run that stored it, as a link
   * that was never redone would.
   */
  kbuildStamps?: string[];
}

/**
 * Work done in-process by kpipe itself (comparisons, copies, small binary patches): principle 4 of
 * DESIGN.md, no GNU-only `cmp --silent` or `dd conv=notrunc`. `name` selects a function registered in
 * core/running/builtins.ts; args are plain strings so the step stays data (and exports to ninja as
 * `kpipe builtin NAME ARGS...`).
 */
export interface BuiltinCommand {
  kind: 'builtin';
  name: string;
  args: string[];
}

export type Action = ExecCommand | BuiltinCommand;

/**
 * One command of a step, with the quiet line it prints and the plugin that contributed it. A command
 * without a label continues the previous one's line, as `nm -n vmlinux | sed -f mksysmap` is one
 * `NM System.map` in kbuild's output but two commands here (no shell pipeline needed).
 */
export interface Command {
  label?: QuietLabel;
  plugin: string;
  action: Action;
  /** Why this command exists, for `kpipe explain` ("kallsyms pass 1: symbols of .tmp_vmlinux1"). */
  note?: string;
}

/**
 * The unit of execution and of the up-to-date decision. Most steps have one command; a step has
 * several when later commands edit its output in place (LD then BTFIDS then SORTTAB on one image, or
 * LD [M] then BTF [M] on a module): those run together on a temporary file and are renamed into place
 * at the end, so a rerun always starts from the original inputs (principle 1, seed 002).
 */
/** Which of kbuild's records answer for a delegated step (Step.kbuildInputs). */
export type KbuildScope = 'tree' | 'outputs';

/**
 * How to ask kbuild's own makefiles for less than the compile phase's whole traversal when only
 * sources changed (Step.kbuildNarrow, core/state/kbuild-narrow.ts).
 */
export interface KbuildNarrow {
  make: string;
  jobs: number;
  /** The source tree, whose scripts/Makefile.* are run. */
  srctree: string;
  /** The environment kbuild's top Makefile exports to its sub-makes (Toolchain.kbuildEnv). */
  env: Readonly<Record<string, string>>;
  /** Variables of the whole make's command line, given to each narrow make too (`KBUILD_MODULES=1`). */
  variables: readonly string[];
}

export interface Step {
  /** Unique and stable across runs: it keys the step's state in `.kpipe/`. */
  id: string;
  stage: string;
  /** The plugin that created the step (each command names its own contributor too). */
  plugin: string;
  commands: Command[];
  /** Files read. An input is either produced by another step or is a source that must exist. */
  inputs: string[];
  /** Files written, each atomically (temporary name in the same directory, then rename). */
  outputs: string[];
  /** Files the step may create while running and removes afterwards; `kpipe clean` removes them too. */
  scratch?: string[];
  /**
   * The command is kbuild itself (`make -f scripts/Makefile.build obj=init init/version-timestamp.o`):
   * kbuild writes the outputs in place and keeps its own `.cmd` records, so the executor neither
   * redirects the outputs to temporary names nor skips the step on its own say-so; it still hashes
   * the outputs afterwards for early cutoff.
   */
  delegated?: boolean;
  /**
   * A delegated step kpipe may take as current without asking make, while the files kbuild's `.cmd`
   * records name, the Makefiles, the configuration, the tools and the environment are as they were
   * after its last success (core/state/kbuild-inputs.ts). The scope says which records: 'tree', every
   * one in the output tree that is not a file another step writes or made from one (the compile
   * phase); 'outputs', those of the step's own outputs. Absent: make is asked every time.
   */
  kbuildInputs?: KbuildScope;
  /**
   * With kbuildInputs 'tree': when only sources and headers changed since the step's last success,
   * kpipe runs kbuild's makefiles for what they reach instead of the step's commands, and the step's
   * commands after all if the narrow make did not remake exactly that (core/state/kbuild-narrow.ts).
   */
  kbuildNarrow?: KbuildNarrow;
  /**
   * The plan itself reads this step's outputs (modules.order, the members of vmlinux.a): `kpipe run`
   * runs such steps first, then plans again before running the rest.
   */
  replan?: boolean;
  /**
   * Made only when a target asks for it (`kpipe run bzImage`), never by a plain `kpipe run`: outputs
   * that are not part of every link, such as the arch's boot image.
   */
  onRequest?: boolean;
  /**
   * The step makes what kbuild's compile phase or `modules_prepare` makes (`scripts/module.lds`),
   * which `make clean` leaves for building external modules: `kpipe clean` keeps its outputs unless
   * `--compile`. Steps with `replan` (the compile phase itself) are kept the same way.
   */
  compilePhase?: boolean;
  /**
   * Most runs leave this step's outputs byte for byte as they were (pahole's BTF after an edit that
   * changes no type): while it runs, the steps after it start on the outputs of its last run, and run
   * again if it writes others (core/running/speculation.ts). The text says why, for `kpipe explain`.
   */
  likelyUnchanged?: string;
}

export function quietLine(label: QuietLabel): string {
  return `  ${label.tag.padEnd(7)} ${label.target}`;
}

/** The outputs of a step that kbuild commands of it write in place (see ExecCommand.kbuildWrites). */
export function kbuildWrittenOutputs(step: Step): string[] {
  const out: string[] = [];
  for (const c of step.commands) if (c.action.kind === 'exec' && c.action.kbuildWrites) out.push(...c.action.kbuildWrites);
  return out;
}

/**
 * The quiet line shows each command's own label; the step's label is its first labelled command's,
 * kbuild's compiles within it aside (`LD .tmp_vmlinux1`, not the `CC init/version-timestamp.o` before it).
 */
export function stepLabel(step: Step): QuietLabel {
  const own = step.commands.find((c) => c.label && !(c.action.kind === 'exec' && c.action.kbuildWrites));
  return (own ?? step.commands.find((c) => c.label))?.label ?? { tag: 'STEP', target: step.id };
}
