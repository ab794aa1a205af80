// Which kind of tree a missing file is reported for (issue 16, point 1): a headers package's tree gets
// advice that never writes into it; a tree the user configured gets kbuild's modules_prepare.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { missingInTree, owningPackage, treeKind } from '../../core/planning/tree-kind.js';

function dir(files: string[] = []): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-tree-kind-'));
  for (const f of files) fs.writeFileSync(path.join(d, f), '');
  return d;
}

test('a tree whose Makefile a package owns is that package\'s; the advice restores it with the package manager, never make', () => {
  const tree = dir(['Makefile', '.config']);
  const kind = treeKind(tree, (file) => (file === path.join(fs.realpathSync(tree), 'Makefile') ? 'linux-headers-6.12.117+deb12-amd64' : undefined));
  assert.equal(kind, { kind: 'package', package: 'linux-headers-6.12.117+deb12-amd64' });
  const advice = missingInTree(tree, 'arch/x86/module.lds', kind);
  assert.match(advice, /headers tree of the package linux-headers-6\.12\.117\+deb12-amd64 \(dpkg -S\)/);
  assert.match(advice, /`dpkg -V linux-headers-6\.12\.117\+deb12-amd64`/);
  assert.match(advice, /`apt-get install --reinstall linux-headers-6\.12\.117\+deb12-amd64`/);
  assert.not.match(advice, /`make /, 'no make command is suggested for a package\'s tree');
});

test('a tree the user configured (no owner) gets make modules_prepare; anything else says what to give', () => {
  const built = dir(['Makefile', '.config']);
  assert.equal(treeKind(built, () => undefined), { kind: 'build' });
  assert.match(missingInTree(built, 'scripts/module.lds', { kind: 'build' }), new RegExp(`\`make -C ${built} modules_prepare\` makes scripts/module.lds`));
  const bare = dir();
  assert.equal(treeKind(bare, () => undefined), { kind: 'unknown' });
  assert.match(missingInTree(bare, 'scripts/module.lds', { kind: 'unknown' }), /neither a kernel tree kbuild configured nor one a package installed/);
});

test('owningPackage asks dpkg -S: a file of dpkg itself is owned, a temporary file is not', () => {
  if (spawnSync('dpkg', ['--version']).status !== 0) return; // not a Debian system
  assert.is(owningPackage('/usr/bin/dpkg'), 'dpkg');
  assert.is(owningPackage(path.join(dir(['x']), 'x')), undefined);
});

test.run();
