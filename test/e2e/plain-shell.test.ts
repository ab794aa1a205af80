// kpipe in a kernel engineer's plain shell (issue 17): no KBUILD_BUILD_* exported and no ARCH given,
// on the reference tree. kpipe takes the tree's ARCH (and leaves its config files alone, where a make
// without ARCH would reconfigure it), a no-op runs nothing, and after a vmlinux-only edit vmlinux is
// relinked once, with a fresh version timestamp as kbuild's would have, while no module step runs.
// Byte-identity with kbuild needs the reproducible environment (test/e2e/kernel.test.ts); here what
// can be compared is compared: kbuild's own `make vmlinux modules` afterwards finds nothing to do.
// And a no-op whole build (compile stage included) asks make nothing while kbuild's inputs stay as kept.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { plainEnv, prepareTree, restore, run, withPanicEdit, type KernelTree } from '../helpers/kernel-tree.js';
import { lastRun as lastRunIn, type RunRecord } from '../helpers/last-run.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
const CONFIG_FILES = ['.config', 'include/config/auto.conf', 'include/generated/autoconf.h'];
let tree: KernelTree;

function plain(argv: string[]): string {
  return run(argv, { env: plainEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
}

function kpipe(...args: string[]): string {
  return plain([process.execPath, KPIPE, ...args]);
}


const lastRun = (): RunRecord[] => lastRunIn(tree.out);

/** Steps kpipe ran itself (delegated ones are make calls in which kbuild decides). */
function ranOwn(): string[] {
  return lastRun().filter((s) => s.ran && s.reason?.kind !== 'delegated').map((s) => `${s.id}: ${s.why}`);
}

function fingerprint(files: string[]): string[] {
  return files.map((f) => {
    const p = path.join(tree.out, f);
    return `${f} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')} ${fs.statSync(p, { bigint: true }).mtimeNs}`;
  });
}

const quietLines = (output: string) => output.split('\n').filter((l) => /^ {2}[A-Z]/.test(l));

test.before(() => {
  tree = prepareTree('x86_64-reference');
  restore(tree);
});

test("no ARCH given: explain names the tree's, and a run leaves .config, auto.conf and autoconf.h as they were", () => {
  const before = fingerprint(CONFIG_FILES);
  assert.match(kpipe('explain', '-C', tree.out), /^arch: +x86 \(ARCH=x86_64 from the header of the tree's \.config; none given\)$/m);
  const output = kpipe('run', '-C', tree.out, '--skip', 'compile', '-j2');
  assert.match(output, /LD {6}vmlinux\.unstripped/);
  assert.equal(fingerprint(CONFIG_FILES), before, 'the tree was not reconfigured');
  assert.match(fs.readFileSync(path.join(tree.out, CONFIG_FILES[0]!), 'utf8'), /^# Linux\/x86_64 /m);
});

test('a given ARCH that contradicts the tree, or that the source has no directory for, exits 2 naming why', () => {
  for (const [arch, message] of [['riscv', /ARCH=riscv contradicts the output tree: .* configured with ARCH=x86_64/], ['x68', /ARCH=x68: the source tree .* has no arch\/x68[\s\S]*did you mean ARCH=x86\?/]] as const) {
    const r = spawnPlain(['explain', '-C', tree.out, `ARCH=${arch}`]);
    assert.is(r.status, 2, `ARCH=${arch}`);
    assert.match(r.stderr, message);
  }
});

test('kpipe run vmlinx: exit 2 with a suggestion, before kbuild compiles anything', () => {
  const r = spawnPlain(['run', '-C', tree.out, 'vmlinx']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /no step produces 'vmlinx'[\s\S]*did you mean 'vmlinux'\?/);
  assert.not.match(r.stderr, /MAKE {4}vmlinux_o/);
});

test('a no-op runs nothing: no step of its own, no quiet line', () => {
  const output = kpipe('run', '-C', tree.out, '--skip', 'compile', '-j2');
  assert.equal(ranOwn(), []);
  assert.equal(quietLines(output), []);
});

test('explain --why --skip compile on that up-to-date tree: every quiet line has its reason, and all say nothing will run', () => {
  const text = kpipe('explain', '-C', tree.out, '--why', '--skip', 'compile');
  const lines = text.slice(text.indexOf('steps, in run order:')).split('\n').filter((l) => /^ {2}\S/.test(l) && !/^ {2}\[/.test(l));
  assert.ok(lines.length > 30, text);
  const unexplained = lines.filter((l) => !/why: /.test(l) && !/only on request/.test(l));
  assert.equal(unexplained, [], 'every quiet line says why');
  // bzImage is made only on request (`kpipe run bzImage`): make -n rightly says it would run.
  const running = lines.filter((l) => /why: /.test(l) && !/only on request/.test(l) && !/why: (with [^:]+: )?(up to date|delegated to kbuild, which has nothing to do|delegated to kbuild, which decides)/.test(l));
  assert.equal(running, [], 'nothing is predicted to run');
  assert.match(text, /^ {2}- {7}handoff:mtime-order /m, 'the handoff step is shown, as in graph and last-run.json');
});

test('after a kernel/panic.c edit: vmlinux relinked once with a fresh timestamp, no module step runs', () => {
  // `Linux version 6.12.117 (user@host) (gcc ...) #N SMP <date>`: the build number and the date.
  const banner = () => /Linux version [^\0]*#\d+[^\0]*/.exec(fs.readFileSync(path.join(tree.out, 'vmlinux')).toString('latin1'))?.[0];
  // The cached tree was compiled in the reproducible environment: the first compile phase in a plain
  // shell rewrites include/generated/compile.h (LINUX_COMPILE_BY/HOST become the user's), which
  // changes the DWARF string arrays of init/ and so vmlinux's BTF, once. Settle the tree in this shell
  // first, as a user's own tree is, then make the edit.
  const compile = () => run(['make', '-s', '-j2', 'ARCH=x86_64', 'KBUILD_MODULES=1', 'vmlinux_o', 'modpost'], { env: plainEnv(), cwd: tree.out, stdio: ['ignore', 'pipe', 'pipe'] });
  compile();
  kpipe('run', '-C', tree.out, '--skip', 'compile', '-j2');
  const build = banner();
  const output = withPanicEdit(tree, () => {
    // The compile phase in the same plain shell, given the ARCH the tree was configured with, as make needs it.
    compile();
    return kpipe('run', '-C', tree.out, '--skip', 'compile', '-j2');
  });
  const lines = quietLines(output);
  assert.equal(lines.filter((l) => /^ {2}LD {6}vmlinux\.unstripped$/.test(l)).length, 1, lines.join('\n'));
  assert.equal(lines.filter((l) => /^ {2}CC {6}init\/version-timestamp\.o$/.test(l)).length, 1, 'compiled once, within the link');
  assert.ok(build !== undefined && banner() !== build, `a new build number and date, as kbuild gives every relink: ${banner()}`);
  const modules = lastRun().filter((s) => s.stage === 'modules' && s.reason?.kind !== 'delegated');
  const reran = modules.filter((s) => s.ran).map((s) => `${s.id}: ${s.why}`);
  // And then nothing, by kpipe or by kbuild.
  assert.equal(quietLines(kpipe('run', '-C', tree.out, '--skip', 'compile', '-j2')), []);
  assert.equal(ranOwn(), []);
  const images = fingerprint(['vmlinux', 'System.map']);
  assert.equal(quietLines(plain(['make', '-C', tree.out, '-j2', 'ARCH=x86_64', 'vmlinux', 'modules'])).filter((l) => /^ {2}(LD|BTF|CC|KSYMS|NM)/.test(l)), [], "kbuild's no-op after kpipe");
  assert.equal(fingerprint(['vmlinux', 'System.map']), images);
  assert.ok(modules.length >= 14, 'the 14 modules are in the plan');
  // Module BTF needs vmlinux's BTF to come out the same: kpipe drops pahole's -j (6.12's Makefile.btf
  // adds it without KBUILD_BUILD_TIMESTAMP), and the new date of version-timestamp.o changes no type.
  assert.equal(reran, [], 'no module step reran');
});

test("a no-op whole build asks make nothing; a touched Makefile or another KCFLAGS has it asked again", () => {
  // The first whole run asks kbuild (nothing kept yet) and keeps what its make read.
  kpipe('run', '-C', tree.out, '-j2');
  const output = kpipe('run', '-C', tree.out, '-j2');
  assert.equal(quietLines(output), []);
  // (The hand-off's mtime check runs every time: a builtin, no process.)
  const ranAny = () => lastRun().filter((s) => s.ran && s.id !== 'handoff:mtime-order').map((s) => `${s.id}: ${s.why}`);
  assert.equal(ranAny(), [], 'no step ran, make included');
  const compile = lastRun().find((s) => s.stage === 'compile')!;
  assert.match(compile.why ?? '', /^up to date: kbuild's \d+ inputs, its environment and tools are as after its last run$/);
  // Another terminal of the same user (an editor's, a tmux pane): its session variables are not kbuild's.
  const terminal = { VSCODE_GIT_IPC_HANDLE: '/run/user/0/vscode-git-2.sock', TERM_PROGRAM: 'vscode', COLORTERM: 'truecolor', TMUX_PANE: '%7', XDG_SESSION_ID: '9', GPG_TTY: '/dev/pts/9' };
  assert.equal(quietLines(run([process.execPath, KPIPE, 'run', '-C', tree.out, '-j2'], { env: { ...plainEnv(), ...terminal }, stdio: ['ignore', 'pipe', 'pipe'] })), []);
  assert.equal(ranAny(), [], 'another terminal: no step ran, make included');
  // What make would see: flags from the environment, a Makefile of a directory it builds in.
  const why = run([process.execPath, KPIPE, 'explain', '-C', tree.out, '--why'], { env: { ...plainEnv(), KCFLAGS: '-O2' }, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(why, /^ {2}MAKE {4}vmlinux_o modpost .*why: delegated to kbuild, which decides \(KCFLAGS changed in the environment\)$/m);
  const makefile = path.join(tree.src, 'kernel', 'Makefile');
  const stat = fs.statSync(makefile);
  try {
    fs.utimesSync(makefile, stat.atime, new Date());
    assert.equal(quietLines(kpipe('run', '-C', tree.out, '-j2')), [], 'kbuild had nothing to do');
    const asked = lastRun().find((s) => s.stage === 'compile')!;
    assert.ok(asked.ran, 'make was asked');
    assert.is(asked.why, 'delegated to kbuild, which decides (kernel/Makefile changed)');
    kpipe('run', '-C', tree.out, '-j2');
    assert.equal(ranAny(), [], 'and kept again');
  } finally {
    // The source tree is every 6.12 tree's: leave its Makefile as make found it.
    fs.utimesSync(makefile, stat.atime, stat.mtime);
  }
});

test('a panic.c edit in a whole build: the narrow make compiles what it reaches, then kbuild has nothing to do', () => {
  kpipe('run', '-C', tree.out, '-j2');
  const output = withPanicEdit(tree, () => {
    const out = kpipe('run', '-C', tree.out, '-j2', '-v');
    // kbuild's own whole build of the edited tree, in the same shell: nothing left to compile or link.
    const make = plain(['make', '-C', tree.out, '-j2', 'ARCH=x86_64', 'vmlinux', 'modules']);
    assert.equal(quietLines(make).filter((l) => /^ {2}(CC|AR|LD|BTF|KSYMS|MODPOST|OBJCOPY)/.test(l)), [], make);
    return out;
  });
  assert.match(output, /narrowed to what kernel\/panic\.c reaches/);
  assert.match(output, /Makefile\.build obj=kernel need-builtin=1 need-modorder=1 .* kernel\/panic\.o/);
  assert.not.match(output, /the narrow make missed/);
  assert.not.match(output, /KBUILD_MODULES=1 vmlinux_o modpost/, 'no whole traversal');
  // The source put back with its old mtime (withPanicEdit): make sees nothing newer, as kpipe's narrow
  // make then finds (and says: the traversal confirms it). After that run, the next asks make nothing.
  kpipe('run', '-C', tree.out, '-j2');
  assert.equal(quietLines(kpipe('run', '-C', tree.out, '-j2')), []);
});

test.after(() => restore(tree));

function spawnPlain(args: string[]): { status: number | null; stderr: string } {
  try {
    kpipe(...args);
    return { status: 0, stderr: '' };
  } catch (e) {
    const text = (e as Error).message;
    const status = /exited (\d+)/.exec(text)?.[1];
    return { status: status === undefined ? null : Number(status), stderr: text };
  }
}

test.run();
