// Where the step cache's settings come from, in order (a later one wins):
//   1. nothing: no cache (a run never depends on state outside the tree unless asked to);
//   2. the "cache" key of the kpipe config file found from the output tree upwards (the file that
//      lists org plugins):
//        "cache": true                                      the local store, with its defaults
//        "cache": { "dir": "~/.cache/kpipe/steps", "maxSize": "20G",
//                   "remote": { "url": "http://cache.example:8080/kpipe", "mode": "read-only",
//                               "headers": { "Authorization": "Bearer ..." }, "timeoutSeconds": 30 },
//                   "local": false }                        remote only
//   3. the command line: --cache, --no-cache, --cache-dir DIR, --cache-max-size SIZE,
//      --remote-cache URL, --remote-cache-mode read-only|read-write, --remote-header 'Name: value'.
// The default store is $KPIPE_CACHE/steps, else ~/.cache/kpipe/steps: beside the kernel trees, never
// inside an output tree (`kpipe clean` and a fresh checkout must not take it away).
import os from 'node:os';
import path from 'node:path';
import { error, KpipeError, type Diagnostic } from '../diagnostic.js';
import { SEARCH_PLACES } from '../loading/plugin-loader.js';
import { mayHaveConfig } from '../loading/config-presence.js';
import type { CacheSettings } from './step-cache.js';
import type { RemoteMode } from './remote-store.js';

export const DEFAULT_MAX_BYTES = 10 * 1024 ** 3;
const DEFAULT_TIMEOUT_SECONDS = 30;

/** The cache options of the command line. */
export interface CacheFlags {
  cache?: boolean;
  cacheDir?: string;
  cacheMaxSize?: string;
  remoteCache?: string;
  remoteCacheMode?: string;
  remoteHeaders?: string[];
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.KPIPE_CACHE ?? path.join(env.HOME ?? os.homedir(), '.cache', 'kpipe');
  return path.join(root, 'steps');
}

/** The settings for a run or a `kpipe cache` command; undefined when no cache is configured. */
export async function loadCacheSettings(searchFrom: string, flags: CacheFlags, cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<CacheSettings | undefined> {
  // cosmiconfig takes ~20 ms to load, more than a no-op's planning: only when there may be a file.
  const found = mayHaveConfig('kpipe', SEARCH_PLACES, searchFrom)
    ? await (await import('cosmiconfig'))
        .cosmiconfig('kpipe', { searchStrategy: 'global', searchPlaces: SEARCH_PLACES })
        .search(searchFrom)
        .catch(() => null) // the plugin loader reports an unreadable config file
    : null;
  const raw = found && !found.isEmpty ? (found.config as { cache?: unknown } | null)?.cache : undefined;
  const file = found?.filepath ?? '';
  const diagnostics: Diagnostic[] = [];
  const bad = (message: string) => diagnostics.push(error('config', `${file}: "cache"${message}`));

  let local: { dir: string; maxBytes: number } | undefined;
  let remote: CacheSettings['remote'];
  if (raw === true) local = { dir: defaultCacheDir(env), maxBytes: DEFAULT_MAX_BYTES };
  else if (raw !== undefined && raw !== false) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(' must be true, false or an object { dir, maxSize, local, remote }');
    else {
      const c = raw as Record<string, unknown>;
      for (const k of Object.keys(c)) if (!['dir', 'maxSize', 'local', 'remote'].includes(k)) bad(`: unknown key '${k}' (keys: dir, maxSize, local, remote)`);
      if (c.local !== false) {
        const dir = typeof c.dir === 'string' ? expandHome(c.dir, path.dirname(file), env) : defaultCacheDir(env);
        if (c.dir !== undefined && typeof c.dir !== 'string') bad('.dir must be a path');
        const maxBytes = c.maxSize === undefined ? DEFAULT_MAX_BYTES : parseSize(c.maxSize);
        if (maxBytes === undefined) bad(`.maxSize must be a size such as "20G", "500M" or a number of bytes, not ${JSON.stringify(c.maxSize)}`);
        local = { dir, maxBytes: maxBytes ?? DEFAULT_MAX_BYTES };
      }
      if (c.remote !== undefined) remote = remoteFromConfig(c.remote, bad);
    }
  }
  if (diagnostics.length > 0) throw new KpipeError(diagnostics, 2);

  // The command line.
  const usage = (message: string) => new KpipeError([error('usage', message)]);
  if (flags.cache === false) return undefined;
  if (flags.cache === true || flags.cacheDir !== undefined || flags.cacheMaxSize !== undefined) {
    local ??= { dir: defaultCacheDir(env), maxBytes: DEFAULT_MAX_BYTES };
    if (flags.cacheDir !== undefined) local.dir = path.resolve(cwd, flags.cacheDir);
    if (flags.cacheMaxSize !== undefined) {
      const n = parseSize(flags.cacheMaxSize);
      if (n === undefined) throw usage(`--cache-max-size expects a size such as 20G, 500M or a number of bytes, not '${flags.cacheMaxSize}'`);
      local.maxBytes = n;
    }
  }
  if (flags.remoteCache !== undefined) {
    checkUrl(flags.remoteCache, (m) => {
      throw usage(`--remote-cache ${m}`);
    });
    remote = { url: flags.remoteCache, headers: remote?.headers ?? {}, mode: remote?.mode ?? 'read-only', timeoutMs: remote?.timeoutMs ?? DEFAULT_TIMEOUT_SECONDS * 1000 };
  }
  if (flags.remoteCacheMode !== undefined || (flags.remoteHeaders ?? []).length > 0) {
    if (!remote) throw usage('--remote-cache-mode and --remote-header need a remote cache: --remote-cache URL, or "cache": { "remote": ... } in the config file');
    if (flags.remoteCacheMode !== undefined) {
      if (flags.remoteCacheMode !== 'read-only' && flags.remoteCacheMode !== 'read-write') throw usage(`--remote-cache-mode must be read-only or read-write, not '${flags.remoteCacheMode}'`);
      remote.mode = flags.remoteCacheMode;
    }
    for (const h of flags.remoteHeaders ?? []) {
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(h);
      if (!m) throw usage(`--remote-header expects 'Name: value', not '${h}'`);
      remote.headers = { ...remote.headers, [m[1]!]: m[2]! };
    }
  }
  if (!local && !remote) return undefined;
  return { ...(local ? { local } : {}), ...(remote ? { remote } : {}) };
}

