// Semantic checks of a pipeline, after parsing and include expansion. Langium's model: a registry
// of checks per statement kind; a check reports through `accept` with a range taken from the tree,
// never computing offsets, and sees the whole pipeline through one precomputed context.
import type { Diagnostic, RelatedInformation, Severity, SourceRange } from '../core/diagnostic.js';
import { suggest } from '../core/suggest.js';
import type { Name, Ordering, PluginUse, StageDecl, Statement } from './ast.js';

export interface AcceptInfo {
  range: SourceRange;
  hint?: string;
  related?: RelatedInformation[];
}

export type Accept = (severity: Severity, code: string, message: string, info: AcceptInfo) => void;

export interface ValidationOptions {
  knownPlugins: readonly string[];
  /**
   * Check that named stages exist (default true). The loader turns it off when a file had a syntax
   * error or an include failed: a declaration lost there would make every reference to it an error.
   */
  checkReferences?: boolean;
}

/** The whole pipeline, indexed once, as every check sees it. */
export class ValidationContext {
  readonly knownPlugins: readonly string[];
  readonly checkReferences: boolean;
  /** The first declaration (not extension) of each stage. */
  readonly stages = new Map<string, StageDecl>();
  /** The first use of each plugin in each stage, over its first declaration and its extensions. */
  private readonly mergedFirstUses = new Map<string, Map<string, PluginUse>>();

  constructor(
    readonly statements: readonly Statement[],
    options: ValidationOptions,
  ) {
    this.knownPlugins = options.knownPlugins;
    this.checkReferences = options.checkReferences ?? true;
    for (const statement of statements) {
      if (statement.kind === 'stage' && !statement.extend && !this.stages.has(statement.name.text)) {
        this.stages.set(statement.name.text, statement);
      }
    }
    for (const statement of statements) {
      if (statement.kind !== 'stage' || !this.isMerged(statement)) continue;
      const firstUses = this.mergedFirstUses.get(statement.name.text) ?? new Map<string, PluginUse>();
      addFirstUses(firstUses, statement.uses);
      this.mergedFirstUses.set(statement.name.text, firstUses);
    }
  }

  /**
   * The first use of each plugin in the stage `stage` belongs to: its declaration and extensions
   * together (a redeclaration, already an error, only counts its own uses).
   */
  firstUses(stage: StageDecl): ReadonlyMap<string, PluginUse> {
    const merged = this.isMerged(stage) ? this.mergedFirstUses.get(stage.name.text) : undefined;
    return merged ?? addFirstUses(new Map(), stage.uses);
  }

  stageNames(): string[] {
    return [...this.stages.keys()];
  }

  private isMerged(stage: StageDecl): boolean {
    return stage.extend || this.stages.get(stage.name.text) === stage;
  }
}

function addFirstUses(firstUses: Map<string, PluginUse>, uses: readonly PluginUse[]): Map<string, PluginUse> {
  for (const use of uses) if (!firstUses.has(use.plugin.text)) firstUses.set(use.plugin.text, use);
  return firstUses;
}

export type Check<S extends Statement> = (statement: S, context: ValidationContext, accept: Accept) => void;

export type Checks = { [K in Statement['kind']]?: Check<Extract<Statement, { kind: K }>>[] };

export class ValidationRegistry {
  private readonly checks: { [K in Statement['kind']]: Check<Extract<Statement, { kind: K }>>[] } = {
    stage: [],
    ordering: [],
    include: [],
    kernels: [],
  };

  register(checks: Checks): this {
    this.checks.stage.push(...(checks.stage ?? []));
    this.checks.ordering.push(...(checks.ordering ?? []));
    this.checks.include.push(...(checks.include ?? []));
    this.checks.kernels.push(...(checks.kernels ?? []));
    return this;
  }

  /** Runs every check on every statement; diagnostics come in statement order. */
  validate(statements: readonly Statement[], options: ValidationOptions): Diagnostic[] {
    const context = new ValidationContext(statements, options);
    const diagnostics: Diagnostic[] = [];
    const accept: Accept = (severity, code, message, info) => {
      const diagnostic: Diagnostic = { code, severity, message, range: info.range };
      if (info.hint !== undefined) diagnostic.hint = info.hint;
      if (info.related !== undefined && info.related.length > 0) diagnostic.related = info.related;
      diagnostics.push(diagnostic);
    };
    for (const statement of statements) {
      switch (statement.kind) {
        case 'stage':
          for (const check of this.checks.stage) check(statement, context, accept);
          break;
        case 'ordering':
          for (const check of this.checks.ordering) check(statement, context, accept);
          break;
        case 'include':
          for (const check of this.checks.include) check(statement, context, accept);
          break;
        case 'kernels':
          for (const check of this.checks.kernels) check(statement, context, accept);
          break;
      }
    }
    return diagnostics;
  }
}

// --- the checks ------------------------------------------------------------------------------

