// The executor's side of a cache lookup: what it knows about a step that must run, with the run's
// paths and PATH, as core/cache/identity.ts keys it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { absolutePath, canonicalPath } from '../paths.js';
import type { Step } from '../planning/step.js';
import type { FileProbe } from '../state/file-probe.js';
import { kbuildRecordOf, recordedDeps } from '../state/kbuild-record.js';
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

/**
 * What keys a step's kbuild commands (ExecCommand.kbuildWrites: init/version-timestamp.o in the first
 * link) besides the step's own inputs, as (path, hash) pairs: kbuild, not the plan, knows what such a
 * compile reads, so each file it writes is keyed by its `.cmd` record (the command and the `deps_`
 * list) and by every file that record names, less the command's kbuildStamps. Read afresh each time
 * (`probe.forget`): the executor asks before the step runs, to look up, and again after, to store the
 * outputs under the record that describes them. Undefined when a record is missing (a tree kbuild
 * never linked, or one `kpipe clean` emptied): nothing says what the output was made from, so the
 * step is not cached.
 */
export function kbuildKeyInputs(step: Step, probe: FileProbe, objtree: string): string[] | undefined {
  const pairs: string[] = [];
  for (const { action } of step.commands) {
    if (action.kind !== 'exec' || action.kbuildWrites === undefined) continue;
    const stamps = new Set(action.kbuildStamps ?? []);
    for (const written of action.kbuildWrites) {
      const record = kbuildRecordOf(written);
      probe.forget(record);
      const hash = probe.hash(record);
      if (hash === undefined) return undefined;
      pairs.push(record, hash);
      for (const dep of recordedDeps(absolutePath(record, objtree))) {
        const file = canonicalPath(dep, objtree);
        if (stamps.has(file)) continue;
        probe.forget(file);
        pairs.push(file, probe.hash(file) ?? 'absent');
      }
    }
  }
  return pairs;
}
