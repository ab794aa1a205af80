// The cross-architecture check CI does not run (each tree is a kernel compile): for every profile
// given, prepare its cross tree (scripts/cross-tree.sh, timed; instant when cached), save kbuild's
// `make vmlinux modules` as the reference, restore the tree, `kpipe run` it with the same ARCH and
// CROSS_COMPILE words, and compare vmlinux, System.map, every .ko and the arch post-link outputs byte
// for byte. One tree at a time.
//   scripts/cross-check.sh PROFILE...     (e.g. ppc64le-relocatable mips-relocatable s390x-relocatable)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { differences, env, kbuildReference, linkOutputs, postlinkOutputs, prepareTree, restore } from '../../test/helpers/kernel-tree.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');

function seconds<T>(fn: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const value = fn();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

const profiles = process.argv.slice(2);
if (profiles.length === 0) {
  console.error('usage: scripts/cross-check.sh PROFILE...');
  process.exit(2);
}
let failed = 0;
for (const profile of profiles) {
  try {
    if (!check(profile)) failed++;
  } catch (e) {
    // A tree that does not compile, or a kbuild link that fails: say so and go on with the next.
    failed++;
    console.log(`${profile}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;

/** Prints the comparison for one profile; false when kpipe failed or differs from kbuild. */
function check(profile: string): boolean {
  const [tree, prepare] = seconds(() => prepareTree(profile));
  const extra = postlinkOutputs(tree.makeArgs);
  const [reference, kbuild] = seconds(() => kbuildReference(tree, 'clean', () => {}, extra));
  restore(tree);
  const [r, kpipe] = seconds(() => spawnSync(process.execPath, [KPIPE, 'run', '-C', tree.out, '-j2', ...tree.makeArgs], { env: env(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
  console.log(`${profile}: ${tree.out} (${tree.makeArgs.join(' ')})`);
  console.log(`  prepare (compile phase, 0 when cached) ${prepare.toFixed(0)} s; kbuild reference ${kbuild.toFixed(1)} s (0 when saved earlier); kpipe run ${kpipe.toFixed(1)} s`);
  if (r.status !== 0) {
    console.log(`  kpipe run failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    return false;
  }
  const compared = [...linkOutputs(reference), ...extra];
  const diff = differences(reference, tree.out, extra);
  console.log(diff.length === 0 ? `  byte-identical: ${compared.join(' ')}` : `  DIFFERENT:\n${diff.map((d) => `    ${d}`).join('\n')}`);
  const postlink = r.stdout.split('\n').filter((l) => /^ {2}(CHK\w+|CPREL|STRIPREL|RSTRIP|RELOCS|LLSCCHK)\b/.test(l) || /WARNING/.test(l));
  console.log(`  post-link lines of kpipe:\n${postlink.map((l) => `  ${l}`).join('\n') || '    (none)'}`);
  return diff.length === 0;
}
