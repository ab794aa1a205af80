// A `when` on a symbol no Kconfig file defines (`when MODULE_HASHS`, `when MODULES000`) is simply
// false, so a plugin is quietly off. Warn, with "did you mean", against a set of known symbols: what
// the source tree's Kconfig files define (`config X`, `menuconfig X`), kpipe's own symbols and the
// `--set` ones. The caller builds the set; this module only reads Kconfig files and compares, so a
// new pseudo-symbol (a kernel version, say) is one more name in the set.
import fs from 'node:fs';
import path from 'node:path';
import type { Expr, Name, Statement } from '../../dsl/ast.js';
import type { Diagnostic } from '../diagnostic.js';
import { suggest } from '../suggest.js';
import { STATE_DIR, writeFileAtomic } from '../state/state-store.js';

/** Every symbol a `when` of the pipeline names, with where. */
export function conditionSymbols(statements: readonly Statement[]): Name[] {
  const out: Name[] = [];
  const walk = (e: Expr | undefined): void => {
    if (!e) return;
    if (e.kind === 'symbol' || e.kind === 'compare') out.push(e.symbol);
    else if (e.kind === 'not') walk(e.operand);
    else {
      walk(e.left);
      walk(e.right);
    }
  };
  for (const s of statements) {
    if (s.kind === 'include' || s.kind === 'kernels') continue;
    walk(s.when);
    if (s.kind === 'stage') for (const u of s.uses) walk(u.when);
  }
  return out;
}

/** One warning per misspelt symbol (at its first use), naming the closest known one. */
export function unknownSymbolWarnings(symbols: readonly Name[], known: ReadonlySet<string>, where: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const reported = new Set<string>();
  let candidates: string[] | undefined;
  for (const name of symbols) {
    if (known.has(name.text) || reported.has(name.text)) continue;
    reported.add(name.text);
    candidates ??= [...known];
    const guess = suggest(name.text, candidates);
    out.push({
      code: 'unknown-symbol',
      severity: 'warning',
      message: `no Kconfig file of ${where} defines '${name.text}': this condition is always false`,
      range: name.range,
      hint: guess !== undefined ? `did you mean '${guess}'?` : 'check the spelling, or give it with --set SYM=VALUE',
    });
  }
  return out;
}

const CACHE = 'kconfig-symbols.json';

interface Cache {
  srctree: string;
  /** Every Kconfig file read, with its mtime: the cache holds while none changed. */
  files: Record<string, number>;
  symbols: string[];
}

/**
 * The symbols the Kconfig files of `srctree` define, following `source` from the top Kconfig
 * (`$(SRCARCH)` and `$(HEADER_ARCH)` stand for every arch/ directory: a pipeline serves them all).
 * About 1,800 files on 6.12; cached in STATEDIR/.kpipe/ while no file read changed its mtime.
 * Undefined when the tree has no top Kconfig (a headers package may ship none): nothing to compare.
 */
export function kconfigSymbols(srctree: string, stateDir?: string): Set<string> | undefined {
  if (!fs.existsSync(path.join(srctree, 'Kconfig'))) return undefined;
  const cacheFile = stateDir ? path.join(stateDir, STATE_DIR, CACHE) : undefined;
  const cached = cacheFile ? readCache(cacheFile, srctree) : undefined;
  if (cached) return new Set(cached.symbols);
  const files: Record<string, number> = {};
  const symbols = new Set<string>();
  let arches: string[] | undefined;
  const pending = ['Kconfig'];
  while (pending.length > 0) {
    const rel = pending.pop()!;
    if (rel in files) continue;
    let text: string;
    try {
      files[rel] = fs.statSync(path.join(srctree, rel)).mtimeMs;
      text = fs.readFileSync(path.join(srctree, rel), 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^[ \t]*(?:menu)?config[ \t]+([A-Za-z0-9_]+)/gm)) symbols.add(m[1]!);
    for (const m of text.matchAll(/^[ \t]*(o?r?source)[ \t]+"([^"]+)"/gm)) {
      const relative = m[1] === 'rsource' || m[1] === 'orsource';
      let target = m[2]!;
      if (relative) target = path.join(path.dirname(rel), target);
      if (/\$\((SRC|HEADER_)ARCH\)/.test(target)) {
        arches ??= archDirectories(srctree);
        for (const a of arches) pending.push(target.replace(/\$\((SRC|HEADER_)ARCH\)/g, a));
      } else pending.push(target);
    }
  }
  if (cacheFile && Object.keys(files).length > 0) {
    try {
      fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
      writeFileAtomic(cacheFile, JSON.stringify({ srctree, files, symbols: [...symbols] } satisfies Cache), false);
    } catch {
      // a read-only tree: no cache, the same answer
    }
  }
  return symbols;
}

function archDirectories(srctree: string): string[] {
  try {
    return fs.readdirSync(path.join(srctree, 'arch'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

function readCache(file: string, srctree: string): Cache | undefined {
  let cache: Cache;
  try {
    cache = JSON.parse(fs.readFileSync(file, 'utf8')) as Cache;
  } catch {
    return undefined;
  }
  if (cache.srctree !== srctree || !Array.isArray(cache.symbols)) return undefined;
  for (const [rel, mtime] of Object.entries(cache.files)) {
    const st = fs.statSync(path.join(srctree, rel), { throwIfNoEntry: false });
    if (!st || st.mtimeMs !== mtime) return undefined;
  }
  return cache;
}
