// External modules against Debian's packaged kernel headers (issue 16), the way DKMS-style tooling
// builds them: linux-headers-6.12.117+deb12-amd64 installed with apt (scripts/headers-package.sh),
// test/fixtures/extmod built with kpipe and with `make M=DIR modules` in the same directory (the .ko
// files carry it), compared byte for byte, .ko.cmd records included; make after kpipe relinks nothing;
// `kpipe install` against `make modules_install` (xz, signing with and without a key, depmod skipped
// without System.map); each --btf-base mistake stopped before any step; and the package's files
// unchanged throughout (dpkg -V, and a snapshot for files dpkg does not know, such as a new `source`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { readElfSection } from '../../core/elf/elf-section.js';
import { treeKind } from '../../core/planning/tree-kind.js';
import { env, run } from '../helpers/kernel-tree.js';

const KPIPE = path.join(PACKAGE_ROOT, 'bin', 'kpipe.js');
const FIXTURE = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'extmod');
const MODULES = ['kpipe_hello.ko', 'kpipe_user.ko'];
let headers: string;
let pkg: string;
let release: string;
let scratch: string;
let ext: string;
let before: { dpkg: string; files: string[] };

function freshModuleDir(): void {
  fs.rmSync(ext, { recursive: true, force: true });
  fs.cpSync(FIXTURE, ext, { recursive: true });
}

