// The proof: on Debian's linux-source-6.12 with the reference config, kpipe's vmlinux, System.map and
// every .ko are byte-identical to kbuild's own link of the same prepared tree at the same path; a
// second run runs nothing; and after a string-literal edit kpipe equals kbuild again while rerunning no
// module step (kbuild re-runs BTF [M] on all of them).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { compilePhase, differences, kbuildReference, prepareTree, restore, run, withPanicEdit, type KernelTree } from '../helpers/kernel-tree.js';
import { lastRun as lastRunIn, own, type RunRecord } from '../helpers/last-run.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
let tree: KernelTree;
let reference: string;
let editedReference: string;
let typeReference: string;



const lastRun = (): RunRecord[] => lastRunIn(tree.out);

function kpipeRun(): string {
  return run([process.execPath, KPIPE, 'run', '-C', tree.out, '-j2'], { stdio: ['ignore', 'pipe', 'pipe'] });
}

test.before(() => {
  tree = prepareTree('x86_64-reference');
  reference = kbuildReference(tree, 'clean');
  editedReference = kbuildReference(tree, 'panic-edit', () => withPanicEdit(tree, () => compilePhase(tree)));
  typeReference = kbuildReference(tree, 'panic-type-edit', () => withPanicEdit(tree, () => compilePhase(tree), 'type'));
  restore(tree);
});

test('kpipe run: vmlinux, System.map and every .ko are byte-identical to kbuild', () => {
  const output = kpipeRun();
  assert.match(output, /LD {6}\.tmp_vmlinux1/);
  assert.equal(differences(reference, tree.out), []);
});

test('a second kpipe run runs no step of its own', () => {
  kpipeRun();
  const ran = lastRun().filter((s) => s.ran && own(s));
  assert.equal(ran.map((s) => `${s.id}: ${s.why}`), []);
});

test('after a string-literal edit, kpipe run (compile stage included): equal to kbuild, no module step reruns', () => {
  // No separate compile phase here: the pipeline's compile stage runs kbuild's, then kpipe replans.
  // Only panic.c changed since kbuild's last success: kbuild's makefiles are asked for kernel/panic.o,
  // the archives up to vmlinux.a and vmlinux.o, not the whole traversal (core/state/kbuild-narrow.ts).
  const output = withPanicEdit(tree, () => kpipeRun());
  assert.match(output, /^ {2}MAKE {4}kernel\/\n {2}MAKE {4}\.\/\n {2}AR {6}vmlinux\.a\n {2}MAKE {4}vmlinux_o\n {2}MAKE {4}modpost$/m);
  assert.equal(differences(editedReference, tree.out), []);
  const records = lastRun();
  assert.ok(records.some((s) => s.ran && s.stage === 'vmlinux.unstripped'), 'vmlinux was relinked');
  const moduleSteps = records.filter((s) => s.stage === 'modules' && own(s));
  assert.ok(moduleSteps.length >= 14, 'the 14 modules are in the plan');
  assert.equal(moduleSteps.filter((s) => s.ran).map((s) => s.id), []);
});

test("after an edit that adds a type, the BTF comes out different: what began on the old one runs again, and the outputs are kbuild's", () => {
  // The links after the BTF start on the last run's BTF while pahole runs (core/running/speculation.ts);
  // here pahole's differs, so they, and the modules' BTF, are decided again on the new one.
  const output = withPanicEdit(tree, () => run([process.execPath, KPIPE, 'run', '-C', tree.out, '-j2', '-v'], { stdio: ['ignore', 'pipe', 'pipe'] }), 'type');
  assert.match(output, /kpipe: BTF \.tmp_vmlinux1\.btf\.o: the steps after it start on its last outputs while it runs/);
  assert.match(output, /kpipe: BTF \.tmp_vmlinux1\.btf\.o came out different: the \d+ steps after it are decided again/);
  assert.equal(differences(typeReference, tree.out), []);
  const moduleBtf = lastRun().filter((s) => s.stage === 'modules' && own(s) && s.ran && /BTF \[M\]|LD \[M\]/.test(s.label ?? ''));
  assert.ok(moduleBtf.length >= 14, `the modules' BTF, on the new base: ${moduleBtf.length}`);
  kpipeRun();
  assert.equal(lastRun().filter((s) => s.ran && own(s)).map((s) => `${s.id}: ${s.why}`), [], 'then nothing');
});

test.run();
