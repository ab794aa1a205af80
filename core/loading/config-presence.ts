// Whether cosmiconfig could find anything at all, answered with a few stat calls so a tree without a
// kpipe config file (the usual case) never loads cosmiconfig and its YAML and JSON parsers. It only
// rules out: when anything cosmiconfig might read exists, cosmiconfig itself decides, so what it finds
// and how it reads it stay exactly as before. The places mirror cosmiconfig 9's "global" strategy:
// the search places from `from` up to the home directory (or /), its global config directory
// (env-paths: $XDG_CONFIG_HOME/NAME or ~/.config/NAME), and its own meta config in the current
// directory (which may add search places).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * cosmiconfig's meta config, read from the current directory (defaults.js metaSearchPlaces). Not
 * `.config` itself: in a kernel output tree that is the kernel's configuration, a file, and taking
 * it for cosmiconfig's directory loaded cosmiconfig on every run made there.
 */
const META_PLACES = ['package.json', 'package.yaml', ...['json', 'yaml', 'yml', 'js', 'ts', 'cjs', 'mjs'].map((ext) => `.config/config.${ext}`)];

export function mayHaveConfig(moduleName: string, searchPlaces: readonly string[], from: string, cwd = process.cwd()): boolean {
  const exists = (p: string) => fs.existsSync(p);
  const stop = path.resolve(os.homedir());
  for (let dir = path.resolve(from); ; ) {
    if (searchPlaces.some((place) => exists(path.join(dir, place)))) return true;
    const parent = path.dirname(dir);
    if (dir === stop || parent === dir) break;
    dir = parent;
  }
  const globalDir = path.join(process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), moduleName);
  if (exists(globalDir)) return true;
  return META_PLACES.some((place) => exists(path.join(cwd, place)));
}