function remoteFromConfig(value: unknown, bad: (m: string) => void): CacheSettings['remote'] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    bad('.remote must be an object { url, mode, headers, timeoutSeconds }');
    return undefined;
  }
  const r = value as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!['url', 'mode', 'headers', 'timeoutSeconds'].includes(k)) bad(`.remote: unknown key '${k}' (keys: url, mode, headers, timeoutSeconds)`);
  if (typeof r.url !== 'string') {
    bad('.remote.url must be the cache\'s base URL (http://host:port/path)');
    return undefined;
  }
  checkUrl(r.url, (m) => bad(`.remote.url ${m}`));
  const mode = r.mode ?? 'read-only';
  if (mode !== 'read-only' && mode !== 'read-write') bad(`.remote.mode must be "read-only" or "read-write", not ${JSON.stringify(mode)}`);
  const headers: Record<string, string> = {};
  if (r.headers !== undefined) {
    if (typeof r.headers !== 'object' || r.headers === null || Array.isArray(r.headers)) bad('.remote.headers must map header names to strings');
    else for (const [k, v] of Object.entries(r.headers)) {
      if (typeof v === 'string') headers[k] = v;
      else bad(`.remote.headers.${k} must be a string`);
    }
  }
  const timeout = r.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (typeof timeout !== 'number' || !(timeout > 0)) bad('.remote.timeoutSeconds must be a positive number');
  return { url: r.url, headers, mode: mode as RemoteMode, timeoutMs: (typeof timeout === 'number' && timeout > 0 ? timeout : DEFAULT_TIMEOUT_SECONDS) * 1000 };
}

function checkUrl(url: string, bad: (m: string) => void): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return bad(`must be a URL such as http://host:8080/kpipe, not '${url}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') bad(`must be an http:// or https:// URL, not '${url}'`);
}

/** "20G", "500M", "64k", "1.5T" (powers of 1024) or a number of bytes. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*$/.exec(value);
  if (!m) return undefined;
  const power = { '': 0, k: 1, m: 2, g: 3, t: 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * 1024 ** power);
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

function expandHome(p: string, base: string, env: NodeJS.ProcessEnv): string {
  if (p === '~' || p.startsWith('~/')) return path.join(env.HOME ?? os.homedir(), p.slice(1));
  return path.resolve(base, p);
}
