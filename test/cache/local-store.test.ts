// The local store on its own: the ActionResult encoding, least-recently-used pruning, and concurrent
// writers of one entry (separate processes) never leaving a partial file where a reader looks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeActionResult, encodeActionResult, type CachedOutput } from '../../core/cache/action-result.js';
import { LocalStore } from '../../core/cache/local-store.js';

let dir: string;
test.before.each(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-store-'));
});
test.after.each(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha = (b: string | Buffer) => crypto.createHash('sha256').update(b).digest('hex');

function file(name: string, content: string): { path: string; out: CachedOutput } {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return { path: p, out: { path: name, hash: sha(content), size: Buffer.byteLength(content) } };
}

test('ActionResult: round trip, and the bytes Bazel would write for the same result', () => {
  const outputs = [
    { path: 'vmlinux', hash: sha('x'), size: 300_000_000 },
    { path: 'crypto/crc.ko', hash: sha('y'), size: 0 },
  ];
  const bytes = encodeActionResult(outputs);
  assert.equal(decodeActionResult(bytes), { outputs, log: '' });
  assert.equal(decodeActionResult(encodeActionResult(outputs, 'WARNING: 3 bad relocations\n')), { outputs, log: 'WARNING: 3 bad relocations\n' });
  // One OutputFile by hand: field 2 (output_files), path 'a' (field 1), digest (field 2: hash, size 5).
  const h = sha('a');
  const digest = Buffer.concat([Buffer.from([0x0a, 64]), Buffer.from(h), Buffer.from([0x10, 5])]);
  const of = Buffer.concat([Buffer.from([0x0a, 1]), Buffer.from('a'), Buffer.from([0x12, digest.length]), digest]);
  assert.equal([...encodeActionResult([{ path: 'a', hash: h, size: 5 }])], [0x12, of.length, ...of]);
});

test('ActionResult: junk, a truncated entry and a failed action are not entries', () => {
  const bytes = encodeActionResult([{ path: 'vmlinux', hash: sha('x'), size: 1 }]);
  assert.is(decodeActionResult(bytes.subarray(0, bytes.length - 3)), undefined);
  assert.is(decodeActionResult(Buffer.from('<html>404</html>')), undefined);
  assert.is(decodeActionResult(Buffer.concat([bytes, Buffer.from([0x20, 1])])), undefined, 'exit_code 1');
  // Fields kpipe does not use (stdout_raw = 5) are skipped.
  assert.equal(decodeActionResult(Buffer.concat([bytes, Buffer.from([0x2a, 2, 0x41, 0x42])]))!.outputs, [{ path: 'vmlinux', hash: sha('x'), size: 1 }]);
});

test('prune removes the least recently used first, down to the bound', () => {
  const store = new LocalStore(path.join(dir, 'store'), 1 << 30);
  const old = file('old', 'o'.repeat(1000));
  const mid = file('mid', 'm'.repeat(1000));
  const recent = file('recent', 'r'.repeat(1000));
  for (const f of [old, mid, recent]) store.putBlob(f.out.hash, f.path);
  const casFile = (h: string) => path.join(dir, 'store', 'v1', 'cas', h.slice(0, 2), h);
  const at = (h: string, s: number) => fs.utimesSync(casFile(h), new Date(s * 1000), new Date(s * 1000));
  at(old.out.hash, 1000);
  at(mid.out.hash, 2000);
  at(recent.out.hash, 3000);
  // A restore is a use: "old" becomes the most recent.
  assert.ok(store.restore(old.out, path.join(dir, 'restored')));
  const r = store.prune(2000);
  assert.is(r.removedFiles, 1);
  assert.ok(fs.existsSync(casFile(old.out.hash)));
  assert.not.ok(fs.existsSync(casFile(mid.out.hash)));
  assert.ok(fs.existsSync(casFile(recent.out.hash)));
  assert.equal(store.stats().blobs, 2);
});

test('pruneIfOver keeps a store within its bound with headroom', () => {
  const store = new LocalStore(path.join(dir, 'store'), 2500);
  for (let k = 0; k < 5; k++) {
    const f = file(`f${k}`, String(k).repeat(1000));
    store.putBlob(f.out.hash, f.path);
  }
  store.pruneIfOver();
  assert.ok(store.stats().bytes <= 2250);
});

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'store-writer.js');

test('concurrent writers of the same entry (four processes): readers only ever see whole files', async () => {
  const store = path.join(dir, 'store');
  const big = file('big', crypto.randomBytes(4 << 20).toString('hex'));
  const children = [0, 1, 2, 3].map(
    () =>
      new Promise<number>((resolve) => {
        const c = spawn(process.execPath, [WRITER, store, big.path, big.out.hash, String(big.out.size), '20'], { stdio: 'inherit' });
        c.on('exit', (code) => resolve(code ?? 1));
      }),
  );
  // Read while they write: every restore is either a miss or exactly the bytes.
  const reader = new LocalStore(store, 1 << 30);
  let hits = 0;
  let done = false;
  const all = Promise.all(children).then((codes) => {
    done = true;
    return codes;
  });
  while (!done) {
    const entry = reader.entry('k'.repeat(64));
    if (entry) {
      const dest = path.join(dir, 'read');
      const rec = reader.restore(entry.outputs[0]!, dest);
      if (rec) {
        hits++;
        assert.is(rec.hash, big.out.hash);
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(await all, [0, 0, 0, 0]);
  assert.ok(reader.entry('k'.repeat(64)));
  assert.equal(fs.readdirSync(path.join(store, 'v1', 'tmp')), [], 'no temporary left');
  assert.ok(hits >= 0);
});

test.run();
