// Loading a pipeline: includes expanded in place, cycles and missing files reported at the include,
// every file's text kept, and no exception for a missing entry. Runs on a virtual file system.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Statement } from '../../dsl/ast.js';
import { loadPipeline, MAX_INCLUDE_DEPTH } from '../../dsl/load.js';

const PLUGINS = ['link', 'kallsyms', 'btf', 'sorttable', 'modfinal', 'manifest'];

/** A readFile over a map of absolute paths, failing like fs does. */
function virtual(files: Record<string, string>): (file: string) => string {
  return (file) => {
    const text = files[file];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    return text;
  };
}

function load(files: Record<string, string>, entry = '/src/kbuild.pipeline') {
  return loadPipeline(entry, { knownPlugins: PLUGINS, readFile: virtual(files) });
}

/** `stage NAME`, `extend NAME` or `TARGET:` for each statement. */
function names(statements: Statement[]): string[] {
  return statements.map((s) => {
    if (s.kind === 'stage') return `${s.extend ? 'extend' : 'stage'} ${s.name.text}`;
    if (s.kind === 'ordering') return `${s.target.text}:`;
    if (s.kind === 'kernels') return `kernels ${s.versions.map((v) => v.text).join(' ')}`;
    return `include ${s.path}`;
  });
}

test('includes expand in place, depth first, relative to the including file', () => {
  const loaded = load({
    '/src/kbuild.pipeline': 'stage first {}\ninclude "org/base.pipeline"\nstage last {}\nextend stage base { use btf }\n',
    '/src/org/base.pipeline': 'stage base { use link }\ninclude "arch/x86.pipeline"\nbase: x86\n',
    '/src/org/arch/x86.pipeline': 'stage x86 {}\n',
  });
  assert.equal(loaded.diagnostics, []);
  assert.is(loaded.entry, '/src/kbuild.pipeline');
  assert.equal(names(loaded.statements), ['stage first', 'stage base', 'stage x86', 'base:', 'stage last', 'extend base']);
  assert.equal(loaded.files.map((f) => f.file), ['/src/kbuild.pipeline', '/src/org/base.pipeline', '/src/org/arch/x86.pipeline']);
  assert.equal([...loaded.sources.keys()], ['/src/kbuild.pipeline', '/src/org/base.pipeline', '/src/org/arch/x86.pipeline']);
  assert.is(loaded.sources.get('/src/org/arch/x86.pipeline'), 'stage x86 {}\n');
  // Ranges name the file each statement came from.
  const x86 = loaded.statements[2]!;
  assert.is(x86.range.file, '/src/org/arch/x86.pipeline');
  // The include statements themselves stay in their files' trees only.
  assert.equal(names(loaded.files[0]!.statements), ['stage first', 'include org/base.pipeline', 'stage last', 'extend base']);
});

test('an include cycle is reported at the include that closes it, with the chain', () => {
  const loaded = load({
    '/src/kbuild.pipeline': 'include "a.pipeline"\nstage s {}\n',
    '/src/a.pipeline': 'include "sub/b.pipeline"\n',
    '/src/sub/b.pipeline': 'stage b {}\ninclude "../kbuild.pipeline"\n',
  });
  assert.equal(loaded.diagnostics.map((d) => [d.code, d.message, d.range?.file, d.range?.start.line]), [
    [
      'include-cycle',
      'include cycle: kbuild.pipeline -> a.pipeline -> sub/b.pipeline -> kbuild.pipeline',
      '/src/sub/b.pipeline',
      2,
    ],
  ]);
  assert.equal(names(loaded.statements), ['stage b', 'stage s']);
});

test('a file that includes itself is a cycle of one', () => {
  const loaded = load({ '/src/kbuild.pipeline': 'include "./kbuild.pipeline"\n' });
  assert.equal(loaded.diagnostics.map((d) => d.message), ['include cycle: kbuild.pipeline -> kbuild.pipeline']);
});

test('a file included twice without a cycle is expanded once', () => {
  const loaded = load({
    '/src/kbuild.pipeline': 'include "a.pipeline"\ninclude "b.pipeline"\n',
    '/src/a.pipeline': 'include "common.pipeline"\nstage a {}\n',
    '/src/b.pipeline': 'include "common.pipeline"\nstage b {}\n',
    '/src/common.pipeline': 'stage common {}\n',
  });
  assert.equal(loaded.diagnostics, []);
  assert.equal(names(loaded.statements), ['stage common', 'stage a', 'stage b']);
});

