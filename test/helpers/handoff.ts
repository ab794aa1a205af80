// What the hand-off suites share (test/e2e/handoff.test.ts on 6.12, kernel-line.ts on 6.1 and 7.2):
// kbuild's own make in the tree, kbuild's quiet lines for a link, a snapshot of the link's outputs
// (bytes and mtimes: what make must leave as it was), kbuild's records of the link, and a boot under qemu.
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { env, linkOutputs, run, type KernelTree } from './kernel-tree.js';
import { modulesOrderObjects } from '../../core/state/kbuild-record.js';

export const BZIMAGE = 'arch/x86/boot/bzImage';

/** kbuild's quiet lines for a link of vmlinux (or vmlinux.unstripped) or of a module, or for module BTF. */
export const LINK_LINE = /^\s+(LD|LD \[M\]|BTF \[M\]|BTFIDS|SORTTAB|RELOCS|RSTRIP|OBJCOPY)\s+(vmlinux|vmlinux\.unstripped|\S+\.ko)$/m;

/** `make -j2 ARGS` in the tree, in the reproducible environment; its quiet lines are what callers read. */
export function make(tree: KernelTree, ...args: string[]): string {
  const r = spawnSync('make', ['-j2', ...tree.makeArgs, ...args], { cwd: tree.out, env: env(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.is(r.status, 0, `make ${args.join(' ')}: ${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r.stdout + r.stderr;
}

/** Every link output (and `extra`) with its bytes' hash and its mtime in ns. */
export function snapshot(tree: KernelTree, extra: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of [...linkOutputs(tree.out), ...extra]) {
    const p = path.join(tree.out, f);
    out[f] = `${fs.statSync(p, { bigint: true }).mtimeNs} ${run(['sha256sum', p]).split(' ')[0]}`;
  }
  return out;
}

/** The modules of a compiled tree, as modules.order names their objects (before 6.2 it names the .ko files). */
export function moduleObjects(tree: KernelTree): string[] {
  return modulesOrderObjects(fs.readFileSync(path.join(tree.pristine, 'modules.order'), 'utf8'));
}

/** kbuild's record of each module's link (`dir/.name.ko.cmd`). */
export function moduleRecords(tree: KernelTree): string[] {
  return moduleObjects(tree).map((m) => m.replace(/([^/]+)\.o$/, '.$1.ko.cmd'));
}

/**
 * Boots a bzImage under qemu (TCG) and returns the kernel's banner line. No root file system: the
 * kernel panics after the banner, and panic=-1 with -no-reboot ends qemu.
 */
export function bootBanner(bzImage: string, release: RegExp): string {
  const r = spawnSync('qemu-system-x86_64', [
    '-accel', 'tcg', '-m', '256M', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', bzImage, '-append', 'console=ttyS0 panic=-1',
  ], { encoding: 'utf8', timeout: 180_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 });
  const console = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const banner = new RegExp(`Linux version ${release.source}\\S* \\(kpipe@kpipe\\)[^\\n]*`).exec(console);
  assert.ok(banner, `no banner on the serial console (qemu ${r.error ? String(r.error) : `exited ${r.status ?? r.signal}`}):\n${console.slice(-6000)}`);
  return banner[0];
}
