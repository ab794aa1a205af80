// The end-to-end proof for one kernel line other than 6.12 (kernel.test.ts is 6.12's): kpipe's link
// of the line's reference tree equals kbuild's own, file for file; a second run runs nothing; after
// the kernel/panic.c string edit kpipe's incremental link equals kbuild's clean link of the edited
// tree (restored, edited, compiled, linked: kbuildReference) and reruns no module step.
// kbuild's link is made deterministic first where it is not (6.1 passes pahole -j with pahole < 1.27):
// kbuild runs with the tree's PAHOLE_FLAGS less -j, which is what kpipe runs (plugins/btf).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { compilePhase, differences, env, kbuildReference, prepareTree, restore, run, withPanicEdit, type KernelTree } from '../helpers/kernel-tree.js';
import { lastRun as lastRunIn, own, type RunRecord } from '../helpers/last-run.js';
import { checkModuleHashes } from '../helpers/module-hashes-check.js';
import { BZIMAGE, LINK_LINE, bootBanner, make, moduleRecords, snapshot } from '../helpers/handoff.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');



/** PAHOLE_FLAGS as the tree's kbuild computes them, less pahole's nondeterministic -j. */
function deterministicPaholeFlags(tree: KernelTree): string {
  const printed = run(['make', '-s', '--no-print-directory', '-C', tree.out, '-f', 'Makefile', '-f', path.join(PACKAGE_ROOT, 'scripts', 'kpipe-variables.mk'),
    'kpipe-variables', 'KPIPE_COMMAND=printf "%s" "$(PAHOLE_FLAGS)"']);
  return printed.split(/\s+/).filter((w) => w !== '' && !/^-j[0-9]*$/.test(w)).join(' ');
}

export interface KernelLineOptions {
  line: string;
  /** The version the booted kernel prints (`Linux version 6.1.192 ...`). */
  release: RegExp;
  modules: number;
  /** Files kbuild's link writes on this line besides vmlinux, System.map and the .ko files. */
  extra?: string[];
  /** kbuild's records of the link (besides each module's .ko.cmd), which kpipe writes for the hand-off. */
  records: string[];
  firstTemporaryLink: RegExp;
  /** Module hashes (`--set MODULE_HASHES=y`): kbuild's file equal to vmlinux.unstripped, a module to tamper with and one left alone. */
  moduleHashes: { unstripped: string; victim: string; bystander: string };
  /** External modules (M=DIR): compared with kbuild's on this line, or refused by the pipeline. */
  extmod: 'compare' | 'refused';
  /**
   * The narrow compile's line for vmlinux.a after the panic.c edit: its saved command, or
   * scripts/Makefile.vmlinux_a where kbuild has it (core/state/kbuild-narrow.ts).
   */
  narrowVmlinuxA: 'AR      vmlinux.a' | 'MAKE    vmlinux_a';
}

