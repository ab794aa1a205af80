// The real-kernel check of module hashes, shared by the end-to-end suites of each profile:
// `kpipe run --set MODULE_HASHES=y` keeps vmlinux.unstripped equal to kbuild's vmlinux, puts the
// 36-byte root in vmlinux, and `kpipe install` + `kpipe verify-modules` pass, naming a tampered module.
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { readElfSection } from '../../core/elf/elf-section.js';
import { env, run, type KernelTree } from './kernel-tree.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
const HASHES = ['--skip', 'compile', '--set', 'MODULE_HASHES=y'];

/**
 * `unstripped`: kbuild's file that equals kpipe's vmlinux.unstripped (vmlinux before 6.15, where
 * vmlinux is the link; vmlinux.unstripped after). `victim` is tampered with and must be named;
 * `bystander` must not be.
 */
export function checkModuleHashes(tree: KernelTree, reference: string, opts: { unstripped: string; victim: string; bystander: string } = { unstripped: 'vmlinux', victim: 'lib/crc8.ko', bystander: 'lib/crc7.ko' }): void {
  const modPath = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-modpath-'));
  try {
    run([process.execPath, KPIPE, 'run', '-C', tree.out, '-j2', ...HASHES], { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.ok(fs.readFileSync(path.join(reference, opts.unstripped)).equals(fs.readFileSync(path.join(tree.out, 'vmlinux.unstripped'))), `vmlinux.unstripped is kbuild's ${opts.unstripped}`);
    const section = readElfSection(fs.readFileSync(path.join(tree.out, 'vmlinux')), '.module_hashes');
    assert.is(section?.length, 36, 'vmlinux has the 36-byte .module_hashes section');
    run([process.execPath, KPIPE, 'install', '-C', tree.out, ...HASHES, '--mod-path', modPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const verify = () => spawnSync(process.execPath, [KPIPE, 'verify-modules', '-C', tree.out, ...HASHES, '--mod-path', modPath], { env: env(), encoding: 'utf8' });
    const ok = verify();
    assert.is(ok.status, 0, ok.stdout + ok.stderr);
    const release = fs.readFileSync(path.join(tree.out, 'include/config/kernel.release'), 'utf8').trim();
    const victim = path.join(modPath, 'lib/modules', release, 'kernel', opts.victim);
    const bytes = fs.readFileSync(victim);
    bytes[100] = bytes[100]! ^ 0xff;
    fs.writeFileSync(victim, bytes);
    const bad = verify();
    assert.is(bad.status, 1);
    assert.ok((bad.stdout + bad.stderr).includes(path.basename(opts.victim)), `${opts.victim} is named`);
    assert.not.ok((bad.stdout + bad.stderr).includes(path.basename(opts.bystander)), `${opts.bystander} is not`);
  } finally {
    fs.rmSync(modPath, { recursive: true, force: true });
  }
}
