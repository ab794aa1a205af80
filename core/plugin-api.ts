// The types a plugin sees. Together with core/hooks.ts this is kpipe's public plugin API: a plugin
// never names another plugin; plugins meet at hooks (core/hooks.ts) and at artifacts (files,
// published under a well-known name).
import type { Command, KbuildNarrow, KbuildScope, Step } from './planning/step.js';
import type { Kconfig } from './planning/kconfig.js';
import type { Toolchain, MakeEnvironment } from './planning/toolchain.js';
import type { PluginOptionValue } from './planning/stage-graph.js';
import type { KpipeHooks } from './hooks.js';
import type { BuiltinFunction } from './running/builtins.js';

export type { Command, Step, QuietLabel, Action, ExecCommand, BuiltinCommand, KbuildNarrow, KbuildScope } from './planning/step.js';
export type { PluginOptionValue } from './planning/stage-graph.js';

/**
 * What a plugin module exports (default export or named `plugin`): this object, or a class whose
 * instances are such objects (constructed once, with no arguments; options come to `apply`).
 */
export interface KpipePlugin {
  /** Unique; used in the DSL (`use NAME`), in every diagnostic and in `kpipe plugins`. */
  name: string;
  description?: string;
  /** Option names the plugin understands; others are reported as errors at the `use` line. */
  options?: Record<string, { description: string; default?: PluginOptionValue }>;
  /**
   * In-process commands the plugin's steps run (`{ kind: 'builtin', name, args }`), by name. kpipe
   * registers them when it loads the plugin, so `kpipe builtin NAME` (what an exported build.ninja
   * runs) finds them too. Names are global: prefix them with the plugin's name.
   */
  builtins?: Readonly<Record<string, BuiltinFunction>>;
  /** Tap the hooks. Called once for every active `use` of the plugin, with that use's context. */
  apply(hooks: KpipeHooks, context: PluginContext): void;
}

/** A step as a plugin describes it; the planner fills in the stage and checks the paths. */
export interface StepSpec {
  /**
   * Unique in the whole plan (it keys the step's state in `.kpipe/`); defaults to
   * `STAGE:FIRST-OUTPUT`, which is. Prefix an id of your own with the stage (`${ctx.stage}:x`).
   */
  id?: string;
  commands: Command[];
  inputs: string[];
  outputs: string[];
  scratch?: string[];
  delegated?: boolean;
  /** For a delegated step: which of kbuild's records tell kpipe it is current (see Step.kbuildInputs). */
  kbuildInputs?: KbuildScope;
  /** With kbuildInputs 'tree': how kbuild may be asked for only what changed sources reach (see Step.kbuildNarrow). */
  kbuildNarrow?: KbuildNarrow;
  /** The plan reads this step's outputs: run it first, then plan again (see Step.replan). */
  replan?: boolean;
  /** Made only when a target names it or a file it writes (see Step.onRequest). */
  onRequest?: boolean;
  /** Kept by `kpipe clean` unless `--compile`: what kbuild's compile phase makes (see Step.compilePhase). */
  compilePhase?: boolean;
  /** Its outputs usually come out as they were: its dependents start while it runs (see Step.likelyUnchanged). */
  likelyUnchanged?: string;
}

/** Files published under well-known names so that plugins meet at artifacts, not at each other. */
export interface Artifacts {
  /** Publish a file (canonical path) under a name, e.g. `vmlinux.btf`. */
  publish(name: string, path: string): void;
  /**
   * The file published under `name`, if the publishing stage is this stage or is ordered before it
   * (`modules: vmlinux.unstripped`). Otherwise `undefined` with the reason in `why`.
   */
  lookup(name: string): { path: string; stage: string } | { why: string };
  /**
   * Every artifact this stage may read (published by this stage, or by a stage it is ordered
   * after), in the order they were published: what a manifest or a signing plugin walks. With a
   * kind, only those: `list('module')` is every `.ko` (no `module:` prefix to hard-code).
   */
  list(kind?: ArtifactKind): PublishedArtifact[];
}

/** What an artifact is, from its name: a key of ARTIFACTS, or 'other' for names org plugins add. */
export type ArtifactKind = 'module' | 'image' | 'unstrippedImage' | 'vmlinuxBtf' | 'systemMap' | 'relocs' | 'other';

