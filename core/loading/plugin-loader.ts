// Org plugins, listed in a cosmiconfig config file (`kpipe.config.{json,js,mjs,cjs}`, `.kpiperc*`, or
// a "kpipe" key in package.json). The first found wins, searched in this order (README "Where kpipe
// finds the config file"): the file the tree's last run used (clean, plugins, graph); the output tree
// and its parents up to the home directory; the working directory and its parents; then
// `$XDG_CONFIG_HOME/kpipe/config.json` (`~/.config/kpipe/`, cosmiconfig's global place). A config file looks like:
//   { "plugins": ["./plugins/manifest.mjs", ["kpipe-plugin-sign", { "key": "certs/signing_key.pem" }]] }
// and the plugins it names are then used in the pipeline like the built-ins: `use manifest`.
// Every way an entry can be wrong (no such module, a module that throws on import, no plugin in it,
// options the plugin does not have) is a diagnostic that points at the entry in the config file.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import os from 'node:os';
import type { cosmiconfig } from 'cosmiconfig';
import { suggest } from '../suggest.js';
import { error, KpipeError, type Diagnostic, type SourceRange } from '../diagnostic.js';
import { LineIndex } from '../../dsl/line-index.js';
import type { KpipePlugin, PluginOptionValue } from '../plugin-api.js';
import { builtinRegistry, type PluginOrigin, type PluginRegistry } from './plugin-registry.js';
import { mayHaveConfig } from './config-presence.js';

// cosmiconfig's defaults have no `kpipe.config.json`; the README promises it, so list every place.
export const SEARCH_PLACES = ['package.json', '.kpiperc', '.kpiperc.json', '.kpiperc.yaml', '.kpiperc.yml', '.kpiperc.js', '.kpiperc.mjs', 'kpipe.config.json', 'kpipe.config.js', 'kpipe.config.mjs', 'kpipe.config.cjs'];

/** A name `use NAME` can spell (dsl/tokens.ts's Name). */
const PLUGIN_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export interface LoadedPlugins {
  registry: PluginRegistry;
  /** The config file's text, for the frames of diagnostics that point into it. */
  sources: Map<string, string>;
  /** Where kpipe looked, in order, for "unknown plugin" errors: "/tree and its parents (...)". */
  searched: string[];
}

export interface ConfigSearch {
  /** Directories searched upwards, in order: the output tree, then the working directory. */
  dirs: string[];
  /** A config file to use without searching (the one the tree's last run used), if it still exists. */
  configFile?: string;
}

/** cosmiconfig's global place: `$XDG_CONFIG_HOME/kpipe/` (default `~/.config/kpipe/`). */
export function globalConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'kpipe');
}

/** The built-ins plus the plugins of the first kpipe config file found (see the top of this file). */
export async function loadPlugins(from: string | ConfigSearch): Promise<LoadedPlugins> {
  const search: ConfigSearch = typeof from === 'string' ? { dirs: [from] } : from;
  const registry = builtinRegistry();
  const sources = new Map<string, string>();
  const { found, searched } = await findConfig(search);
  if (!found || found.isEmpty) return { registry, sources, searched };
  const configFile = found.filepath;
  registry.configFile = configFile;
  const text = readText(configFile);
  if (text !== undefined) sources.set(configFile, text);
  const locate = entryLocator(configFile, text);

  const plugins = (found.config as { plugins?: unknown } | null)?.plugins;
  if (plugins === undefined) return { registry, sources, searched };
  if (!Array.isArray(plugins)) {
    throw new KpipeError([error('config', `${configFile}: "plugins" must be an array of module paths or package names, or [name, options] pairs`)], 2, sources);
  }
  const diagnostics: Diagnostic[] = [];
  for (const [index, entry] of plugins.entries()) {
    const [specifier, options] = Array.isArray(entry) ? [entry[0] as unknown, entry[1] as unknown] : [entry as unknown, {}];
    const where = `${configFile} plugins[${index}]`;
    if (typeof specifier !== 'string' || (Array.isArray(entry) && entry.length > 2)) {
      diagnostics.push(error('config', `${where}: an entry is a module path or package name, or a [name, options] pair`));
      continue;
    }
    const range = locate(specifier);
    const at = { ...(range ? { range } : {}), hint: `listed in ${where}` };
    let module: string;
    let plugin: KpipePlugin;
    try {
      module = resolveModule(specifier, configFile);
      const exports = (await import(pathToFileURL(module).href)) as { default?: unknown; plugin?: unknown };
      const shaped = toPlugin(commonJsExport(exports.default) ?? exports.plugin);
      if (typeof shaped === 'string') {
        diagnostics.push(error('plugin-shape', `${specifier} does not export a plugin: ${shaped}`, { ...at, hint: `${at.hint}; a plugin is { name, apply(hooks, context) } or a class with them, as the default export or \`export const plugin\`` }));
        continue;
      }
      plugin = shaped;
    } catch (e) {
      diagnostics.push(error('plugin-load', `cannot load plugin ${specifier}: ${firstLine(e)}`, at));
      continue;
    }
    const origin: PluginOrigin = { kind: 'config', configFile, index, specifier, module, ...(range ? { range } : {}) };
    const checked = checkOptions(plugin, options, where, range);
    if (checked.diagnostics.length > 0) {
      diagnostics.push(...checked.diagnostics);
      continue;
    }
    const d = registry.register({ plugin, origin, defaults: checked.options });
    if (d) diagnostics.push(d);
  }
  if (diagnostics.length > 0) throw new KpipeError(diagnostics, 2, sources);
  return { registry, sources, searched };
}

