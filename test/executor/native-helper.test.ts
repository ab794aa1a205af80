// The compiled spawn helper (core/running/native-helper.ts): compiled once into the cache directory,
// and where the machine has no cc, no helper (the Perl one runs) and no second try.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nativeHelper } from '../../core/running/native-helper.js';

let cache: string;
test.before.each(() => {
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-native-'));
});
test.after.each(() => fs.rmSync(cache, { recursive: true, force: true }));

test('compiled once into the cache, under the hash of its source, then reused', () => {
  const binary = nativeHelper({ PATH: process.env.PATH, KPIPE_CACHE_DIR: cache });
  assert.ok(binary, 'compiled');
  assert.match(binary!, new RegExp(`^${cache}/bin/spawn-helper-[0-9a-f]{16}$`));
  fs.accessSync(binary!, fs.constants.X_OK);
  const made = fs.statSync(binary!).mtimeMs;
  assert.is(nativeHelper({ PATH: process.env.PATH, KPIPE_CACHE_DIR: cache }), binary);
  assert.is(fs.statSync(binary!).mtimeMs, made, 'not compiled again');
  assert.equal(fs.readdirSync(path.join(cache, 'bin')), [path.basename(binary!)], 'no source or partial binary left');
});

test('without cc: no helper and nothing written; a cc that fails is not run again until it changes', () => {
  const bin = path.join(cache, 'tools');
  const env = { PATH: bin, KPIPE_CACHE_DIR: cache };
  assert.is(nativeHelper(env), undefined);
  assert.not.ok(fs.existsSync(path.join(cache, 'bin')), 'no cc: nothing to remember, gcc may come later');
  fs.mkdirSync(bin);
  const cc = path.join(bin, 'cc');
  fs.writeFileSync(cc, `#!/bin/sh\necho "$@" >> ${path.join(bin, 'called')}\necho broken >&2\nexit 1\n`, { mode: 0o755 });
  assert.is(nativeHelper({ ...env }), undefined);
  const [failed] = fs.readdirSync(path.join(cache, 'bin'));
  assert.match(failed ?? '', /^spawn-helper-[0-9a-f]{16}\.failed$/);
  assert.match(fs.readFileSync(path.join(cache, 'bin', failed!), 'utf8'), /exit 1\nbroken\n$/);
  assert.is(fs.readFileSync(path.join(bin, 'called'), 'utf8').split('\n').length, 2, 'cc ran once');
  assert.is(nativeHelper({ ...env }), undefined);
  assert.is(fs.readFileSync(path.join(bin, 'called'), 'utf8').split('\n').length, 2, 'and not again');
  fs.utimesSync(cc, new Date(), new Date(Date.now() + 5000));
  assert.is(nativeHelper({ ...env }), undefined);
  assert.is(fs.readFileSync(path.join(bin, 'called'), 'utf8').split('\n').length, 3, 'a changed cc is tried');
});

test.run();
