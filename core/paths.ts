// Principle 3: one spelling per artifact. `./vmlinux`, `vmlinux` and `/abs/objtree/vmlinux` are the
// same file, so they must be the same string everywhere a path is compared (seed 002's bug was a
// `./vmlinux` that an exclusion list spelt `vmlinux`).
import os from 'node:os';
import path from 'node:path';

/**
 * Canonical spelling of `p` for an output tree rooted at `objtree` (absolute): relative to objtree
 * when inside it, absolute otherwise; no `.` segments, no trailing slash.
 */
export function canonicalPath(p: string, objtree: string): string {
  const absolute = path.resolve(objtree, p);
  const rel = path.relative(objtree, absolute);
  if (rel === '') return '.';
  // `..x` (kbuild's `..vmlinux.export.o.cmd`) is a name inside the tree, not a way out of it.
  if (rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) return absolute;
  return rel.split(path.sep).join('/');
}

/** True when a canonical path names a file inside the output tree. */
export function isInsideTree(canonical: string): boolean {
  return !path.isAbsolute(canonical) && canonical !== '.' && !canonical.startsWith('../');
}

export function absolutePath(canonical: string, objtree: string): string {
  return path.isAbsolute(canonical) ? canonical : path.join(objtree, canonical);
}

/**
 * Where kpipe keeps what it learns outside any tree (parsed pipelines, the toolchain reads of external
 * module directories): $KPIPE_CACHE_DIR, else $XDG_CACHE_HOME/kpipe, else ~/.cache/kpipe. Deleting it
 * only costs the work it saved.
 */
export function kpipeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KPIPE_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache'), 'kpipe');
}