export function kernelLineSuite(profile: string, opts: KernelLineOptions): void {
  let tree: KernelTree;
  let reference: string;
  let editedReference: string;
  const extra = opts.extra ?? [];

  let records: string[] = [];
  /** make variables that make kbuild's link deterministic (PAHOLE_FLAGS less -j). */
  let vars: string[] = [];
  const lastRun = (): RunRecord[] => lastRunIn(tree.out);
  const kpipeRun = () => run([process.execPath, KPIPE, 'run', '-C', tree.out, '-j2'], { stdio: ['ignore', 'pipe', 'pipe'] });

  test.before(() => {
    tree = prepareTree(profile);
    restore(tree);
    vars = [`PAHOLE_FLAGS=${deterministicPaholeFlags(tree)}`];
    records = [...opts.records, ...moduleRecords(tree)];
    reference = kbuildReference(tree, 'clean-deterministic-records', () => {}, [...extra, ...records], vars);
    editedReference = kbuildReference(tree, 'panic-edit-deterministic', () => withPanicEdit(tree, () => compilePhase(tree)), extra, vars);
    restore(tree);
  });

  test(`${opts.line}: kpipe run is byte-identical to kbuild on vmlinux, System.map, every .ko${extra.length ? ` and ${extra.join(', ')}` : ''}`, () => {
    const output = kpipeRun();
    assert.match(output, opts.firstTemporaryLink);
    assert.equal(differences(reference, tree.out, extra), []);
    const kos = fs.readdirSync(reference, { recursive: true }).filter((f) => String(f).endsWith('.ko'));
    assert.is(kos.length, opts.modules, 'every module of the reference config');
  });

  test(`${opts.line}: a second kpipe run runs no step of its own`, () => {
    kpipeRun();
    assert.equal(lastRun().filter((s) => s.ran && own(s)).map((s) => `${s.id}: ${s.why}`), []);
  });

  test(`${opts.line}: kpipe's records of the link are kbuild's, byte for byte; make vmlinux modules then links nothing`, () => {
    assert.equal(differences(reference, tree.out, [...extra, ...records]), []);
    const before = snapshot(tree, extra);
    assert.not.match(make(tree, 'vmlinux', 'modules'), LINK_LINE);
    assert.equal(snapshot(tree, extra), before, 'every output as it was, mtimes included');
  });

  test(`${opts.line}: kpipe run bzImage makes the boot image from its vmlinux, make bzImage takes it, and it boots under qemu`, () => {
    const before = snapshot(tree, extra);
    assert.match(run([process.execPath, KPIPE, 'run', '-C', tree.out, '-j2', 'bzImage'], { stdio: ['ignore', 'pipe', 'pipe'] }), /BUILD {3}arch\/x86\/boot\/bzImage/);
    const image = fs.readFileSync(path.join(tree.out, BZIMAGE));
    assert.not.match(make(tree, 'bzImage'), LINK_LINE);
    assert.equal(snapshot(tree, extra), before);
    assert.ok(fs.readFileSync(path.join(tree.out, BZIMAGE)).equals(image), 'make kept the bzImage kpipe ran kbuild for');
    bootBanner(path.join(tree.out, BZIMAGE), opts.release);
  });

  test(`${opts.line}: after the panic.c edit the incremental kpipe run equals kbuild's clean link of the edited tree, no module step reruns`, () => {
    const output = withPanicEdit(tree, () => kpipeRun());
    // Only panic.c changed since kbuild's last success: kbuild's makefiles are asked for what it reaches.
    assert.ok(output.includes(`  MAKE    kernel/\n  MAKE    ./\n  ${opts.narrowVmlinuxA}\n  MAKE    vmlinux_o\n  MAKE    modpost\n`), `narrowed:\n${output}`);
    assert.equal(differences(editedReference, tree.out, extra), []);
    const records = lastRun();
    assert.ok(records.some((s) => s.ran && s.stage === 'vmlinux.unstripped'), 'vmlinux was relinked');
    const moduleSteps = records.filter((s) => s.stage === 'modules' && own(s));
    assert.ok(moduleSteps.length >= opts.modules, 'every module is in the plan');
    assert.equal(moduleSteps.filter((s) => s.ran).map((s) => s.id), []);
  });

  test(`${opts.line}: module hashes: the image is kbuild's, vmlinux carries the root, installed modules verify`, () => {
    restore(tree);
    checkModuleHashes(tree, reference, opts.moduleHashes);
  });

  const extmodDir = () => path.join(tree.dir, 'extmod');
  const freshExtmod = () => (fs.rmSync(extmodDir(), { recursive: true, force: true }), fs.cpSync(EXTMOD_FIXTURE, extmodDir(), { recursive: true }));
  if (opts.extmod === 'refused') {
    test(`${opts.line}: external modules (M=DIR) are refused before anything is written, naming the pipeline's line`, () => {
      freshExtmod();
      const r = spawnSync(process.execPath, [KPIPE, 'run', '-C', tree.out, '-j2', `M=${extmodDir()}`], { env: env(), encoding: 'utf8' });
      assert.is(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`Linux ${opts.release.source}\\S* is not a kernel line kbuild\\.pipeline describes when KBUILD_EXTMOD`));
      assert.match(r.stderr, /kbuild\.pipeline:\d+:\d+/);
      assert.not.ok(fs.existsSync(path.join(extmodDir(), '.kpipe')), 'nothing written');
      fs.rmSync(extmodDir(), { recursive: true, force: true });
    });
  }
  if (opts.extmod === 'compare') {
    test(`${opts.line}: external modules (M=DIR): kpipe's .ko files equal make M=DIR modules, and make then relinks nothing`, () => {
      const ext = extmodDir();
      const fresh = freshExtmod;
      fresh();
      make(tree, ...vars, `M=${ext}`, 'modules');
      const kbuild = Object.fromEntries(EXTMOD_MODULES.map((ko) => [ko, fs.readFileSync(path.join(ext, ko))]));
      fresh();
      run([process.execPath, KPIPE, 'run', '-C', tree.out, '-j2', `M=${ext}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      assert.equal(EXTMOD_MODULES.filter((ko) => !fs.readFileSync(path.join(ext, ko)).equals(kbuild[ko]!)), [], 'every .ko as kbuild links it');
      assert.not.match(make(tree, `M=${ext}`, 'modules'), LINK_LINE);
      fs.rmSync(ext, { recursive: true, force: true });
    });
  }

  test.run();
}

const EXTMOD_FIXTURE = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'extmod');
const EXTMOD_MODULES = ['kpipe_hello.ko', 'kpipe_user.ko'];