export interface PublishedArtifact {
  name: string;
  kind: ArtifactKind;
  /** Canonical: relative to the output tree when inside it. */
  path: string;
  stage: string;
}

/** Well-known artifact names used by the built-in plugins (org plugins may add their own). */
export const ARTIFACTS = {
  /** The linked image before the final objcopy (`vmlinux.unstripped`). */
  unstrippedImage: 'vmlinux.unstripped',
  /** The final image (`vmlinux`). */
  image: 'vmlinux',
  /** vmlinux's BTF as an ET_REL object: enough as the base of module BTF (DESIGN.md section 4). */
  vmlinuxBtf: 'vmlinux.btf',
  /** `System.map`. */
  systemMap: 'System.map',
  /** x86's relocation table for the decompressor (`arch/x86/boot/compressed/vmlinux.relocs`). */
  relocs: 'vmlinux.relocs',
  /** One final module: `module:crypto/crypto.ko` (every .ko is published under its own name). */
  module: (ko: string) => `module:${ko}`,
  /** The inverse of `module`: the .ko an artifact name stands for, or undefined for other names. */
  moduleFile: (name: string): string | undefined => (name.startsWith('module:') ? name.slice('module:'.length) : undefined),
} as const;

/** The kind of an artifact name (ARTIFACTS' keys; a `module:` name is 'module'). */
export function artifactKind(name: string): ArtifactKind {
  if (ARTIFACTS.moduleFile(name) !== undefined) return 'module';
  for (const kind of ['image', 'unstrippedImage', 'vmlinuxBtf', 'systemMap', 'relocs'] as const) if (ARTIFACTS[kind] === name) return kind;
  return 'other';
}

export interface PluginContext {
  /** The plugin's name, as used in the DSL. */
  readonly name: string;
  /** The stage this `use` belongs to. */
  readonly stage: string;
  readonly options: Readonly<Record<string, PluginOptionValue>>;
  readonly kconfig: Kconfig;
  readonly toolchain: Toolchain;
  /** Absolute path of the output tree; undefined when explaining a profile without a tree. */
  readonly objtree: string | undefined;
  readonly srctree: string | undefined;
  readonly make: MakeEnvironment;
  readonly artifacts: Artifacts;
  /** Read a file of the output tree (modules.order, ...); undefined when there is no tree or no file. */
  readFile(canonicalPath: string): string | undefined;
  /** The same, as bytes, for binary formats (the name tables of a thin archive). */
  readBytes(canonicalPath: string): Uint8Array | undefined;
  /** A warning shown once by `run` and `explain`, attributed to this plugin. */
  warn(message: string): void;
}

/** The steps of one stage under construction. */
export interface StageBuilder {
  readonly stage: string;
  addStep(plugin: string, spec: StepSpec): Step;
  /** Steps added so far to this stage, in order. */
  readonly steps: readonly Step[];
}

/** What a link produces: the objects in link-vmlinux.sh's order. */
export interface LinkSpec {
  output: string;
  /** Inside `--whole-archive`: vmlinux.a (or vmlinux.o), .vmlinux.export.o, init/version-timestamp.o. */
  wholeArchive: string[];
  /** Inside `--start-group`/`--end-group`: KBUILD_VMLINUX_LIBS. */
  libraries: string[];
  /** After the group, in order: the kallsyms object, the BTF object, whatever plugins add. */
  objects: string[];
  /** Extra linker flags (e.g. `-Map=vmlinux.map`). */
  flags: string[];
  /** `--strip-debug`: only when every plugin this link serves said it does not need debug info. */
  stripDebug: boolean;
  /** Temporary links are the `.tmp_vmlinuxN` images kallsyms and BTF read. */
  temporary: boolean;
  /** 1, 2, 3 for temporary links; 0 for the final link. */
  number: number;
}

