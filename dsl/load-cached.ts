// loadPipeline with a memory of its last answers, so a run whose pipeline files have not changed never
// loads the parser: chevrotain, building the lexer and the grammar's self-analysis were about half of
// kpipe's start-up. Like ninja's build log, a cached load records what it read: every file's full text,
// and it is reused only when each of those files reads the same text again, for the same entry file,
// the same known plugins and the same DSL code (the texts of dsl/*.js). Only a load without errors is
// kept: then the files read are exactly those the texts include, so an include that was missing cannot
// appear behind the cache's back. The cache is best-effort: a missing, unreadable, foreign or damaged
// entry is a miss, and a failed write is ignored.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '../core/diagnostic.js';
import { kpipeCacheDir } from '../core/paths.js';
import type { PipelineFile, Statement } from './ast.js';
import type { LoadedPipeline, LoadOptions } from './load.js';

interface CacheEntry {
  format: typeof FORMAT;
  code: string;
  entry: string;
  knownPlugins: readonly string[];
  /** Every file read, with its text: the entry is valid while each reads the same. */
  texts: [string, string][];
  files: PipelineFile[];
  statements: Statement[];
  diagnostics: Diagnostic[];
}

const FORMAT = 'kpipe-parsed-pipeline-1';

/** Where parsed pipelines are kept: $KPIPE_CACHE_DIR, else $XDG_CACHE_HOME/kpipe, else ~/.cache/kpipe. */
export function pipelineCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(kpipeCacheDir(env), 'pipelines');
}

export async function loadPipelineCached(entry: string, options: LoadOptions, cacheDir = pipelineCacheDir()): Promise<LoadedPipeline> {
  const entryPath = path.resolve(entry);
  const code = dslCodeIdentity();
  const file = path.join(cacheDir, `${sha256(`${code}\0${entryPath}\0${options.knownPlugins.join('\0')}`)}.json`);
  const hit = options.readFile ? undefined : lookup(file, code, entryPath, options.knownPlugins);
  if (hit) {
    touch(file);
    return hit;
  }
  const { loadPipeline } = await import('./load.js');
  const loaded = loadPipeline(entryPath, options);
  if (!options.readFile && !loaded.diagnostics.some((d) => d.severity === 'error')) {
    const record: CacheEntry = {
      format: FORMAT,
      code,
      entry: entryPath,
      knownPlugins: options.knownPlugins,
      texts: [...loaded.sources],
      files: loaded.files,
      statements: loaded.statements,
      diagnostics: loaded.diagnostics,
    };
    save(file, JSON.stringify(record));
    prune(cacheDir);
  }
  return loaded;
}

/** Entries kept: every pipeline file a person or a test suite planned with lately, and no more. */
export const MAX_ENTRIES = 200;

/** Marks an entry as used (the mtime orders entries for prune). */
function touch(file: string): void {
  try {
    const now = new Date();
    fs.utimesSync(file, now, now);
  } catch {
    // best-effort
  }
}

/** Past MAX_ENTRIES (test suites plan many temporary pipelines), the least recently used go. */
function prune(dir: string): void {
  try {
    const names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
    if (names.length <= MAX_ENTRIES) return;
    const aged = names.map((n) => ({ n, t: fs.statSync(path.join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 })).sort((a, b) => a.t - b.t);
    for (const { n } of aged.slice(0, names.length - MAX_ENTRIES / 2)) fs.rmSync(path.join(dir, n), { force: true });
  } catch {
    // best-effort: another run may be pruning too
  }
}

function lookup(file: string, code: string, entry: string, knownPlugins: readonly string[]): LoadedPipeline | undefined {
  let record: CacheEntry;
  try {
    record = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheEntry;
  } catch {
    return undefined;
  }
  if (record.format !== FORMAT || record.code !== code || record.entry !== entry) return undefined;
  if (record.knownPlugins.length !== knownPlugins.length || record.knownPlugins.some((p, k) => p !== knownPlugins[k])) return undefined;
  for (const [f, text] of record.texts) {
    try {
      if (fs.readFileSync(f, 'utf8') !== text) return undefined;
    } catch {
      return undefined;
    }
  }
  return { entry, files: record.files, sources: new Map(record.texts), statements: record.statements, diagnostics: record.diagnostics };
}

function save(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

let codeIdentity: string | undefined;

/** The DSL as this kpipe parses it: a new grammar or AST shape must never meet an old cached tree. */
function dslCodeIdentity(): string {
  if (codeIdentity !== undefined) return codeIdentity;
  const dir = path.dirname(fileURLToPath(import.meta.url));
  const hash = crypto.createHash('sha256');
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.js')).sort()) hash.update(`${name}\0`).update(fs.readFileSync(path.join(dir, name)));
  return (codeIdentity = hash.digest('hex'));
}

function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}
