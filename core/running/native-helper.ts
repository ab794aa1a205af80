// kpipe's small C programs, compiled once per machine with the host's `cc` into kpipe's cache directory
// under the hash of their source, so an edited one is compiled again and two kpipe versions never share
// a binary: the spawn helper (spawn-helper.c) and the stat batch (core/state/stat-batch.c). A machine
// that builds kernels has a host compiler (kbuild's own scripts/ are compiled with it); where there is
// none, or the compile fails, kpipe does the same work in Perl or in Node instead. A failed compile is
// remembered next to the binary, with the cc that failed, so later runs do not try again until the
// compiler changes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { kpipeCacheDir } from '../paths.js';
import { findExecutable } from '../planning/kbuild-environment.js';

const SOURCES = {
  'spawn-helper': new URL('../../../core/running/spawn-helper.c', import.meta.url),
  'stat-batch': new URL('../../../core/state/stat-batch.c', import.meta.url),
};
export type NativeProgram = keyof typeof SOURCES;
const known = new Map<NativeProgram, { env: NodeJS.ProcessEnv; binary: string | undefined }>();

/** The compiled spawn helper's path, compiling it first when this machine has none; undefined: use Perl. */
export function nativeHelper(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return nativeProgram('spawn-helper', env);
}

/** A compiled program's path, compiling it first when this machine has none; undefined: none here. */
export function nativeProgram(name: NativeProgram, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const seen = known.get(name);
  if (seen?.env === env) return seen.binary;
  const binary = compiled(name, env);
  known.set(name, { env, binary });
  return binary;
}

function compiled(name: NativeProgram, env: NodeJS.ProcessEnv): string | undefined {
  let source: Buffer;
  try {
    source = fs.readFileSync(SOURCES[name]);
  } catch {
    return undefined; // an installation without the source: the Perl helper, or Node's own stat
  }
  const dir = path.join(kpipeCacheDir(env), 'bin');
  const binary = path.join(dir, `${name}-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`);
  if (isExecutable(binary)) return binary;
  // Looked up here, not by a spawn: a machine without cc asks again each run for the cost of a few stats,
  // and one that installs gcc later gets the helper.
  const cc = findExecutable('cc', env.PATH ?? '/usr/bin:/bin', process.cwd());
  const ccTime = cc === undefined ? undefined : fs.statSync(cc, { throwIfNoEntry: false })?.mtimeMs;
  if (cc === undefined || ccTime === undefined) return undefined;
  // A compile that failed is not tried again with the same cc (its first line names the cc and its mtime).
  const failed = `${binary}.failed`;
  const which = `${cc} ${ccTime}`;
  if (readFirstLine(failed) === which) return undefined;
  const partial = `${binary}.${process.pid}`;
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${partial}.c`, source);
    const run = spawnSync(cc, ['-O2', '-pthread', '-o', partial, `${partial}.c`], { encoding: 'utf8', timeout: 120_000, env: { PATH: env.PATH ?? '/usr/bin:/bin' } });
    if (run.status !== 0) {
      fs.writeFileSync(failed, `${which}\n${cc} -O2 -pthread -o ${partial} ${partial}.c: ${run.error?.message ?? `exit ${run.status}`}\n${run.stderr ?? ''}`);
      return undefined;
    }
    fs.renameSync(partial, binary); // whole or absent: two kpipe compiling at once both rename a whole file
    return binary;
  } catch {
    return undefined; // an unwritable cache: as on a machine without cc
  } finally {
    fs.rmSync(`${partial}.c`, { force: true });
    fs.rmSync(partial, { force: true });
  }
}

function readFirstLine(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').split('\n', 1)[0];
  } catch {
    return undefined;
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
