// `--btf-base FILE` is checked before the plan and before any step (issue 16, point 4): each mistake
// is one error naming the option, exit 2, and nothing ran; a base of another release than the tree's
// is a warning.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bannerRelease, checkBtfBase } from '../../core/cli/btf-base-option.js';
import { assertUserError, kpipe, removeTempDirs, tempDir } from './helpers.js';
import { elfWithSection } from '../helpers/tiny-elf.js';

test.after(removeTempDirs);

/** Raw BTF: the 24-byte header (magic 0xeb9f, version 1) and an empty string section. */
const RAW_BTF = Buffer.concat([Buffer.from([0x9f, 0xeb, 1, 0, 24, 0, 0, 0]), Buffer.alloc(12), Buffer.from([1, 0, 0, 0, 0])]);


/** A directory with just what the check reads of a tree: its release. */
function treeOf(release: string): string {
  const dir = tempDir('btf-tree');
  fs.mkdirSync(path.join(dir, 'include/config'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'include/config/kernel.release'), `${release}\n`);
  return dir;
}

function file(name: string, bytes: Buffer): string {
  const f = path.join(tempDir('btf-base'), name);
  fs.writeFileSync(f, bytes);
  return f;
}

const messages = (file: string, tree?: string, running?: string) => checkBtfBase(file, tree, running).map((d) => `${d.severity}: ${d.message}`);

test('a missing file, a directory, a file without BTF and an ELF without .BTF are errors naming --btf-base', () => {
  const missing = path.join(tempDir('btf-none'), 'vmlinux');
  assert.equal(messages(missing), [`error: --btf-base ${missing}: no such file`]);
  const dir = tempDir('btf-dir');
  assert.equal(messages(dir), [`error: --btf-base ${dir}: is a directory, not a file holding BTF`]);
  const text = file('notes.txt', Buffer.from('not BTF at all, long enough to have a header\n'));
  assert.match(messages(text)[0]!, /^error: --btf-base .*notes\.txt: neither an ELF file with a \.BTF section nor raw BTF/);
  const elf = file('vmlinux', elfWithSection('.data', RAW_BTF, { type: 2 }));
  assert.match(messages(elf)[0]!, /^error: --btf-base .*vmlinux: an ELF file without BTF \(no \.BTF section\)/);
});

test('raw BTF and an ELF with a .BTF section are bases; the same release as the tree: nothing to say', () => {
  const tree = treeOf('6.12.117');
  assert.equal(messages(file('raw', RAW_BTF), tree), []);
  assert.equal(messages(file('vmlinux', elfWithSection('.BTF', RAW_BTF, { type: 2, trailer: Buffer.from('\0Linux version 6.12.117 (kpipe@kpipe) #1\0') })), tree), []);
});

test("a vmlinux whose banner is another release than the tree's: a warning naming both", () => {
  const base = file('vmlinux', elfWithSection('.BTF', RAW_BTF, { type: 2, trailer: Buffer.from('\0Linux version %s (%s)\0Linux version 6.18.4 (u@h) #1\0') }));
  assert.equal(bannerRelease(fs.readFileSync(base)), '6.18.4');
  const found = checkBtfBase(base, treeOf('6.12.117+deb12-amd64'));
  assert.equal(found.map((d) => d.severity), ['warning']);
  assert.match(found[0]!.message, /is the BTF of a 6\.18\.4 kernel \(its banner\), but .* is 6\.12\.117\+deb12-amd64 \(include\/config\/kernel\.release\)/);
});

test("/sys/kernel/btf/vmlinux is the running kernel's: its release is uname -r", () => {
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) return; // a kernel without BTF: nothing to read
  const tree = treeOf('6.12.117+deb12-amd64');
  assert.equal(messages('/sys/kernel/btf/vmlinux', tree, '6.12.117+deb12-amd64'), []);
  const found = messages('/sys/kernel/btf/vmlinux', tree, '6.18.44-other');
  assert.equal(found.length, 1);
  assert.match(found[0]!, /^warning: --btf-base \/sys\/kernel\/btf\/vmlinux is the BTF of the running kernel \(6\.18\.44-other, uname -r\), but/);
});

test('kpipe run --btf-base MISSING: exit 2 before anything runs, the error names the option', () => {
  const tree = treeOf('6.12.117');
  const missing = path.join(tree, 'no-such-vmlinux');
  const r = kpipe(['run', '-C', tree, `M=${tempDir('ext')}`, '--btf-base', missing]);
  assertUserError(r);
  assert.ok(r.stderr.includes(`error: --btf-base ${missing}: no such file`), r.stderr);
  assert.is(r.stdout, '', 'no step ran');
  assert.not.ok(fs.existsSync(path.join(tree, '.kpipe')), 'no state was written');
});

test.run();
