// The plugins a session may use, by name, each with where it came from: built into kpipe, or listed
// in a kpipe config file (core/loading/plugin-loader.ts). `kpipe plugins` and every plugin diagnostic read
// the origin from here, so a user always learns which file to edit.
import path from 'node:path';
import { error, type Diagnostic, type SourceRange } from '../diagnostic.js';
import { getBuiltin, registerBuiltin } from '../running/builtins.js';
import type { KpipePlugin, PluginOptionValue } from '../plugin-api.js';
import { BUILTIN_PLUGINS } from '../../plugins/builtin.js';

/** Where a plugin was configured. */
export type PluginOrigin =
  | { kind: 'built-in' }
  | {
      kind: 'config';
      /** The config file that lists the plugin (absolute). */
      configFile: string;
      /** Its position in the config's "plugins" array. */
      index: number;
      /** The entry as written: `./plugins/manifest.mjs` or `kpipe-plugin-sign`. */
      specifier: string;
      /** The module file it resolved to (absolute). */
      module: string;
      /** The entry's text in the config file, when it could be found there (for the error frame). */
      range?: SourceRange;
    };

export interface RegisteredPlugin {
  plugin: KpipePlugin;
  origin: PluginOrigin;
  /** Default options from the config file; the DSL's `use name(...)` overrides them. */
  defaults: Record<string, PluginOptionValue>;
}

/** "built-in", or "kpipe.config.json plugins[0] (./manifest.mjs)" with the config relative to `cwd`. */
export function describeOrigin(origin: PluginOrigin, cwd?: string): string {
  if (origin.kind === 'built-in') return 'built-in';
  const file = cwd && origin.configFile.startsWith(cwd + path.sep) ? path.relative(cwd, origin.configFile) : origin.configFile;
  return `${file} plugins[${origin.index}] (${origin.specifier})`;
}

export class PluginRegistry {
  private readonly plugins = new Map<string, RegisteredPlugin>();
  configFile: string | undefined;

  /** Adds the plugin and the builtins it declares; a clash of either name is a diagnostic. */
  register(entry: RegisteredPlugin): Diagnostic | undefined {
    const name = entry.plugin.name;
    const existing = this.plugins.get(name);
    if (existing) {
      return error('duplicate-plugin', `plugin '${name}' from ${describeOrigin(entry.origin)} has the name of the plugin from ${describeOrigin(existing.origin)}`, {
        plugin: name,
        ...rangeOf(entry.origin),
        hint: 'rename one of them: the pipeline names plugins with `use NAME`',
      });
    }
    for (const [builtinName, fn] of Object.entries(entry.plugin.builtins ?? {})) {
      const other = getBuiltin(builtinName);
      if (other && other !== fn) {
        return error('duplicate-builtin', `plugin '${name}' declares the builtin '${builtinName}', which another plugin or kpipe itself already has`, { plugin: name, ...rangeOf(entry.origin) });
      }
      registerBuiltin(builtinName, fn);
    }
    this.plugins.set(name, entry);
    return undefined;
  }

  get(name: string): RegisteredPlugin | undefined {
    return this.plugins.get(name);
  }

  names(): string[] {
    return [...this.plugins.keys()];
  }

  all(): RegisteredPlugin[] {
    return [...this.plugins.values()];
  }
}

export function rangeOf(origin: PluginOrigin): { range?: SourceRange } {
  return origin.kind === 'config' && origin.range ? { range: origin.range } : {};
}

export function builtinRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  for (const plugin of BUILTIN_PLUGINS) registry.register({ plugin, origin: { kind: 'built-in' }, defaults: {} });
  return registry;
}
