// OBJTREE/.kpipe/invocation.json (M=DIR: DIR/.kpipe/): what the tree's last `kpipe run` was planned
// with, so `kpipe clean`, `kpipe plugins` and `kpipe graph` see the same plan without being told
// `--pipeline` and `--set` again (issue 15): a clean that forgot an org pipeline would leave its
// plugins' outputs. Given on the command line, `--pipeline` and `--set` win; the config file is the
// one that run used if it still exists (README "Where kpipe finds the config file").
//
//   { "version": 1, "pipeline": "/abs/release.pipeline", "sets": ["MODULE_HASHES=y"],
//     "configFile": "/abs/kpipe.config.json" }
import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR, writeFileAtomic } from '../state/state-store.js';

export const INVOCATION_FILE = 'invocation.json';

export interface Invocation {
  version: 1;
  /** Absolute; absent when the run used the default (the tree's kbuild.pipeline or kpipe's own). */
  pipeline?: string;
  sets: string[];
  /** The config file the run's plugins came from (absolute), if any. */
  configFile?: string;
  /**
   * Every output of a delegated step in this or an earlier run (vmlinux.a, modules.order, ...):
   * kbuild's files, which a plan without kbuild's stages must not take for outputs of dead steps.
   */
  delegated?: string[];
}

export function invocationPath(stateDir: string): string {
  return path.join(stateDir, STATE_DIR, INVOCATION_FILE);
}

export function writeInvocation(stateDir: string, invocation: Invocation): void {
  fs.mkdirSync(path.join(stateDir, STATE_DIR), { recursive: true });
  writeFileAtomic(invocationPath(stateDir), `${JSON.stringify(invocation, null, 2)}\n`, false);
}

/** The record, or undefined when there is none or it is not one this kpipe wrote. */
export function readInvocation(stateDir: string): Invocation | undefined {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(invocationPath(stateDir), 'utf8'));
  } catch {
    return undefined;
  }
  const v = value as Partial<Invocation> | null;
  if (!v || v.version !== 1 || !Array.isArray(v.sets) || !v.sets.every((s) => typeof s === 'string')) return undefined;
  if (v.pipeline !== undefined && typeof v.pipeline !== 'string') return undefined;
  if (v.configFile !== undefined && typeof v.configFile !== 'string') return undefined;
  const delegated = Array.isArray(v.delegated) ? v.delegated.filter((x): x is string => typeof x === 'string') : [];
  return { version: 1, sets: v.sets, ...(v.pipeline ? { pipeline: v.pipeline } : {}), ...(v.configFile ? { configFile: v.configFile } : {}), ...(delegated.length > 0 ? { delegated } : {}) };
}