type Found = Awaited<ReturnType<ReturnType<typeof cosmiconfig>['search']>>;

/**
 * The first config file in the documented order. cosmiconfig's 'global' strategy ends every upward
 * search with the global place, so a tree's search that lands there goes on with the working
 * directory first: a `kpipe.config.json` beside the user beats their global one.
 */
async function findConfig(search: ConfigSearch): Promise<{ found: Found; searched: string[] }> {
  const dirs = search.dirs.filter((d, k) => search.dirs.indexOf(d) === k);
  const global = globalConfigDir();
  // cosmiconfig costs more to load than most runs spend planning: load it only when it may find something.
  if (!(search.configFile && fs.existsSync(search.configFile)) && !dirs.some((d) => mayHaveConfig('kpipe', SEARCH_PLACES, d))) {
    return { found: null, searched: [...dirs.map((d) => `${d} and its parents (${SEARCH_PLACES.join(', ')})`), `${global}/config{,.json,.yaml,.yml,.js,.cjs,.mjs}`] };
  }
  const explorer = (await import('cosmiconfig')).cosmiconfig('kpipe', { searchStrategy: 'global', searchPlaces: SEARCH_PLACES });
  const fail = (e: unknown): never => {
    throw new KpipeError([error('config', `cannot read the kpipe config file: ${firstLine(e)}`)]);
  };
  const searched: string[] = [];
  if (search.configFile && fs.existsSync(search.configFile)) {
    searched.push(`${search.configFile} (the tree's last run used it)`);
    return { found: await explorer.load(search.configFile).catch(fail), searched };
  }
  const isGlobal = (f: Found) => f !== null && f.filepath.startsWith(`${global}/`);
  let fallback: Found = null;
  for (const dir of dirs) {
    searched.push(`${dir} and its parents (${SEARCH_PLACES.join(', ')})`);
    const found = await explorer.search(dir).catch(fail);
    if (found && !isGlobal(found)) return { found, searched };
    fallback ??= found;
  }
  searched.push(`${global}/config{,.json,.yaml,.yml,.js,.cjs,.mjs}`);
  return { found: fallback, searched };
}

/** A path relative to the config file, or a package resolved from the config file's directory. */
function resolveModule(specifier: string, configFile: string): string {
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
    const file = path.resolve(path.dirname(configFile), specifier);
    if (!fs.existsSync(file)) throw new Error(`no such file ${file}`);
    return file;
  }
  try {
    return createRequire(configFile).resolve(specifier);
  } catch {
    throw new Error(`no package '${specifier}' is installed where ${configFile} is (npm install it there)`);
  }
}

/**
 * A CommonJS module's export, as import() gives it (`default` is `module.exports`). TypeScript and
 * Babel compile `export default X` to `exports.default = X` with `__esModule`, and `export const
 * plugin` to `exports.plugin`: both are unwrapped, so a CommonJS build loads like the ES module.
 */
