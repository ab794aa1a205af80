// A separate process storing one entry again and again (for the concurrent-writers test):
// node store-writer.js STORE FILE HASH SIZE TIMES
import { LocalStore } from '../../core/cache/local-store.js';
import fs from 'node:fs';
import path from 'node:path';

const [store, file, hash, size, times] = process.argv.slice(2) as [string, string, string, string, string];
const s = new LocalStore(store, 1 << 30);
const blob = path.join(store, 'v1', 'cas', hash.slice(0, 2), hash);
for (let k = 0; k < Number(times); k++) {
  // Drop the blob now and then, so writers really race to put it back.
  if (k % 3 === 0) fs.rmSync(blob, { force: true });
  s.putBlob(hash, file);
  s.putEntry('k'.repeat(64), [{ path: 'big', hash, size: Number(size) }]);
}
