// kpipe's public API for plugin authors: `import { ARTIFACTS, type KpipePlugin } from 'kpipe'`.
// Everything a plugin needs is here and typed (examples/artifact-manifest imports nothing else):
// the hooks (core/hooks.ts), the types of their arguments and of steps (core/plugin-api.ts), the
// well-known artifact names and tap orders, builtins, Kconfig and conditions, and diagnostics.

// ── plugins and their hooks ─────────────────────────────────────────────────────────────────────
export type {
  KpipePlugin, PluginContext, StepSpec, Artifacts, PublishedArtifact, StageBuilder, LinkSpec, TemporaryLinkRequest,
  LinkedImage, LinkSession, ImageBuilder, ObjcopySpec, PluginOptionValue, ArtifactKind,
} from './plugin-api.js';
export { artifactKind, ARTIFACTS, LINK_OBJECT_ORDER, LINK_READER_ORDER, AFTER_LINK_ORDER, MODULE_LINKED_ORDER } from './plugin-api.js';
export { createHooks, type KpipeHooks, type HookName } from './hooks.js';

// ── steps: plain data ───────────────────────────────────────────────────────────────────────────
export type { Command, Step, QuietLabel, Action, ExecCommand, BuiltinCommand, KbuildNarrow, KbuildScope } from './planning/step.js';
export { registerBuiltin, type BuiltinContext, type BuiltinFunction } from './running/builtins.js';

// ── Kconfig, conditions, the toolchain ──────────────────────────────────────────────────────────
export type { Kconfig, SymbolOrigin } from './planning/kconfig.js';
export { evaluateCondition, type ConditionResult } from './planning/condition-text.js';
export type { Toolchain, ToolchainVariable, MakeEnvironment } from './planning/toolchain.js';

// ── diagnostics: throw `new KpipeError([error(code, message, { hint })])` to choose your words ──
export { error, KpipeError } from './diagnostic.js';
export type { Diagnostic, Severity, SourceRange, Position, RelatedInformation } from './diagnostic.js';
