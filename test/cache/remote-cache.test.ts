// The remote step cache against a real server: Debian's nginx with a WebDAV location, as Bazel's HTTP
// cache documentation describes, on 127.0.0.1 and a port this test chose. A run fills it, a run into
// an emptied tree at the same path restores from it; and every way the server can fail (stopped,
// HTTP 500, a truncated blob, too slow) gives one warning, a local run and the right bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chain, makeTree, step, cmd, exec, type Tree } from '../executor/fixture.js';
import { StepCache } from '../../core/cache/step-cache.js';
import type { RemoteMode } from '../../core/cache/remote-store.js';
import { decodeActionResult } from '../../core/cache/action-result.js';
import { freePort, startNginx, type Nginx } from '../helpers/nginx.js';

let t: Tree;
let nginx: Nginx;
let localDir: string;

test.before(async () => {
  nginx = await startNginx();
});
test.after(async () => {
  await nginx.stop();
});
test.before.each(() => {
  t = makeTree();
  t.write('a.src', 'alpha');
  t.write('b.src', 'beta');
  localDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-cache-'));
  fs.rmSync(path.join(nginx.root, 'cache'), { recursive: true, force: true });
  fs.mkdirSync(path.join(nginx.root, 'cache'));
});
test.after.each(() => {
  t.remove();
  fs.rmSync(localDir, { recursive: true, force: true });
});

const ran = (tr: Tree) => tr.runs().map((l) => l.split(' ')[0]);
const remote = (url: string, mode: RemoteMode = 'read-write', timeoutMs = 5000, local = false) =>
  new StepCache({ remote: { url, headers: {}, mode, timeoutMs }, ...(local ? { local: { dir: localDir, maxBytes: 1 << 30 } } : {}) });

/** The tree as a fresh checkout at the same path: no .kpipe/, no outputs. */
function empty(tr: Tree): void {
  for (const f of ['.kpipe', 'a.out', 'b.out']) fs.rmSync(path.join(tr.dir, f), { recursive: true, force: true });
  tr.resetRuns();
}

function serverFiles(sub: string): string[] {
  const dir = path.join(nginx.root, 'cache', sub);
  return fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : [];
}

test('a read-write run fills the server (/ac/ and /cas/ by SHA-256), a run into an emptied tree restores from it', async () => {
  const writer = remote(`${nginx.origin}/cache`);
  await t.run(chain(t), { cache: writer });
  assert.equal(writer.warnings, []);
  assert.is(serverFiles('ac').length, 2);
  assert.is(serverFiles('cas').length, 2);
  const entry = decodeActionResult(fs.readFileSync(serverFiles('ac').find((f) => decodeActionResult(fs.readFileSync(f))!.outputs[0]!.path === 'a.out')!));
  assert.equal(entry!.outputs[0]!.size, 'A:alpha'.length);
  empty(t);
  const reader = remote(`${nginx.origin}/cache`, 'read-only', 5000, true);
  const r = await t.run(chain(t), { cache: reader });
  assert.equal(ran(t), [], 'no tool ran');
  assert.is(t.read('b.out'), 'B:A:alphabeta');
  assert.is(r.output, '  CACHED  a.out\n  CACHED  b.out\n');
  assert.equal(t.lastRun().steps.map((s) => s.cached), ['remote', 'remote']);
  assert.equal(reader.warnings, []);
  // Written through to the local store: the next restore needs no server.
  empty(t);
  const offline = new StepCache({ local: { dir: localDir, maxBytes: 1 << 30 } });
  await t.run(chain(t), { cache: offline });
  assert.equal(offline.counts, { local: 2, remote: 0, stored: 0 });
});

test('a read-only remote is never written', async () => {
  await t.run(chain(t), { cache: remote(`${nginx.origin}/cache`, 'read-only') });
  assert.equal(serverFiles('ac'), []);
  assert.equal(serverFiles('cas'), []);
});

async function failureCase(cacheUrl: string, timeoutMs = 5000): Promise<StepCache> {
  const c = remote(cacheUrl, 'read-write', timeoutMs);
  const r = await t.run(chain(t), { cache: c });
  assert.is(r.status, 'ok');
  assert.is(r.exitCode, 0);
  assert.equal(ran(t), ['A', 'B'], 'the steps ran here');
  assert.is(t.read('b.out'), 'B:A:alphabeta');
  assert.is(c.warnings.length, 1, `one warning for the run: ${c.warnings.map((w) => w.message).join(' | ')}`);
  assert.is(c.warnings[0]!.severity, 'warning');
  return c;
}

test('a server answering 500: one warning, the steps run', async () => {
  const c = await failureCase(`${nginx.origin}/error`);
  assert.match(c.warnings[0]!.message, /HTTP 500/);
});

test('a stopped server (nothing listening): one warning, the steps run', async () => {
  const port = await freePort();
  const c = await failureCase(`http://127.0.0.1:${port}/cache`);
  assert.match(c.warnings[0]!.message, /ECONNREFUSED/);
});

test('a server slower than the timeout: one warning, the steps run', async () => {
  // Fill the cache first, so the slow location has entries to trickle out.
  await t.run(chain(t), { cache: remote(`${nginx.origin}/cache`) });
  empty(t);
  const c = await failureCase(`${nginx.origin}/slow`, 500);
  assert.match(c.warnings[0]!.message, /no answer within 0.5 s/);
});

test('a truncated blob on the server: one warning, the steps run, never a wrong byte', async () => {
  await t.run(chain(t), { cache: remote(`${nginx.origin}/cache`) });
  for (const blob of serverFiles('cas')) fs.truncateSync(blob, 3);
  empty(t);
  const c = remote(`${nginx.origin}/cache`, 'read-only');
  const r = await t.run(chain(t), { cache: c });
  assert.is(r.status, 'ok');
  assert.equal(ran(t), ['A', 'B']);
  assert.is(t.read('a.out'), 'A:alpha');
  assert.is(t.read('b.out'), 'B:A:alphabeta');
  assert.is(c.warnings.length, 1);
  assert.match(c.warnings[0]!.message, /expected 7 bytes/);
  assert.equal(t.temporaries(), []);
});

test('a server that filled the cache, then stopped: one warning, every step runs', async () => {
  const own = await startNginx();
  try {
    const steps = [
      ...chain(t),
      step('C', ['b.out'], ['c.out'], [cmd('GEN', 'c.out', exec([t.tool('gen'), 'C', 'c.out', 'b.out']))]),
    ];
    await t.run(steps, { cache: remote(`${own.origin}/cache`) });
    empty(t);
    fs.rmSync(path.join(t.dir, 'c.out'));
    await own.stop();
    const c = remote(`${own.origin}/cache`, 'read-only');
    const r = await t.run(steps, { cache: c, jobs: 1 });
    assert.is(r.status, 'ok');
    assert.equal(ran(t), ['A', 'B', 'C']);
    assert.is(c.warnings.length, 1);
  } finally {
    await own.stop();
  }
});

test.run();
