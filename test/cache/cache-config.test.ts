// Where the step cache's settings come from: nothing (no cache), the config file's "cache" key, the
// command line on top; and the mistakes in either, reported as data with the file's name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultCacheDir, loadCacheSettings, parseSize } from '../../core/cache/cache-config.js';
import { KpipeError } from '../../core/diagnostic.js';
import { parseCli } from '../../core/cli/args.js';

let dir: string;
const env = { HOME: '/home/dev' };
test.before.each(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-cachecfg-')));
});
test.after.each(() => fs.rmSync(dir, { recursive: true, force: true }));

const config = (cache: unknown) => fs.writeFileSync(path.join(dir, 'kpipe.config.json'), JSON.stringify({ cache }));
const load = (flags: string[] = []) => loadCacheSettings(dir, parseCli(['run', ...flags]).cache, dir, env);

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, KpipeError);
    assert.match((e as KpipeError).diagnostics.map((d) => d.message).join('\n'), pattern);
    return;
  }
  assert.unreachable('expected an error');
}

test('no config and no flag: no cache', async () => {
  assert.is(await load(), undefined);
});

test('--cache: the local store under ~/.cache/kpipe/steps, 10 GiB', async () => {
  assert.equal(await load(['--cache']), { local: { dir: '/home/dev/.cache/kpipe/steps', maxBytes: 10 * 1024 ** 3 } });
  assert.is(defaultCacheDir({ KPIPE_CACHE: '/srv/kpipe' }), '/srv/kpipe/steps');
});

test('"cache": true in the config file turns it on; --no-cache turns everything off', async () => {
  config(true);
  assert.ok((await load())?.local);
  assert.is(await load(['--no-cache']), undefined);
});

test('the config file: dir relative to it, maxSize, a remote with headers; the command line wins', async () => {
  config({ dir: 'steps', maxSize: '2G', remote: { url: 'http://127.0.0.1:9/c', mode: 'read-write', headers: { Authorization: 'Bearer x' }, timeoutSeconds: 3 } });
  assert.equal(await load(), {
    local: { dir: path.join(dir, 'steps'), maxBytes: 2 * 1024 ** 3 },
    remote: { url: 'http://127.0.0.1:9/c', headers: { Authorization: 'Bearer x' }, mode: 'read-write', timeoutMs: 3000 },
  });
  const s = await load(['--cache-dir', '/tmp/x', '--cache-max-size', '500M', '--remote-cache-mode', 'read-only', '--remote-header', 'X-Team: kernel']);
  assert.equal(s!.local, { dir: '/tmp/x', maxBytes: 500 * 1024 ** 2 });
  assert.is(s!.remote!.mode, 'read-only');
  assert.equal(s!.remote!.headers, { Authorization: 'Bearer x', 'X-Team': 'kernel' });
});

test('--remote-cache alone: a read-only remote and no local store', async () => {
  assert.equal(await load(['--remote-cache', 'http://127.0.0.1:8080/kpipe']), { remote: { url: 'http://127.0.0.1:8080/kpipe', headers: {}, mode: 'read-only', timeoutMs: 30_000 } });
});

test('"local": false keeps only the remote', async () => {
  config({ local: false, remote: { url: 'http://127.0.0.1:8080/' } });
  const s = await load();
  assert.is(s!.local, undefined);
  assert.is(s!.remote!.mode, 'read-only');
});

test('mistakes: in the config file (named) and on the command line', async () => {
  config({ maxsize: '2G' });
  await rejects(load(), /kpipe\.config\.json: "cache": unknown key 'maxsize'/);
  config({ maxSize: 'big' });
  await rejects(load(), /maxSize must be a size/);
  config({ remote: { url: 'ftp://x/' } });
  await rejects(load(), /must be an http:\/\/ or https:\/\/ URL/);
  config({ remote: { url: 'http://x/', mode: 'write' } });
  await rejects(load(), /mode must be "read-only" or "read-write"/);
  config(true);
  await rejects(load(['--remote-cache-mode', 'read-write']), /need a remote cache/);
  await rejects(load(['--remote-cache', 'http://x/', '--remote-header', 'no colon']), /'Name: value'/);
  await rejects(load(['--cache-max-size', '12 parsecs']), /--cache-max-size expects a size/);
  assert.throws(() => parseCli(['run', '--cache', '--no-cache']), /contradict/);
});

test('sizes', () => {
  assert.is(parseSize('20G'), 20 * 1024 ** 3);
  assert.is(parseSize('1.5k'), 1536);
  assert.is(parseSize('64MiB'), 64 * 1024 ** 2);
  assert.is(parseSize(4096), 4096);
  assert.is(parseSize('-1'), undefined);
});

test.run();
