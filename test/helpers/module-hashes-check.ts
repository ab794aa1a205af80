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

export function checkModuleHashes(tree: KernelTree, reference: string): void {
  const modPath = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-modpath-'));
  try {
    run([process.execPath, KPIPE, 'run', '-C', tree.out, '-j2', ...HASHES], { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.ok(fs.readFileSync(path.join(reference, 'vmlinux')).equals(fs.readFileSync(path.join(tree.out, 'vmlinux.unstripped'))), "vmlinux.unstripped is kbuild's vmlinux");
    const section = readElfSection(fs.readFileSync(path.join(tree.out, 'vmlinux')), '.module_hashes');
    assert.is(section?.length, 36, 'vmlinux has the 36-byte .module_hashes section');
    run([process.execPath, KPIPE, 'install', '-C', tree.out, ...HASHES, '--mod-path', modPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const verify = () => spawnSync(process.execPath, [KPIPE, 'verify-modules', '-C', tree.out, ...HASHES, '--mod-path', modPath], { env: env(), encoding: 'utf8' });
    const ok = verify();
    assert.is(ok.status, 0, ok.stdout + ok.stderr);
    const release = fs.readFileSync(path.join(tree.out, 'include/config/kernel.release'), 'utf8').trim();
    const victim = path.join(modPath, 'lib/modules', release, 'kernel/lib/crc8.ko');
    const bytes = fs.readFileSync(victim);
    bytes[100] = bytes[100]! ^ 0xff;
    fs.writeFileSync(victim, bytes);
    const bad = verify();
    assert.is(bad.status, 1);
    assert.match(bad.stdout + bad.stderr, /crc8\.ko/);
    assert.not.match(bad.stdout + bad.stderr, /crc7\.ko/);
  } finally {
    fs.rmSync(modPath, { recursive: true, force: true });
  }
}