function commonJsExport(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || 'apply' in value) return value;
  const cjs = value as { __esModule?: unknown; default?: unknown; plugin?: unknown };
  if (cjs.default !== undefined && (cjs.__esModule === true || typeof cjs.default === 'function' || typeof cjs.default === 'object')) return cjs.default;
  if (cjs.plugin !== undefined) return cjs.plugin;
  return value;
}

/** The plugin a module exports, or why it is not one. */
function toPlugin(value: unknown): KpipePlugin | string {
  if (value === undefined) return 'it has neither a default export nor `export const plugin`';
  let candidate: unknown = value;
  if (typeof value === 'function' && /^class\b/.test(Function.prototype.toString.call(value))) {
    try {
      candidate = new (value as new () => unknown)();
    } catch (e) {
      return `its class ${value.name} threw when constructed with no arguments: ${firstLine(e)}`;
    }
  }
  if (typeof candidate !== 'object' || candidate === null) return `its export is a ${typeof candidate}, not an object or a class`;
  const p = candidate as Partial<KpipePlugin>;
  if (typeof p.name !== 'string') return 'it has no `name` (the name `use NAME` spells in the pipeline)';
  if (!PLUGIN_NAME.test(p.name)) return `its name '${p.name}' cannot be written after \`use\` (letters, digits, _ . -; not starting with a digit)`;
  if (typeof p.apply !== 'function') return `plugin '${p.name}' has no apply(hooks, context) method`;
  if (p.options !== undefined && (typeof p.options !== 'object' || p.options === null)) return `plugin '${p.name}': \`options\` must map option names to { description, default }`;
  if (p.builtins !== undefined && (typeof p.builtins !== 'object' || p.builtins === null || Object.values(p.builtins).some((f) => typeof f !== 'function'))) {
    return `plugin '${p.name}': \`builtins\` must map builtin names to async functions`;
  }
  return candidate as KpipePlugin;
}

/** The options of a `[name, options]` entry: an object of declared options with plain values. */
function checkOptions(plugin: KpipePlugin, options: unknown, where: string, range: SourceRange | undefined): { options: Record<string, PluginOptionValue>; diagnostics: Diagnostic[] } {
  const at = { plugin: plugin.name, ...(range ? { range } : {}) };
  // With a frame the location is already on the line; without one, say which entry.
  where = range ? 'in the config file' : where;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return { options: {}, diagnostics: [error('plugin-options', `${where}: the options of plugin '${plugin.name}' must be an object ({ "name": value })`, at)] };
  }
  const known = plugin.options ?? {};
  const diagnostics: Diagnostic[] = [];
  const out: Record<string, PluginOptionValue> = {};
  for (const [key, value] of Object.entries(options)) {
    if (!(key in known)) {
      diagnostics.push(error('unknown-option', `${where}: plugin '${plugin.name}' has no option '${key}'`, {
        ...at,
        hint: optionHint(key, Object.keys(known)),
      }));
    } else if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      diagnostics.push(error('plugin-options', `${where}: option '${key}' of plugin '${plugin.name}' must be a string, a number or a boolean, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`, at));
    } else {
      out[key] = value;
    }
  }
  return { options: out, diagnostics };
}

/** "did you mean 'output'? its options are: output, exclude", for a misspelt option. */
export function optionHint(key: string, known: readonly string[]): string {
  if (known.length === 0) return 'it takes no options';
  const guess = suggest(key, known);
  return `${guess !== undefined ? `did you mean '${guess}'? ` : ''}its options are: ${known.join(', ')}`;
}

/** Finds an entry's specifier, quoted, in the config file's text: the frame of its diagnostics. */
function entryLocator(file: string, text: string | undefined): (specifier: string) => SourceRange | undefined {
  if (text === undefined) return () => undefined;
  const lines = new LineIndex(file, text);
  return (specifier) => {
    for (const quote of ['"', "'", '`']) {
      const at = text.indexOf(`${quote}${specifier}${quote}`);
      if (at >= 0) return lines.range(at, at + specifier.length + 2);
    }
    return undefined;
  };
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** An exception's first line: enough to act on, never a stack. */
function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
