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
 * kpipe's directory outside any tree: $KPIPE_CACHE, else ~/.cache/kpipe (the kernel trees of the
 * tests, the step cache's default store, the toolchain reads of external module directories).
 */
export function kpipeHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.KPIPE_CACHE ?? path.join(env.HOME ?? os.homedir(), '.cache', 'kpipe');
}
