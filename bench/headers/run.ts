// External modules against Debian's packaged headers (scripts/headers-package.sh), in one run and at
// one path: `make -C HEADERS M=DIR modules` against `kpipe run -C HEADERS M=DIR` (test/fixtures/extmod,
// 2 modules, BTF based on the package's vmlinux), fresh and no-op, and `make modules_install` against
// `kpipe install` (xz, no key to sign with, no System.map for depmod). Medians and ratios.
//   npx tsc -p . && node dist/bench/headers/run.js [REPETITIONS]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { env, run } from '../../test/helpers/kernel-tree.js';

const reps = Number(process.argv[2] ?? 3);
const KPIPE = [process.execPath, path.join(PACKAGE_ROOT, 'bin', 'kpipe.js')];
const headers = run(['bash', path.join(PACKAGE_ROOT, 'scripts/headers-package.sh')], { stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const scratch = path.join(os.homedir(), '.cache', 'kpipe', 'scratch-bench-headers');
const ext = path.join(scratch, 'ext');

function timed(argv: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { env: env(), stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed:\n${r.stderr}`);
  return seconds;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const fresh = (): void => {
  fs.rmSync(ext, { recursive: true, force: true });
  fs.cpSync(path.join(PACKAGE_ROOT, 'test', 'fixtures', 'extmod'), ext, { recursive: true });
};
const make = (...words: string[]) => timed(['make', '-s', '-C', headers, '-j2', `M=${ext}`, ...words]);
const kpipe = (...words: string[]) => timed([...KPIPE, ...words.slice(0, 1), '-C', headers, '-j2', `M=${ext}`, ...words.slice(1)]);
const root = (who: string) => {
  const dir = path.join(scratch, `install-${who}`);
  fs.rmSync(dir, { recursive: true, force: true });
  return dir;
};

const scenarios: { name: string; kbuild: () => number; kpipe: () => number }[] = [
  { name: 'fresh DIR: make M=DIR modules vs kpipe run M=DIR', kbuild: () => (fresh(), make('modules')), kpipe: () => (fresh(), kpipe('run')) },
  { name: 'no-op (each on a DIR it built)', kbuild: () => (fresh(), make('modules'), make('modules')), kpipe: () => (fresh(), kpipe('run'), kpipe('run')) },
  { name: 'make modules_install vs kpipe install (xz)', kbuild: () => make('modules_install', `INSTALL_MOD_PATH=${root('kbuild')}`), kpipe: () => kpipe('install', '--mod-path', root('kpipe')) },
];

fs.mkdirSync(scratch, { recursive: true });
console.log(`${headers}, ${reps} repetitions, -j2`);
console.log('| scenario | kbuild s | kpipe s | kpipe/kbuild |\n| --- | ---: | ---: | ---: |');
for (const s of scenarios) {
  // Each scenario returns the time of its last call only (the no-op's first call builds the DIR).
  const kb: number[] = [];
  const kp: number[] = [];
  for (let i = 0; i < reps; i++) {
    kb.push(s.kbuild());
    kp.push(s.kpipe());
  }
  const a = median(kb);
  const b = median(kp);
  console.log(`| ${s.name} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(b / a).toFixed(2)} |`);
}
