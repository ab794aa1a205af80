// One shape for every error kpipe reports: DSL, Kconfig, plan, plugin and step errors alike.
// Errors are data; they are formatted only at the edge (core/cli/format-diagnostic.ts), the way
// Rollup keeps `code`, `plugin`, `hook` and `loc` on a log object instead of in a message string.

/** A position in a source file; line and column are 1-based, offset is 0-based. */
export interface Position {
  offset: number;
  line: number;
  column: number;
}

export interface SourceRange {
  file: string;
  start: Position;
  end: Position;
}

export type Severity = 'error' | 'warning' | 'note';

export interface RelatedInformation {
  message: string;
  range?: SourceRange;
}

export interface Diagnostic {
  /** Stable identifier, e.g. `syntax`, `unknown-stage`, `stage-cycle`, `plugin-error`. */
  code: string;
  severity: Severity;
  message: string;
  range?: SourceRange;
  /** One line of advice printed after the frame ("did you mean 'vmlinux'?"). */
  hint?: string;
  /** Set when the error came from (or is about) a plugin. */
  plugin?: string;
  /** The hook the plugin was in when it failed. */
  hook?: string;
  related?: RelatedInformation[];
}

/**
 * Thrown to abort a command with diagnostics that the CLI prints. Only the CLI catches it; everything
 * else passes diagnostics around as arrays. `exitCode` follows the CLI contract: 1 a step or tool
 * failed, 2 bad usage or bad input.
 */
export class KpipeError extends Error {
  constructor(
    readonly diagnostics: Diagnostic[],
    readonly exitCode: 1 | 2 = 2,
    /** File texts for the frames (source line and caret) of diagnostics with a range. */
    readonly sources: ReadonlyMap<string, string> = new Map(),
  ) {
    super(diagnostics.map((d) => d.message).join('\n'));
    this.name = 'KpipeError';
  }
}

export function error(code: string, message: string, extra: Partial<Diagnostic> = {}): Diagnostic {
  return { code, severity: 'error', message, ...extra };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