const checkDuplicateStage: Check<StageDecl> = (stage, context, accept) => {
  if (stage.extend) return;
  const first = context.stages.get(stage.name.text);
  if (first === undefined || first === stage) return;
  accept('error', 'duplicate-stage', `stage '${stage.name.text}' is declared twice`, {
    range: stage.name.range,
    hint: `to add plugins to it, write 'extend stage ${stage.name.text} { ... }'`,
    related: [{ message: `stage '${stage.name.text}' is first declared here`, range: first.name.range }],
  });
};

const checkExtendedStageExists: Check<StageDecl> = (stage, context, accept) => {
  if (!stage.extend || !context.checkReferences || context.stages.has(stage.name.text)) return;
  const guess = suggest(stage.name.text, context.stageNames());
  accept('error', 'unknown-stage', `cannot extend unknown stage '${stage.name.text}'`, {
    range: stage.name.range,
    hint:
      guess !== undefined
        ? `did you mean '${guess}'?`
        : `declare it with 'stage ${stage.name.text} { ... }', or include the file that does`,
  });
};

const checkPluginsKnown: Check<StageDecl> = (stage, context, accept) => {
  for (const use of stage.uses) {
    const name = use.plugin.text;
    if (context.knownPlugins.includes(name)) continue;
    const guess = suggest(name, context.knownPlugins);
    const info: AcceptInfo = { range: use.plugin.range };
    if (guess !== undefined) info.hint = `did you mean '${guess}'?`;
    else if (context.knownPlugins.length > 0 && context.knownPlugins.length <= 20) {
      info.hint = `known plugins: ${[...context.knownPlugins].sort().join(', ')}`;
    }
    accept('error', 'unknown-plugin', `unknown plugin '${name}'`, info);
  }
};

/**
 * A plugin contributes its steps to a stage once. A second `use` with a `when` and other options is
 * a variant (kbuild.pipeline's `use kallsyms(separate_links = true) when KERNELVERSION < 6.11`): it
 * replaces the earlier use whenever its condition holds (core/planning/stage-graph.ts). Any other
 * second `use`, even via `extend`, is a mistake.
 */
const checkDuplicateUse: Check<StageDecl> = (stage, context, accept) => {
  const firstUses = context.firstUses(stage);
  for (const use of stage.uses) {
    const first = firstUses.get(use.plugin.text);
    if (first === undefined || first === use) continue;
    if (use.when !== undefined && optionsText(use) !== optionsText(first)) continue;
    accept('error', 'duplicate-use', `plugin '${use.plugin.text}' is already used in stage '${stage.name.text}'`, {
      range: use.plugin.range,
      hint: first.when !== undefined && use.when !== undefined ? "combine the conditions with '||' in one 'use'" : 'remove one of them',
      related: [{ message: `'${use.plugin.text}' is first used here`, range: first.plugin.range }],
    });
  }
};

function optionsText(use: PluginUse): string {
  return use.options.map((o) => `${o.key.text}=${o.value.kind}:${o.value.text}`).sort().join(',');
}

const checkDuplicateOptions: Check<StageDecl> = (stage, _context, accept) => {
  for (const use of stage.uses) {
    const seen = new Map<string, Name>();
    for (const option of use.options) {
      const first = seen.get(option.key.text);
      if (first === undefined) {
        seen.set(option.key.text, option.key);
        continue;
      }
      accept('error', 'duplicate-option', `option '${option.key.text}' is given twice to plugin '${use.plugin.text}'`, {
        range: option.key.range,
        related: [{ message: `'${option.key.text}' is first given here`, range: first.range }],
      });
    }
  }
};

const checkOrderingStagesExist: Check<Ordering> = (ordering, context, accept) => {
  if (!context.checkReferences) return;
  const reported = new Set<string>();
  for (const name of [ordering.target, ...ordering.prerequisites]) {
    if (context.stages.has(name.text) || reported.has(name.text)) continue;
    reported.add(name.text);
    const guess = suggest(name.text, context.stageNames()) ?? (suggest(name.text, ['when']) ? 'when' : undefined);
    const info: AcceptInfo = { range: name.range };
    if (guess !== undefined) info.hint = `did you mean '${guess}'?`;
    accept('error', 'unknown-stage', `unknown stage '${name.text}'`, info);
  }
};

const checkSelfOrdering: Check<Ordering> = (ordering, _context, accept) => {
  const self = ordering.prerequisites.find((name) => name.text === ordering.target.text);
  if (self === undefined) return;
  accept('error', 'self-ordering', `stage '${ordering.target.text}' cannot come after itself`, {
    range: self.range,
    hint: `remove '${self.text}' from its own prerequisites`,
  });
};

/** The checks of kbuild.pipeline; core may register more on its own registry. */
export const pipelineChecks: Checks = {
  stage: [checkDuplicateStage, checkExtendedStageExists, checkPluginsKnown, checkDuplicateUse, checkDuplicateOptions],
  ordering: [checkOrderingStagesExist, checkSelfOrdering],
};

/** Semantic diagnostics of a pipeline's statements (includes already expanded). */
export function validatePipeline(statements: readonly Statement[], options: ValidationOptions): Diagnostic[] {
  return new ValidationRegistry().register(pipelineChecks).validate(statements, options);
}
