// Kernel benchmark: on the reference tree (scripts/prepare-kernel.sh), in one run and at one path,
// kbuild's own link stage (`make vmlinux modules` on the prepared tree) against `kpipe run`, full,
// no-op and after a string-literal edit of kernel/panic.c; external modules (test/fixtures/extmod,
// `make M=DIR modules` against `kpipe run M=DIR`), full and no-op; plus ninja running kpipe's
// exported graph for the no-op. Prints medians and ratios against kbuild measured in the same run.
//   npx tsc -p . && node dist/bench/kernel/run.js [REPETITIONS] [PROFILE] [SCENARIO-SUBSTRING]
// PROFILE (a configs/ name; default x86_64-reference, Linux 6.12) picks the tree: x86_64-reference-6.1
// or -7.2 for the other kernel lines (the external-module scenarios are 6.12's only); x86_64-defconfig-btf
// is the realistic tree (defconfig, BTF, 77 modules; about half an hour to compile, never in CI).
// Other words filter the scenarios by name (any may match; `ninja` keeps the ninja comparison).
// Each figure is wall time; CPU time (user + system of the command and its children, which a loaded
// machine inflates far less) is printed beside it. KPIPE_BASELINE=/path/to/other/bin/kpipe.js adds a
// column for another kpipe measured in the same run (alternating), e.g. main's before a change.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { compilePhase, env, prepareTree, restore, withPanicEdit, type KernelTree } from '../../test/helpers/kernel-tree.js';

const reps = Number(process.argv[2] ?? 3);
const words = process.argv.slice(3);
const isProfile = (w: string) => fs.existsSync(path.join(PACKAGE_ROOT, 'configs', `${w}.config`));
const profile = words.find(isProfile) ?? 'x86_64-reference';
// Scenario filters (any of them matches); `ninja` names the comparison with ninja at the end.
const only = words.filter((w) => !isProfile(w));
const filtered = only.length > 0;
let KPIPE = [process.execPath, path.join(PACKAGE_ROOT, 'bin', 'kpipe.js')];
const BASELINE = process.env.KPIPE_BASELINE;
const cpuFile = path.join(os.tmpdir(), `kpipe-bench-cpu-${process.pid}`);
/** CPU seconds of the last timed command (GNU time's %U + %S: the command and its children). */
let lastCpu = 0;

