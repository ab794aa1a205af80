// The unknown-symbol warning against the real 6.12 source (the reference tree's `source` link): the
// shipped pipeline names only symbols its Kconfig files define or kpipe's own, so it warns about
// nothing; an org pipeline's typo warns at the symbol, with the closest real one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { env, prepareTree, type KernelTree } from '../helpers/kernel-tree.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
let tree: KernelTree;

function explain(args: string[]) {
  return spawnSync(process.execPath, [KPIPE, 'explain', '-C', tree.out, ...args], { env: env(), encoding: 'utf8' });
}

test.before(() => {
  tree = prepareTree('x86_64-reference');
});

test('the shipped pipeline on the reference tree: no unknown-symbol warning', () => {
  const r = explain([]);
  assert.is(r.status, 0, r.stderr);
  assert.not.ok(r.stderr.includes('no Kconfig file'), r.stderr);
});

test("a typo in an org pipeline's when: a warning at the symbol, naming the Kconfig symbol meant", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-symbols-'));
  try {
    fs.writeFileSync(path.join(dir, 'org.pipeline'), `include "${path.join(PACKAGE_ROOT, 'kbuild.pipeline')}"\nextend stage modules {\n  use kbuild-mtime when DEBUG_INFO_BTF_MODULE\n}\n`);
    const r = explain(['--pipeline', path.join(dir, 'org.pipeline')]);
    assert.ok(r.stderr.includes(`org.pipeline:3:25: warning: no Kconfig file of the source tree ${tree.src} defines 'DEBUG_INFO_BTF_MODULE'`), r.stderr);
    assert.ok(r.stderr.includes("did you mean 'DEBUG_INFO_BTF_MODULES'?"), r.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
