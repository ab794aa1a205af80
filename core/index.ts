// kpipe's public API for plugin authors: `import type { KpipePlugin } from 'kpipe'`.
// The hooks a plugin may tap are declared in core/hooks.ts; their argument types are here.
export type {
  KpipePlugin, PluginContext, StepSpec, Artifacts, StageBuilder, LinkSpec, TemporaryLinkRequest,
  LinkedImage, LinkSession, ImageBuilder, ObjcopySpec, Command, Step, QuietLabel, Action, ExecCommand,
  BuiltinCommand, PluginOptionValue,
} from './plugin-api.js';
export { ARTIFACTS, LINK_OBJECT_ORDER, LINK_READER_ORDER, AFTER_LINK_ORDER } from './plugin-api.js';
export { createHooks, type KpipeHooks, type HookName } from './hooks.js';
export { registerBuiltin, type BuiltinContext, type BuiltinFunction } from './builtins.js';
export type { Kconfig } from './kconfig.js';
export type { Toolchain, ToolchainVariable } from './toolchain.js';
export type { Diagnostic, SourceRange } from './diagnostic.js';
