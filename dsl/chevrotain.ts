// chevrotain, loaded from the one-file ES module bundle its package ships (lib/chevrotain.mjs, the same
// version and source as its entry point). The entry point imports ~340 files (chevrotain's own and
// lodash-es, one file per function); resolving and compiling them was most of kpipe's start-up
// (about 0.6 s of CPU on a loaded 2-core machine, against 0.07 s for the bundle). Every dsl/ file
// takes chevrotain's values from here; its types still come from the package.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import type * as Chevrotain from 'chevrotain';

async function load(): Promise<typeof Chevrotain> {
  try {
    // chevrotain's "exports" name only its entry point (lib/src/api.js); the bundle sits beside lib/src.
    const entry = createRequire(import.meta.url).resolve('chevrotain');
    const bundle = path.join(path.dirname(entry), '..', 'chevrotain.mjs');
    return (await import(pathToFileURL(bundle).href)) as typeof Chevrotain;
  } catch {
    // A chevrotain packaged without the bundle: the entry point works the same, only slower to load.
    return import('chevrotain');
  }
}

const api = await load();

export const { createToken, Lexer, CstParser, EOF } = api;
export type Lexer = Chevrotain.Lexer;
export type CstParser = Chevrotain.CstParser;
export type { CstNode, IToken, TokenType, IParserErrorMessageProvider } from 'chevrotain';
