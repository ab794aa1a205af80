// A step's cache key: everything that decides the bytes it writes, so equal keys mean equal outputs.
//   - the output tree's absolute path (and the state directory's, for M=): objects compiled in a tree
//     carry its path in their DWARF, so vmlinux and every .ko depend on where the tree is (DESIGN.md
//     section 4). Keying every step with it is the simple safe rule: no step is trusted to be
//     path-independent, so a tree elsewhere never gets another tree's outputs;
//   - the step's command identity (core/state/up-to-date.ts: argv, environment, redirections, the
//     run's ARCH/CROSS_COMPILE/..., the source tree for commands run there);
//   - the content of every input, as the up-to-date rule hashed it;
//   - the programs the commands start (argv[0] found on PATH, hashed once per process): a new binutils
//     or pahole must not get the old one's outputs, though the up-to-date rule, like kbuild, does not
//     rerun for it; and for in-process builtins, their code and kpipe's version.
import fs from 'node:fs';
import path from 'node:path';
import type { Step } from '../planning/step.js';
import { getBuiltin } from '../running/builtins.js';
import { hashFile } from '../state/file-state.js';
import { sha256 } from '../state/up-to-date.js';

export const CACHE_KEY_VERSION = 'kpipe-step-cache-1';

export interface KeyContext {
  objtree: string;
  stateDir: string;
  srctree?: string;
  /** PATH the commands run with. */
  pathEnv: string;
  /** kpipe's own version: builtins are kpipe's code. */
  kpipeVersion: string;
}

const programHashes = new Map<string, string>();

/**
 * The key for one run of `step`: `commandIdentity` from the up-to-date rule, `inputs` the flat
 * (path, hash) pairs the executor measured just before the step would run.
 */
export function stepKey(step: Step, commandIdentity: string, inputs: readonly string[], ctx: KeyContext): string {
  let text = `${CACHE_KEY_VERSION}\0kpipe ${ctx.kpipeVersion}\0tree ${ctx.objtree}\0state ${ctx.stateDir}\0command ${commandIdentity}`;
  for (let k = 0; k < inputs.length; k += 2) text += `\0in ${inputs[k]}\0${inputs[k + 1]}`;
  for (const o of step.outputs) text += `\0out ${o}`;
  for (const { action } of step.commands) {
    if (action.kind === 'exec') {
      const cwd = action.cwd === 'srctree' && ctx.srctree ? ctx.srctree : ctx.objtree;
      text += `\0program ${action.argv[0]}\0${programHash(action.argv[0] ?? '', cwd, ctx.pathEnv)}`;
    } else {
      const fn = getBuiltin(action.name);
      text += `\0builtin ${action.name}\0${fn ? sha256(fn.toString()) : 'unknown'}`;
    }
  }
  return sha256(text);
}

/** sha256 of the program a command starts, `none` when it cannot be found (the step will fail anyway). */
export function programHash(program: string, cwd: string, pathEnv: string): string {
  const file = findProgram(program, cwd, pathEnv);
  if (file === undefined) return 'none';
  // Keyed by stat too: the compile stage may rebuild a tool of the tree (resolve_btfids) mid-process.
  const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  const memo = `${file}\0${st?.size}\0${st?.mtimeNs}\0${st?.ino}`;
  let hash = programHashes.get(memo);
  if (hash === undefined) {
    try {
      hash = hashFile(file);
    } catch {
      hash = 'unreadable';
    }
    programHashes.set(memo, hash);
  }
  return hash;
}

function findProgram(program: string, cwd: string, pathEnv: string): string | undefined {
  if (program === '') return undefined;
  if (program.includes('/')) return isFile(path.resolve(cwd, program));
  for (const dir of pathEnv.split(':')) {
    if (dir === '') continue;
    const found = isFile(path.join(dir, program));
    if (found) return found;
  }
  return undefined;
}

function isFile(p: string): string | undefined {
  try {
    const real = fs.realpathSync(p);
    return fs.statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}
