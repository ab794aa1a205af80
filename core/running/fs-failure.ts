// kpipe's own writes in the output tree (.kpipe/ state, the lock, the run log, directories for
// outputs) can fail for reasons that are the machine's, not kpipe's: a full disk, a read-only mount,
// a quota. Those are reported as an error about the tree, never as an internal error with a trace.

import type { Diagnostic } from '../diagnostic.js';
import { error } from '../diagnostic.js';

/** errno codes that say the tree cannot be written right now. */
const TREE_UNWRITABLE: Record<string, string> = {
  ENOSPC: 'free some space on its file system',
  EDQUOT: 'the disk quota is exhausted; free some space',
  EROFS: 'it is on a read-only file system; remount it read-write or use another output tree',
  EACCES: 'check its permissions',
  EPERM: 'check its permissions',
  EIO: 'the file system reported an I/O error',
};

/** A diagnostic for a file-system error kpipe cannot work around, or undefined for anything else. */
export function treeUnwritable(e: unknown, objtree: string): Diagnostic | undefined {
  const err = e as NodeJS.ErrnoException;
  const hint = typeof err?.code === 'string' ? TREE_UNWRITABLE[err.code] : undefined;
  if (hint === undefined) return undefined;
  return error('tree-unwritable', `cannot write in the output tree ${objtree}: ${err.message}`, { hint });
}
