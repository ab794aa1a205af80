// `kpipe install` of in-tree modules against `make modules_install` on the 6.12 reference tree (issue
// 16, point 3): every installed file equal, byte for byte (modules, modules.order, the builtin lists,
// the build link, and depmod's files, since the tree has a System.map), plain and then with the config
// asking for xz compression and INSTALL_MOD_STRIP=1. Both install kbuild's own link of the tree.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { env, prepareTree, restore, run, type KernelTree } from '../helpers/kernel-tree.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
let tree: KernelTree;
let scratch: string;
let release: string;

/** Every file under `dir`: bytes (base64) or a symlink's target. */
function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isSymbolicLink()) out[path.relative(dir, p)] = `-> ${fs.readlinkSync(p)}`;
      else if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}

function installBoth(name: string, extraEnv: NodeJS.ProcessEnv = {}): { kbuild: string; kpipe: string; stdout: string } {
  const kbuild = path.join(scratch, `${name}-kbuild`);
  const kpipe = path.join(scratch, `${name}-kpipe`);
  for (const d of [kbuild, kpipe]) fs.rmSync(d, { recursive: true, force: true });
  run(['make', '-s', 'modules_install', `INSTALL_MOD_PATH=${kbuild}`], { cwd: tree.out, env: { ...env(), ...extraEnv } });
  const r = spawnSync(process.execPath, [KPIPE, 'install', '-C', tree.out, '--mod-path', kpipe], { env: { ...env(), ...extraEnv }, encoding: 'utf8' });
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  return { kbuild, kpipe, stdout: r.stdout };
}

test.before(() => {
  tree = prepareTree('x86_64-reference');
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-install-'));
  restore(tree);
  run(['make', '-s', '-j2', 'vmlinux', 'modules'], { cwd: tree.out, env: env() });
  release = fs.readFileSync(path.join(tree.out, 'include/config/kernel.release'), 'utf8').trim();
});

test.after(() => {
  if (tree) restore(tree);
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

test('in-tree modules: every file kpipe install writes equals make modules_install\'s, depmod included', () => {
  const { kbuild, kpipe, stdout } = installBoth('plain');
  const installed = files(kpipe);
  assert.ok(`lib/modules/${release}/modules.dep` in installed, 'depmod ran (the tree has a System.map)');
  assert.ok(`lib/modules/${release}/kernel/lib/crc8.ko` in installed);
  assert.is(installed[`lib/modules/${release}/build`], `-> ${fs.realpathSync(tree.out)}`);
  assert.equal(installed, files(kbuild));
  assert.match(stdout, /^ {2}DEPMOD {2}/m);
});

test('the config asks for xz (MODULE_COMPRESS_XZ, _ALL) and INSTALL_MOD_STRIP=1: the same files as kbuild\'s', () => {
  const autoConf = path.join(tree.out, 'include/config/auto.conf');
  const original = fs.readFileSync(autoConf);
  fs.appendFileSync(autoConf, 'CONFIG_MODULE_COMPRESS=y\nCONFIG_MODULE_COMPRESS_XZ=y\nCONFIG_MODULE_COMPRESS_ALL=y\n');
  try {
    const { kbuild, kpipe } = installBoth('xz', { INSTALL_MOD_STRIP: '1' });
    const installed = files(kpipe);
    assert.ok(`lib/modules/${release}/kernel/lib/crc8.ko.xz` in installed, Object.keys(installed).join('\n'));
    assert.not.ok(`lib/modules/${release}/kernel/lib/crc8.ko` in installed);
    assert.equal(installed, files(kbuild));
  } finally {
    fs.writeFileSync(autoConf, original);
  }
});

test.run();
