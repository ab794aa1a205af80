// `kpipe cache stats` and `kpipe cache prune`, as a person types them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { assertExit, kpipe, removeTempDirs, tempDir } from '../cli/helpers.js';
import { LocalStore } from '../../core/cache/local-store.js';

test.after.each(() => removeTempDirs());

function filledStore(root: string): void {
  const store = new LocalStore(path.join(root, 'steps'), 1 << 30);
  for (let k = 0; k < 3; k++) {
    const content = `${k}`.repeat(2048);
    const src = path.join(root, `f${k}`);
    fs.writeFileSync(src, content);
    const hash = crypto.createHash('sha256').update(content).digest('hex');
    store.putBlob(hash, src);
    store.putEntry(crypto.createHash('sha256').update(`key${k}`).digest('hex'), [{ path: `f${k}`, hash, size: 2048 }]);
  }
}

test('cache stats: the store, its entries, blobs and size against the bound', () => {
  const root = tempDir('kc');
  filledStore(root);
  const r = kpipe(['cache', 'stats'], { env: { KPIPE_CACHE: root } });
  assertExit(r, 0);
  assert.match(r.stdout, `local step cache: ${path.join(root, 'steps')}\n`);
  assert.match(r.stdout, /entries 3\n {2}blobs {3}3\n {2}size {4}6\.\d KiB of 10\.0 GiB/);
});

test('cache prune --cache-max-size: evicts down to the size, says what it removed', () => {
  const root = tempDir('kc');
  filledStore(root);
  const r = kpipe(['cache', 'prune', '--cache-max-size', '3k'], { env: { KPIPE_CACHE: root } });
  assertExit(r, 0);
  assert.match(r.stdout, /^ {2}PRUNE {3}\d+ files, [\d.]+ KiB; [\d.]+ (B|KiB) left in /);
  const after = kpipe(['cache', 'stats'], { env: { KPIPE_CACHE: root } });
  assert.match(after.stdout, /size {4}(\d+ B|[0-2]\.\d KiB) of/);
});

test('cache with another word: a usage error, exit 2', () => {
  const r = kpipe(['cache', 'clear'], { env: { KPIPE_CACHE: tempDir('kc') } });
  assertExit(r, 2);
  assert.match(r.stderr, /expected 'stats' or 'prune'/);
});

test.run();