function timed(argv: string[], cwd: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-o', cpuFile, '-f', '%U %S', ...argv], { cwd, env: env(), stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed:\n${r.stderr}`);
  const [u, s] = fs.readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  lastCpu = u! + s!;
  return seconds;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

type Scenario = { name: string; kbuild: () => number; kpipe: () => number };

function scenarios(tree: KernelTree): Scenario[] {
  const make = (cwd: string) => timed(['make', '-s', '-j2', 'vmlinux', 'modules'], cwd);
  const kpipe = (...extra: string[]) => timed([...KPIPE, 'run', '-C', tree.out, '-j2', ...extra], tree.out);
  return [
    { name: 'full link (compile phase done)', kbuild: () => (restore(tree), make(tree.out)), kpipe: () => (restore(tree), kpipe('--skip', 'compile')) },
    { name: 'no-op link', kbuild: () => make(tree.out), kpipe: () => kpipe('--skip', 'compile') },
    {
      name: 'link after panic.c string edit',
      kbuild: () => (restore(tree), make(tree.out), withPanicEdit(tree, () => (compilePhase(tree), make(tree.out)))),
      kpipe: () => (restore(tree), kpipe('--skip', 'compile'), withPanicEdit(tree, () => (compilePhase(tree), kpipe('--skip', 'compile')))),
    },
    { name: 'no-op whole build (make vmlinux modules | kpipe run with its compile stage)', kbuild: () => make(tree.out), kpipe: () => kpipe() },
    {
      // The daily loop: a one-line .c edit, then one command compiles and links (timed together).
      name: 'panic.c string edit, compile + link (make vmlinux modules | kpipe run)',
      kbuild: () => (restore(tree), make(tree.out), withPanicEdit(tree, () => make(tree.out))),
      // (A whole `kpipe run` first, as in a day of them: it keeps kbuild's inputs, so the edit is narrowed.)
      kpipe: () => (restore(tree), kpipe(), withPanicEdit(tree, () => kpipe())),
    },
    ...(profile === 'x86_64-reference' ? externalModules(tree) : []),
  ];
}

/** M=DIR on the prepared tree (modules_prepare done, no vmlinux: no module BTF, as for most users). */
function externalModules(tree: KernelTree): Scenario[] {
  const ext = path.join(os.homedir(), '.cache', 'kpipe', 'scratch-bench', 'ext');
  const fresh = () => {
    fs.rmSync(ext, { recursive: true, force: true });
    fs.cpSync(path.join(PACKAGE_ROOT, 'test', 'fixtures', 'extmod'), ext, { recursive: true });
  };
  const prepared = () => {
    restore(tree);
    timed(['make', '-s', 'modules_prepare'], tree.out);
  };
  const make = () => timed(['make', '-s', '-j2', `M=${ext}`, 'modules'], tree.out);
  const kpipe = () => timed([...KPIPE, 'run', '-C', tree.out, '-j2', `M=${ext}`], tree.out);
  return [
    { name: 'external modules M=DIR, fresh DIR (make M=DIR modules | kpipe run M=DIR)', kbuild: () => (prepared(), fresh(), make()), kpipe: () => (prepared(), fresh(), kpipe()) },
    // Each tool's no-op on a DIR it built itself (kpipe writes no .cmd files in DIR, kbuild no .kpipe/).
    { name: 'external modules M=DIR, no-op', kbuild: () => (fresh(), make(), make()), kpipe: () => (fresh(), kpipe(), kpipe()) },
  ];
}

const tree = prepareTree(profile);
console.log(`tree: ${tree.out} (${profile})\nrepetitions: ${reps} (median shown)\n`);
console.log(`load: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log('scenario'.padEnd(78), 'kbuild s (cpu)', ' kpipe s (cpu)', ' kpipe/kbuild', ...(BASELINE ? [' baseline s (cpu)'] : []));
const own = KPIPE;
// A filtered run may start from a tree someone else left: link it once, so the no-ops are no-ops.
if (filtered) (restore(tree), timed([...KPIPE, 'run', '-C', tree.out, '-j2', '--skip', 'compile'], tree.out));
for (const s of scenarios(tree).filter((x) => !filtered || only.some((o) => x.name.includes(o)))) {
  const k: number[] = [], kc: number[] = [];
  const p: number[] = [], pc: number[] = [];
  const b: number[] = [], bc: number[] = [];
  for (let i = 0; i < reps; i++) {
    k.push(s.kbuild()), kc.push(lastCpu);
    p.push(s.kpipe()), pc.push(lastCpu);
    if (BASELINE) {
      KPIPE = [process.execPath, BASELINE];
      b.push(s.kpipe()), bc.push(lastCpu);
      KPIPE = own;
    }
  }
  const cell = (w: number[], c: number[]) => `${median(w).toFixed(2)} (${median(c).toFixed(2)})`.padStart(14);
  console.log(s.name.padEnd(78), cell(k, kc), cell(p, pc), (median(p) / median(k)).toFixed(2).padStart(13), ...(BASELINE ? [cell(b, bc)] : []));
}
console.log(`load: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);

// ninja on the same graph: export it from an up-to-date tree, then time ninja's no-op against kpipe's.
if (filtered && !only.includes('ninja')) process.exit(0);
restore(tree);
timed([...KPIPE, 'run', '-C', tree.out, '--skip', 'compile', '-j2'], tree.out);
timed([...KPIPE, 'export', 'ninja', '-C', tree.out, '--skip', 'compile', '-o', path.join(tree.out, 'kpipe.ninja')], tree.out);
timed(['ninja', '-f', 'kpipe.ninja'], tree.out); // first ninja run: builds its own log (writes in place)
const ninja: number[] = [];
const kp: number[] = [];
for (let i = 0; i < reps; i++) {
  ninja.push(timed(['ninja', '-f', 'kpipe.ninja'], tree.out));
  kp.push(timed([...KPIPE, 'run', '-C', tree.out, '--skip', 'compile', '-j2'], tree.out));
}
console.log('no-op: ninja on the exported graph vs kpipe'.padEnd(78), median(ninja).toFixed(2).padStart(8), median(kp).toFixed(2).padStart(8), `${(median(kp) / median(ninja)).toFixed(2).padStart(13)} (vs ninja)`);
restore(tree);