/** A link request. Requests made in the same round with the same flags are served by one link. */
export interface TemporaryLinkRequest {
  plugin: string;
  /** 'required' for pahole (reads DWARF); 'not-needed' for kallsyms (reads symbols only). */
  debugInfo: 'required' | 'not-needed';
  /** For explain: "kallsyms pass 1", "BTF from DWARF". */
  purpose: string;
  /** Position of this request's `onLinked` among the round's: use LINK_READER_ORDER. */
  order: number;
  /**
   * A link of its own under this name, not shared with the round's other requests: link-vmlinux.sh
   * before 6.11 linked `.tmp_vmlinux.btf` and `.tmp_vmlinux.kallsymsN` separately. Links of a round
   * run in request order, so a later one carries the objects an earlier one's `onLinked` set.
   */
  name?: string;
  /** Called once the link is planned: add steps that read it, or request the next link. */
  onLinked(image: LinkedImage, session: LinkSession): void;
}

export interface LinkedImage {
  path: string;
  number: number;
  /** Every purpose this one link serves (seed 004's merge, visible in explain). */
  purposes: string[];
}

/** The vmlinux link of one stage: temporary links, then the final link. */
export interface LinkSession {
  readonly stage: string;
  readonly builder: StageBuilder;
  requestTemporaryLink(request: TemporaryLinkRequest): void;
  /**
   * Put an object into every later link of this session, replacing the one set earlier under the same
   * key (kallsyms pass N+1 replaces pass N). `order` sorts the objects: use LINK_OBJECT_ORDER.
   */
  setLinkObject(key: string, path: string, order: number): void;
  /** The argv of a link that is not planned as a step (kallsyms' conditional extra pass). */
  describeLink(output: string, stripDebug: boolean): { command: Command; inputs: string[] };
}

/**
 * An image being produced by a step (the final vmlinux.unstripped link, or one module): later
 * commands run on the temporary file before it is renamed into place, so an edit never sees a
 * previous run's output (seed 002).
 */
export interface ImageBuilder {
  readonly path: string;
  readonly stage: string;
  /** The step that produces the image; its commands so far. */
  readonly step: Step;
  /** A tool that edits the image in place (resolve_btfids, sorttable, pahole -J on a module). */
  edit(plugin: string, command: Omit<Command, 'plugin'>, extraInputs?: string[]): void;
  /** A command that reads the image and writes other files (System.map), in this position. */
  produce(plugin: string, command: Omit<Command, 'plugin'>, outputs: string[], extraInputs?: string[], scratch?: string[]): void;
}

/** The objcopy that turns vmlinux.unstripped into vmlinux; plugins add flags and inputs. */
export interface ObjcopySpec {
  input: string;
  output: string;
  /** objcopy options; none at all means vmlinux is a byte-for-byte copy (a 6.12 tree). */
  flags: string[];
  /** Files the flags read (`--update-section .module_hashes=FILE`). */
  inputs: string[];
}

/** Ordering constants for taps: named positions, not registration order (webpack's `stage`). */
export const LINK_OBJECT_ORDER = {
  /** kallsyms' symbol table object. */
  SYMBOLS: 100,
  /** The BTF object. */
  TYPES: 200,
  /** Anything an org plugin adds. */
  EXTRA: 300,
} as const;

/** The order in which readers of one temporary link add their steps (link-vmlinux.sh's order). */
export const LINK_READER_ORDER = {
  /** Type information (BTF), generated first so the next link can carry it. */
  TYPES: 100,
  /** Symbol tables (kallsyms). */
  SYMBOLS: 200,
  EXTRA: 300,
} as const;

export const AFTER_LINK_ORDER = {
  /** In-place fix-ups that must precede symbol extraction (resolve_btfids). */
  FIXUP: 100,
  /** System.map. */
  SYMBOL_MAP: 200,
  /** Table sorting (sorttable). */
  TABLES: 300,
  /** Consistency checks between the image and what the temporary links predicted. */
  CHECKS: 400,
  /** The architecture's post-link pass. */
  ARCH: 500,
} as const;

/** The order of in-place edits of a .ko on `moduleLinked` (btf taps at the default, 0). */
export const MODULE_LINKED_ORDER = {
  /** Split BTF (pahole -J, resolve_btfids). */
  TYPES: 0,
  /** A module signature covers every byte before it: it comes last. */
  SIGNATURE: 1000,
} as const;
