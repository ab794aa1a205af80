// Where plugins come from: the built-ins by name, and org plugins listed in a cosmiconfig config file
// (`kpipe.config.{js,mjs,json}`, `.kpiperc`, or a "kpipe" key in package.json), found from the output
// tree upwards. A config file looks like:
//   { "plugins": ["./plugins/manifest.mjs", ["kpipe-plugin-sign", { "key": "certs/signing_key.pem" }]] }
// and the plugins it names are then used in kbuild.pipeline like the built-ins: `use manifest`.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { cosmiconfig } from 'cosmiconfig';
import { error, KpipeError, type Diagnostic } from './diagnostic.js';
import type { KpipePlugin, PluginOptionValue } from './plugin-api.js';
import { BUILTIN_PLUGINS } from '../plugins/builtin.js';

export interface RegisteredPlugin {
  plugin: KpipePlugin;
  /** 'built-in', or the file it was loaded from. */
  source: string;
  /** Default options from the config file; the DSL's `use name(...)` overrides them. */
  defaults: Record<string, PluginOptionValue>;
}

export class PluginRegistry {
  private readonly plugins = new Map<string, RegisteredPlugin>();
  configFile: string | undefined;

  register(entry: RegisteredPlugin): Diagnostic | undefined {
    const existing = this.plugins.get(entry.plugin.name);
    if (existing) {
      return error('duplicate-plugin', `plugin '${entry.plugin.name}' from ${entry.source} has the name of the plugin from ${existing.source}`, { plugin: entry.plugin.name });
    }
    this.plugins.set(entry.plugin.name, entry);
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

export function builtinRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  for (const plugin of BUILTIN_PLUGINS) registry.register({ plugin, source: 'built-in', defaults: {} });
  return registry;
}

type PluginEntry = string | [string, Record<string, PluginOptionValue>];

/** The built-ins plus the plugins of the nearest kpipe config file above `searchFrom`. */
export async function loadPlugins(searchFrom: string): Promise<PluginRegistry> {
  const registry = builtinRegistry();
  // cosmiconfig's defaults have no `kpipe.config.json`; the README promises it, so list every place.
  const searchPlaces = ['package.json', '.kpiperc', '.kpiperc.json', '.kpiperc.yaml', '.kpiperc.yml', '.kpiperc.js', '.kpiperc.mjs', 'kpipe.config.json', 'kpipe.config.js', 'kpipe.config.mjs', 'kpipe.config.cjs'];
  const found = await cosmiconfig('kpipe', { searchStrategy: 'global', searchPlaces }).search(searchFrom).catch((e: unknown) => {
    throw new KpipeError([error('config', `cannot read the kpipe config file: ${(e as Error).message}`)]);
  });
  if (!found || found.isEmpty) return registry;
  registry.configFile = found.filepath;
  const config = found.config as { plugins?: unknown };
  const entries = Array.isArray(config.plugins) ? (config.plugins as PluginEntry[]) : [];
  const diagnostics: Diagnostic[] = [];
  const dir = path.dirname(found.filepath);
  const require = createRequire(found.filepath);
  for (const entry of entries) {
    const [specifier, defaults] = Array.isArray(entry) ? entry : [entry, {}];
    if (typeof specifier !== 'string') {
      diagnostics.push(error('config', `${found.filepath}: each entry of "plugins" is a path or package name, or [name, options]`));
      continue;
    }
    const where = specifier.startsWith('.') || path.isAbsolute(specifier) ? path.resolve(dir, specifier) : specifier;
    try {
      const resolved = where === specifier ? require.resolve(specifier) : where;
      const mod = (await import(pathToFileURL(resolved).href)) as { default?: unknown; plugin?: unknown };
      const plugin = toPlugin(mod.default ?? mod.plugin);
      if (!plugin) {
        diagnostics.push(error('plugin-shape', `${specifier} does not export a plugin: expected { name, apply(hooks, context) } or a class with apply()`, { hint: `listed in ${found.filepath}` }));
        continue;
      }
      const d = registry.register({ plugin, source: resolved, defaults: defaults ?? {} });
      if (d) diagnostics.push(d);
    } catch (e) {
      diagnostics.push(error('plugin-load', `cannot load plugin ${specifier}: ${(e as Error).message.split('\n')[0]}`, { hint: `listed in ${found.filepath}` }));
    }
  }
  if (diagnostics.length > 0) throw new KpipeError(diagnostics);
  return registry;
}

/** Accepts a plugin object or a class whose instances are plugin objects. */
function toPlugin(value: unknown): KpipePlugin | undefined {
  const candidate: unknown = typeof value === 'function' && /^class\b/.test(Function.prototype.toString.call(value))
    ? new (value as new () => unknown)()
    : value;
  if (typeof candidate !== 'object' || candidate === null) return undefined;
  const p = candidate as Partial<KpipePlugin>;
  if (typeof p.name !== 'string' || typeof p.apply !== 'function') return undefined;
  return candidate as KpipePlugin;
}
