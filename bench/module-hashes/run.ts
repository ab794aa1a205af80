// Merkle computation at distribution scale: 5,500 module files (seed 002's size) of a realistic size,
// hashed as the `module-hashes` builtin does (read, SHA-256 each leaf, build the tree, all proofs).
//   npx tsc -p . && node dist/bench/module-hashes/run.js [MODULES] [KIB_PER_MODULE] [REPETITIONS]
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildTree, proofFor } from '../../plugins/module-hashes/merkle.js';
import { getBuiltin } from '../../core/running/builtins.js';
import { registerModuleHashesBuiltin, BUILTIN_NAME } from '../../plugins/module-hashes/index.js';

const modules = Number(process.argv[2] ?? 5500);
const kib = Number(process.argv[3] ?? 64);
const reps = Number(process.argv[4] ?? 5);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-merkle-'));
const files: string[] = [];
for (let i = 0; i < modules; i++) {
  const f = `m${i}.ko`;
  fs.writeFileSync(path.join(dir, f), crypto.randomBytes(kib * 1024));
  files.push(f);
}
registerModuleHashesBuiltin();
const builtin = getBuiltin(BUILTIN_NAME)!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const whole: number[] = [];
const treeOnly: number[] = [];
for (let r = 0; r < reps; r++) {
  let t = performance.now();
  await builtin(['.tmp_module_hashes.bin', '', ...files], { objtree: dir, resolve: (p: string) => path.join(dir, p) } as never);
  whole.push(performance.now() - t);
  const leaves = files.map(() => crypto.randomBytes(32));
  t = performance.now();
  const tree = buildTree(leaves);
  for (let i = 0; i < leaves.length; i++) proofFor(tree, i);
  treeOnly.push(performance.now() - t);
}
console.log(`${modules} modules of ${kib} KiB, median of ${reps}:`);
console.log(`  module-hashes builtin (read + SHA-256 of every file + tree): ${median(whole).toFixed(0)} ms`);
console.log(`  tree and all ${modules} proofs from leaf hashes:            ${median(treeOnly).toFixed(1)} ms`);
fs.rmSync(dir, { recursive: true, force: true });
