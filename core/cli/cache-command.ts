// `kpipe cache stats` and `kpipe cache prune`: the local step cache seen from outside a run. The
// settings come from the config file found from -C DIR (or the current directory) and the command line.
import path from 'node:path';
import type { CliArgs } from './args.js';
import { error, KpipeError } from '../diagnostic.js';
import { DEFAULT_MAX_BYTES, defaultCacheDir, formatSize, loadCacheSettings, parseSize } from '../cache/cache-config.js';
import { LocalStore } from '../cache/local-store.js';

export async function cacheCommand(args: CliArgs): Promise<number> {
  const sub = args.positionals[0];
  if (sub !== 'stats' && sub !== 'prune') {
    throw new KpipeError([error('usage', `kpipe cache ${sub ?? ''}: expected 'stats' or 'prune'`.replace('  ', ' '), { hint: 'kpipe cache stats | kpipe cache prune [--cache-max-size SIZE]' })]);
  }
  const from = path.resolve(process.cwd(), args.objtree ?? '.');
  // The store is there whether or not runs use it now: without settings, look at the default place.
  const { cacheMaxSize, ...rest } = args.cache;
  const settings = await loadCacheSettings(from, { ...rest, cache: rest.cache ?? true }, process.cwd());
  const local = settings?.local ?? { dir: defaultCacheDir(), maxBytes: DEFAULT_MAX_BYTES };
  const store = new LocalStore(local.dir, local.maxBytes);
  if (sub === 'stats') {
    const s = store.stats();
    const lines = [
      `local step cache: ${s.dir}`,
      `  entries ${s.entries}`,
      `  blobs   ${s.blobs}`,
      `  size    ${formatSize(s.bytes)} of ${formatSize(s.maxBytes)}`,
    ];
    if (settings?.remote) lines.push(`remote cache: ${settings.remote.url} (${settings.remote.mode})`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }
  let limit = local.maxBytes;
  if (cacheMaxSize !== undefined) {
    const n = parseSize(cacheMaxSize);
    if (n === undefined) throw new KpipeError([error('usage', `--cache-max-size expects a size such as 20G, 500M or a number of bytes, not '${cacheMaxSize}'`)]);
    limit = n;
  }
  const r = store.prune(limit);
  process.stdout.write(`  PRUNE   ${r.removedFiles} files, ${formatSize(r.removedBytes)}; ${formatSize(r.bytes)} left in ${local.dir}\n`);
  return 0;
}