function kpipe(args: string[], extraEnv: NodeJS.ProcessEnv = {}): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [KPIPE, ...args], { env: { ...env(), ...extraEnv }, encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function make(args: string[], tree = headers): { stdout: string; stderr: string } {
  const r = spawnSync('make', ['-C', tree, '-j2', `M=${ext}`, ...args], { env: env(), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** The package's own verdict on its files (empty when unchanged), for the headers and what they link to. */
function dpkgVerify(): string {
  const packages = [pkg, pkg.replace(/-amd64$/, '-common'), `linux-kbuild-${release.replace(/-amd64$/, '')}`];
  return spawnSync('dpkg', ['-V', ...packages], { encoding: 'utf8' }).stdout;
}

/** Every file of the headers tree and of the common tree its Makefile includes, with size and mtime. */
function snapshot(): string[] {
  const common = headers.replace(/-amd64$/, '-common');
  return [headers, common].flatMap((dir) => run(['find', dir, '-printf', '%p %s %T@ %l\n']).split('\n')).sort();
}

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = e.isSymbolicLink() ? `-> ${fs.readlinkSync(p)}` : fs.readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}

test.before(() => {
  headers = run(['bash', path.join(PACKAGE_ROOT, 'scripts/headers-package.sh')], { stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  pkg = path.basename(headers);
  release = fs.readFileSync(path.join(headers, 'include/config/kernel.release'), 'utf8').trim();
  scratch = path.join(os.homedir(), '.cache', 'kpipe', 'scratch-headers');
  fs.mkdirSync(scratch, { recursive: true });
  ext = path.join(scratch, 'ext');
  before = { dpkg: dpkgVerify(), files: snapshot() };
  assert.is(before.dpkg, '', `the headers package is damaged before the suite: reinstall ${pkg}\n${before.dpkg}`);
});

test('the packaged tree is told apart: a package owns it (dpkg -S)', () => {
  assert.equal(treeKind(headers), { kind: 'package', package: pkg });
});

test("kpipe's .ko files and .ko.cmd records equal make M=DIR modules' in the same directory; make after kpipe relinks nothing", () => {
  freshModuleDir();
  make(['-s', 'modules']);
  const kbuild = path.join(scratch, 'kbuild');
  fs.rmSync(kbuild, { recursive: true, force: true });
  fs.mkdirSync(kbuild);
  const saved = [...MODULES, ...MODULES.map((ko) => `.${ko}.cmd`)];
  for (const f of saved) fs.copyFileSync(path.join(ext, f), path.join(kbuild, f));

  freshModuleDir();
  const r = kpipe(['run', '-C', headers, '-j2', `M=${ext}`]);
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.not.match(r.stderr, /skipping BTF/, 'the package ships a vmlinux with BTF: modules are based on it');
  for (const f of saved) assert.ok(fs.readFileSync(path.join(kbuild, f)).equals(fs.readFileSync(path.join(ext, f))), `${f} differs from kbuild's`);
  for (const ko of MODULES) assert.ok(readElfSection(fs.readFileSync(path.join(ext, ko)), '.BTF'), `${ko} has BTF`);

  const mtimes = MODULES.map((ko) => fs.statSync(path.join(ext, ko)).mtimeMs);
  const after = make(['modules']);
  assert.not.match(after.stdout, /LD \[M\]|BTF \[M\]/, `make relinked after kpipe:\n${after.stdout}`);
  assert.equal(MODULES.map((ko) => fs.statSync(path.join(ext, ko)).mtimeMs), mtimes);
  for (const ko of MODULES) assert.ok(fs.readFileSync(path.join(kbuild, ko)).equals(fs.readFileSync(path.join(ext, ko))), `${ko} changed`);
});

test("kpipe install M= equals make modules_install: xz-compressed, unsigned without the distribution's key (one line), no depmod without System.map", () => {
  const kbuildRoot = path.join(scratch, 'install-kbuild');
  const kpipeRoot = path.join(scratch, 'install-kpipe');
  for (const d of [kbuildRoot, kpipeRoot]) fs.rmSync(d, { recursive: true, force: true });
  make(['-s', 'modules_install', `INSTALL_MOD_PATH=${kbuildRoot}`]);
  const r = kpipe(['install', '-C', headers, `M=${ext}`, '--mod-path', kpipeRoot]);
  assert.is(r.status, 0, r.stderr);
  const installed = tree(kpipeRoot);
  assert.equal(Object.keys(installed).sort(), MODULES.map((ko) => `lib/modules/${release}/updates/${ko}.xz`).sort());
  assert.equal(installed, tree(kbuildRoot));
  assert.is(r.stderr.match(/not signing the modules: CONFIG_MODULE_SIG_ALL asks to sign the modules, but there is no key .*output\/signing_key\.pem/g)?.length, 1, r.stderr);
  assert.match(r.stderr, /not running depmod: .* has no System\.map/);
});

test('signed when the tree has the key: the same bytes as sign-file under make modules_install', () => {
  // A copy of the headers tree with a key of its own (the package's tree is never written): the
  // install only reads the tree, so a copy at another path installs the same way.
  const copy = path.join(scratch, 'headers-with-key');
  fs.rmSync(copy, { recursive: true, force: true });
  run(['cp', '-a', headers, copy]);
  for (const link of ['scripts', 'tools']) {
    const target = fs.realpathSync(path.join(headers, link));
    fs.rmSync(path.join(copy, link));
    fs.symlinkSync(target, path.join(copy, link));
  }
  fs.mkdirSync(path.join(copy, 'output'), { recursive: true });
  fs.mkdirSync(path.join(copy, 'certs'), { recursive: true });
  const key = path.join(copy, 'output/signing_key.pem');
  run(['openssl', 'req', '-new', '-nodes', '-utf8', '-sha256', '-days', '36500', '-batch', '-x509', '-subj', '/CN=kpipe test key/',
    '-newkey', 'rsa:2048', '-keyout', key, '-out', key]);
  run(['openssl', 'x509', '-in', key, '-outform', 'DER', '-out', path.join(copy, 'certs/signing_key.x509')]);
  const kbuildRoot = path.join(scratch, 'install-signed-kbuild');
  const kpipeRoot = path.join(scratch, 'install-signed-kpipe');
  for (const d of [kbuildRoot, kpipeRoot]) fs.rmSync(d, { recursive: true, force: true });
  make(['-s', 'modules_install', `INSTALL_MOD_PATH=${kbuildRoot}`], copy);
  const r = kpipe(['install', '-C', copy, `M=${ext}`, '--mod-path', kpipeRoot]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /SIGN {4}.*kpipe_hello\.ko/);
  assert.not.match(r.stderr, /not signing/);
  assert.equal(tree(kpipeRoot), tree(kbuildRoot));
  const unpacked = spawnSync('xz', ['-dc', path.join(kpipeRoot, `lib/modules/${release}/updates/kpipe_hello.ko.xz`)]).stdout as Buffer;
  assert.ok(unpacked.subarray(-28).toString('latin1').endsWith('~Module signature appended~\n'), 'a module signature trailer');
  fs.rmSync(copy, { recursive: true, force: true });
});

test('each --btf-base mistake stops before any step, naming the option; another release is a warning', () => {
  const cases: [string, RegExp][] = [
    [path.join(scratch, 'no-such-vmlinux'), /--btf-base .*no-such-vmlinux: no such file/],
    [scratch, /--btf-base .*scratch-headers: is a directory/],
    [path.join(ext, 'Kbuild'), /--btf-base .*Kbuild: neither an ELF file with a \.BTF section nor raw BTF/],
    [path.join(ext, 'hello.o'), /--btf-base .*hello\.o: an ELF file without BTF/],
  ];
  for (const [base, message] of cases) {
    const r = kpipe(['run', '-C', headers, '-j2', `M=${ext}`, '--btf-base', base]);
    assert.is(r.status, 2, `${base}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.is(r.stdout, '', `${base}: nothing ran`);
  }
  if (fs.existsSync('/sys/kernel/btf/vmlinux') && os.release() !== release) {
    const r = kpipe(['explain', '-C', headers, `M=${ext}`, '--btf-base', '/sys/kernel/btf/vmlinux']);
    assert.is(r.status, 0, r.stderr);
    assert.ok(r.stderr.includes(`is the BTF of the running kernel (${os.release()}, uname -r), but ${headers} is ${release}`), r.stderr);
  }
});

test('-v shows a delegated command with only the variables kpipe sets, not the whole environment', () => {
  fs.rmSync(path.join(ext, 'kpipe_hello.mod.o'));
  const r = kpipe(['run', '-C', headers, '-j2', `M=${ext}`, '-v']);
  assert.is(r.status, 0, r.stderr);
  const delegated = r.stdout.split('\n').find((l) => l.includes('scripts/Makefile.modfinal'));
  assert.ok(delegated, r.stdout);
  assert.not.match(delegated, /(^| )HOME=/, 'an inherited variable is not shown');
  assert.match(delegated, /  # in kbuild's exported environment \(\d+ variables from make run-command/);
  assert.ok(delegated.length < 1000, `${delegated.length} characters`);
});

test('last: the headers package is as installed (dpkg -V) and no file of its tree was added, removed or touched', () => {
  assert.is(dpkgVerify(), '');
  assert.equal(snapshot(), before.files);
});

test.run();
