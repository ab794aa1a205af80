// The worker of core/state/stat-prefetch.ts: stats each path in order and publishes the result, the
// numbers first and then the state word, so a reader that sees the state sees the numbers.
import { workerData } from 'node:worker_threads';
import type { FileStat } from './file-state.js';
import { statFile } from './file-state.js';
import { IS_FILE, NO_FILE } from './stat-prefetch.js';

const { paths, state, numbers } = workerData as { paths: string; state: Int32Array; numbers: BigInt64Array };

let i = 0;
for (const p of paths.split('\0')) {
  let st: FileStat | undefined;
  try {
    st = statFile(p);
  } catch {
    // EACCES, ENOTDIR, ...: leave it to the main thread, which reports what it finds.
    i++;
    continue;
  }
  if (st) {
    numbers[3 * i] = BigInt(st.size);
    numbers[3 * i + 1] = st.mtimeNs;
    numbers[3 * i + 2] = st.ino;
    Atomics.store(state, i, IS_FILE);
  } else {
    Atomics.store(state, i, NO_FILE);
  }
  i++;
}