test('a missing include is an error at the include; the rest still loads', () => {
  const loaded = load({ '/src/kbuild.pipeline': 'stage a {}\ninclude "gone.pipeline"\nstage b { use link }\n' });
  assert.equal(loaded.diagnostics.map((d) => [d.code, d.message, d.range?.start.line, d.range?.start.column, d.range?.end.column]), [
    ['include-not-found', "cannot read included file 'gone.pipeline': no such file", 2, 1, 24],
  ]);
  assert.equal(names(loaded.statements), ['stage a', 'stage b']);
});

test('an unreadable include and an unreadable entry say why', () => {
  const readFile = (file: string): string => {
    if (file === '/src/kbuild.pipeline') return 'include "dir"\n';
    throw Object.assign(new Error('EISDIR: illegal operation on a directory'), { code: 'EISDIR' });
  };
  const loaded = loadPipeline('/src/kbuild.pipeline', { knownPlugins: PLUGINS, readFile });
  assert.equal(loaded.diagnostics.map((d) => [d.code, d.message]), [['include-unreadable', "cannot read included file 'dir': it is a directory"]]);
  const broken = loadPipeline('/src/x.pipeline', { knownPlugins: PLUGINS, readFile: () => { throw new Error('disk on fire'); } });
  assert.equal(broken.diagnostics.map((d) => [d.code, d.message, d.range]), [['entry-unreadable', "cannot read pipeline file '/src/x.pipeline': disk on fire", undefined]]);
});

test('a missing entry file is a diagnostic without a range, not an exception', () => {
  const loaded = load({}, 'nowhere/kbuild.pipeline');
  assert.ok(loaded.entry.endsWith('/nowhere/kbuild.pipeline') && loaded.entry.startsWith('/'));
  assert.equal(loaded.files, []);
  assert.equal(loaded.statements, []);
  assert.equal(loaded.diagnostics, [
    { code: 'entry-not-found', severity: 'error', message: "cannot read pipeline file 'nowhere/kbuild.pipeline': no such file" },
  ]);
});

test('the default readFile reads the disk', () => {
  const loaded = loadPipeline('/nonexistent-kpipe-dir/kbuild.pipeline', { knownPlugins: PLUGINS });
  assert.equal(loaded.diagnostics.map((d) => d.code), ['entry-not-found']);
});

test('diagnostics come in file order: syntax and semantic errors of the entry, then of its includes', () => {
  const loaded = load({
    '/src/kbuild.pipeline': 'include "org.pipeline"\nstage a { use lnk }\nstage a {}\nb c\n',
    '/src/org.pipeline': 'stage b { use kalsyms }\nstage {\n}\n',
  });
  assert.equal(
    loaded.diagnostics.map((d) => `${d.range!.file.slice(5)}:${d.range!.start.line} ${d.code}`),
    ['kbuild.pipeline:2 unknown-plugin', 'kbuild.pipeline:3 duplicate-stage', 'kbuild.pipeline:4 syntax', 'org.pipeline:1 unknown-plugin', 'org.pipeline:2 syntax'],
  );
});

test('after a syntax error, references are not checked (the declaration may be what broke)', () => {
  const broken = load({ '/src/kbuild.pipeline': 'stage vmlinux {\n  use link(\n}\nmodules: vmlinux\nstage modules {}\n' });
  assert.equal(broken.diagnostics.map((d) => d.code), ['syntax']);
  const clean = load({ '/src/kbuild.pipeline': 'modules: vmlinux\nstage modules {}\n' });
  assert.equal(clean.diagnostics.map((d) => d.code), ['unknown-stage']);
});

test('extend stage may refer to a stage declared in an included file', () => {
  const loaded = load({
    '/src/kbuild.pipeline': 'include "base.pipeline"\nextend stage vmlinux { use btf }\nextend stage vmlinx { use btf }\n',
    '/src/base.pipeline': 'stage vmlinux { use link }\n',
  });
  assert.equal(loaded.diagnostics.map((d) => [d.code, d.range?.start.line, d.hint]), [['unknown-stage', 3, "did you mean 'vmlinux'?"]]);
});

test(`includes nested deeper than ${MAX_INCLUDE_DEPTH} files stop with an error`, () => {
  const files: Record<string, string> = { '/src/kbuild.pipeline': 'include "f1.pipeline"\n' };
  for (let i = 1; i <= 100; i++) files[`/src/f${i}.pipeline`] = `stage s${i} {}\ninclude "f${i + 1}.pipeline"\n`;
  const loaded = load(files);
  assert.equal(loaded.diagnostics.map((d) => d.code), ['include-too-deep']);
  assert.is(loaded.files.length, MAX_INCLUDE_DEPTH);
});

test.run();
