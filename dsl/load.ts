// A pipeline as kpipe uses it: the entry file with its includes expanded in place, every file's
// text kept for diagnostic frames, and every syntax, include and semantic error. Never throws for
// bad input, a missing entry file included.
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../core/diagnostic.js';
import type { Include, PipelineFile, Statement } from './ast.js';
import { parsePipeline } from './parse.js';
import { validatePipeline } from './validate.js';

export interface LoadedPipeline {
  /** Absolute path of the entry file. */
  entry: string;
  /** Every file read, entry first, then includes in the order they were first read. */
  files: PipelineFile[];
  /** Absolute file -> text (for diagnostic frames). */
  sources: Map<string, string>;
  /** All statements, includes expanded in place (depth-first), include statements left out. */
  statements: Statement[];
  /** Syntax, include and semantic errors, by file (in `files` order) then position. */
  diagnostics: Diagnostic[];
}

export interface LoadOptions {
  knownPlugins: readonly string[];
  /** Reads a file by absolute path; fs.readFileSync by default. Tests pass a virtual one. */
  readFile?: (absPath: string) => string;
}

/** Includes nested deeper than this are an error (a generated chain, not a hand-written one). */
export const MAX_INCLUDE_DEPTH = 32;

export function loadPipeline(entry: string, options: LoadOptions): LoadedPipeline {
  const readFile = options.readFile ?? ((file: string) => fs.readFileSync(file, 'utf8'));
  const entryPath = path.resolve(entry);
  const loaded: LoadedPipeline = { entry: entryPath, files: [], sources: new Map(), statements: [], diagnostics: [] };
  const display = (file: string) => path.relative(path.dirname(entryPath), file) || path.basename(file);

  const entryText = read(readFile, entryPath);
  if (typeof entryText !== 'string') {
    const code = entryText.missing ? 'entry-not-found' : 'entry-unreadable';
    loaded.diagnostics.push({ code, severity: 'error', message: `cannot read pipeline file '${entry}': ${entryText.reason}` });
    return loaded;
  }

  const expand = (file: string, text: string, chain: string[]): void => {
    const parsed = parsePipeline(text, file);
    loaded.files.push(parsed.file);
    loaded.sources.set(file, text);
    loaded.diagnostics.push(...parsed.diagnostics);
    for (const statement of parsed.file.statements) {
      if (statement.kind !== 'include') {
        loaded.statements.push(statement);
        continue;
      }
      const target = path.resolve(path.dirname(file), statement.path);
      if (chain.includes(target)) {
        const cycle = [...chain.slice(chain.indexOf(target)), target].map(display).join(' -> ');
        loaded.diagnostics.push(includeError(statement, 'include-cycle', `include cycle: ${cycle}`));
        continue;
      }
      // Included twice without a cycle (a diamond): its statements are already in, once.
      if (loaded.sources.has(target)) continue;
      if (chain.length >= MAX_INCLUDE_DEPTH) {
        loaded.diagnostics.push(
          includeError(statement, 'include-too-deep', `includes nested deeper than ${MAX_INCLUDE_DEPTH} files`),
        );
        continue;
      }
      const included = read(readFile, target);
      if (typeof included !== 'string') {
        const code = included.missing ? 'include-not-found' : 'include-unreadable';
        loaded.diagnostics.push(
          includeError(statement, code, `cannot read included file '${statement.path}': ${included.reason}`),
        );
        continue;
      }
      expand(target, included, [...chain, target]);
    }
  };
  expand(entryPath, entryText, [entryPath]);

  // A declaration lost to a syntax error or a missing include would make every reference to it an
  // error too, so references are checked only when everything was read and parsed.
  const checkReferences = loaded.diagnostics.length === 0;
  loaded.diagnostics.push(...validatePipeline(loaded.statements, { knownPlugins: options.knownPlugins, checkReferences }));
  loaded.diagnostics = inFileOrder(loaded.diagnostics, loaded.files);
  return loaded;
}

function includeError(statement: Include, code: string, message: string): Diagnostic {
  return { code, severity: 'error', message, range: statement.range };
}

function read(readFile: (file: string) => string, file: string): string | { missing: boolean; reason: string } {
  try {
    return readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT') return { missing: true, reason: 'no such file' };
    if (code === 'EISDIR') return { missing: false, reason: 'it is a directory' };
    if (code === 'EACCES') return { missing: false, reason: 'permission denied' };
    return { missing: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** Stable sort: diagnostics without a place first, then by file (entry first) and offset. */
function inFileOrder(diagnostics: Diagnostic[], files: readonly PipelineFile[]): Diagnostic[] {
  const fileIndex = new Map(files.map((file, index) => [file.file, index]));
  const key = (d: Diagnostic): [number, number] =>
    d.range === undefined ? [-1, 0] : [fileIndex.get(d.range.file) ?? files.length, d.range.start.offset];
  return diagnostics
    .map((diagnostic, index) => ({ diagnostic, index, key: key(diagnostic) }))
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.index - b.index)
    .map((entry) => entry.diagnostic);
}
