// kill -9 of kpipe in the middle of a real kernel link (the x86_64-nobtf tree), three times, each
// followed by `kpipe run`: vmlinux, System.map and every .ko byte-identical to kbuild's, no temporary
// left, and the run after that runs nothing. bench/faults/kill9.ts does the same 50 times at random.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { kbuildReference, prepareTree, restore, type KernelTree } from '../helpers/kernel-tree.js';
import { fullRun, killRound } from '../helpers/kill-nine.js';

let tree: KernelTree;
let reference: string;
let fullMs: number;

test.before(() => {
  tree = prepareTree('x86_64-nobtf');
  reference = kbuildReference(tree, 'clean');
  restore(tree);
  fullRun(tree);
  fs.rmSync(path.join(tree.out, '.kpipe'), { recursive: true, force: true });
  fullMs = fullRun(tree);
});

for (const [round, at] of [[0, 0.3], [1, 0.6], [2, 0.85]] as const) {
  test(`kill -9 at ${at * 100}% of a full link (${round % 2 === 0 ? 'state forgotten' : 'state kept, outputs removed'}), then kpipe run: identical to kbuild`, async () => {
    const r = await killRound(tree, reference, round, fullMs, 1, at);
    assert.equal(r.differences, [], `killed while: ${r.lastLine}`);
    assert.equal(r.temporaries, []);
    assert.equal(r.rerunAfter, [], 'the run after the recovery is a no-op');
  });
}

test.run();
