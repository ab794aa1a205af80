// core/paths.ts's canonicalPath with a fast path for spellings that are already canonical (almost all
// of them: plugins produce canonical paths). Graph building and temporary substitution canonicalise
// every path and argv word of 11,000 steps; path.resolve + path.relative for each dominated that.
import { canonicalPath } from './paths.js';

/** A relative path with no empty, `.` or `..` segment: canonical as it is. */
export function isCleanRelative(p: string): boolean {
  if (p === '' || p.charCodeAt(0) === 47) return false;
  let start = 0;
  for (let i = 0; i <= p.length; i++) {
    if (i < p.length && p.charCodeAt(i) !== 47) continue;
    const len = i - start;
    if (len === 0) return false;
    if (p.charCodeAt(start) === 46 && (len === 1 || (len === 2 && p.charCodeAt(start + 1) === 46))) return false;
    start = i + 1;
  }
  return true;
}

/** canonicalPath(p, objtree), for an objtree that is itself absolute and normalised. */
export function canonicalFast(p: string, objtree: string): string {
  if (isCleanRelative(p)) return p;
  if (p.charCodeAt(0) === 47 && objtree !== '/') {
    if (p.length > objtree.length + 1 && p.charCodeAt(objtree.length) === 47 && p.startsWith(objtree)) {
      const rest = p.slice(objtree.length + 1);
      if (isCleanRelative(rest)) return rest;
    } else if (isCleanRelative(p.slice(1)) && !(p === objtree)) {
      return p;
    }
  }
  return canonicalPath(p, objtree);
}

/** absolutePath(canonical, objtree) without path.join's normalisation, which a canonical path needs not. */
export function absoluteFast(canonical: string, objtree: string): string {
  if (canonical.charCodeAt(0) === 47) return canonical;
  return canonical === '.' ? objtree : `${objtree}/${canonical}`;
}
