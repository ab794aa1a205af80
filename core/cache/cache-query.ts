// The executor's side of a cache lookup: what it knows about a step that must run, with the run's
// paths and PATH, as core/cache/identity.ts keys it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Step } from '../planning/step.js';
import type { CacheQuery } from './step-cache.js';

/** dist/core/cache/cache-query.js -> the package's package.json. */
const PACKAGE_JSON = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'package.json');
let version: string | undefined;

export function kpipeVersion(): string {
  if (version === undefined) {
    try {
      version = (JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8')) as { version?: string }).version ?? 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

export interface QueryOptions {
  stateDir?: string;
  srctree?: string;
  env?: Record<string, string>;
}

export function cacheQuery(step: Step, identity: string, inputs: readonly string[], objtree: string, opts: QueryOptions): CacheQuery {
  return {
    step,
    identity,
    inputs,
    context: {
      objtree,
      stateDir: path.resolve(opts.stateDir ?? objtree),
      ...(opts.srctree ? { srctree: path.resolve(opts.srctree) } : {}),
      pathEnv: opts.env?.PATH ?? process.env.PATH ?? '',
      kpipeVersion: kpipeVersion(),
    },
  };
}
