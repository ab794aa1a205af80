// kpipe install under CONFIG_MODULE_SIG_ALL without the signing key, on a fake tree whose Makefile
// only answers kpipe's `make run-command`: in-tree, an error before anything is installed (kbuild's
// sign-file fails the install); external modules, installed unsigned with one line saying why
// (kbuild runs sign-file `|| true` for them).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { kpipe, show, tempDir, removeTempDirs } from '../cli/helpers.js';

const RELEASE = '6.12.0-kpipe-sign';

test.after(() => removeTempDirs());

function fakeTree(): { tree: string; ext: string } {
  const dir = tempDir('sign');
  const tree = path.join(dir, 'tree');
  const ext = path.join(dir, 'ext');
  fs.mkdirSync(path.join(tree, 'include/config'), { recursive: true });
  fs.mkdirSync(ext);
  fs.writeFileSync(path.join(tree, 'Makefile'), 'run-command:\n\t$(KBUILD_RUN_COMMAND)\n');
  fs.writeFileSync(path.join(tree, '.config'), 'CONFIG_MODULE_SIG=y\nCONFIG_MODULE_SIG_ALL=y\nCONFIG_MODULE_SIG_HASH="sha256"\nCONFIG_MODULE_SIG_KEY="certs/signing_key.pem"\n');
  fs.writeFileSync(path.join(tree, 'include/config/kernel.release'), `${RELEASE}\n`);
  for (const dirOf of [tree, ext]) {
    fs.writeFileSync(path.join(dirOf, 'modules.order'), 'one.o\n');
    fs.writeFileSync(path.join(dirOf, 'one.ko'), 'not really an ELF, but install only copies it\n');
  }
  return { tree, ext };
}

test('in-tree: no key is an error naming CONFIG_MODULE_SIG_KEY, and nothing is installed', () => {
  const { tree } = fakeTree();
  const root = path.join(path.dirname(tree), 'inst');
  const r = kpipe(['install', '-C', tree, '--mod-path', root]);
  assert.is(r.status, 1, show(r));
  assert.match(r.stderr, /CONFIG_MODULE_SIG_ALL asks to sign the modules, but there is no key .*certs\/signing_key\.pem \(CONFIG_MODULE_SIG_KEY\)/);
  assert.not.ok(fs.existsSync(path.join(root, 'lib/modules', RELEASE, 'kernel/one.ko')));
});

test('M=DIR: installed unsigned, with one warning line for the run', () => {
  const { tree, ext } = fakeTree();
  const root = path.join(path.dirname(tree), 'inst');
  const r = kpipe(['install', '-C', tree, `M=${ext}`, '--mod-path', root]);
  assert.is(r.status, 0, show(r));
  assert.is(r.stderr.match(/not signing the modules/g)?.length, 1, r.stderr);
  assert.not.match(r.stdout, /SIGN/);
  assert.equal(fs.readFileSync(path.join(root, 'lib/modules', RELEASE, 'updates/one.ko')), fs.readFileSync(path.join(ext, 'one.ko')));
});

test.run();
