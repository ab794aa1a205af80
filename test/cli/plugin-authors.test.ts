// Issue 15, as an org's kernel engineer meets it from the command line: where the config file is
// found (and said, when it is not), CommonJS plugins, the tree's last run reused by clean/plugins/
// graph, outputs of steps that no longer exist, misspelt hooks and options, and plan errors of a
// plugin's steps framed at its `use` line. The tree is synthetic: a Makefile that only answers
// kpipe's `make run-command`, a .config, and a `source` link to a small Kconfig source tree.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertExit, assertFrame, assertUserError, kpipe, removeTempDirs, show, tempDir } from './helpers.js';

test.after(removeTempDirs);

/** `compress(ext)`: a copy of each listed .ko as `.ko.<ext>` (a stand-in for xz or zstd). */
const COMPRESS = `export default {
  name: 'compress',
  options: { ext: { description: 'xz or zst', default: 'xz' }, files: { description: 'comma-separated', default: 'a.ko' } },
  apply(hooks, ctx) {
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      for (const ko of String(ctx.options.files).split(',')) {
        builder.addStep(ctx.name, {
          commands: [{ label: { tag: 'ZIP', target: ko + '.' + ctx.options.ext }, plugin: ctx.name, action: { kind: 'builtin', name: 'copy', args: [ko, ko + '.' + ctx.options.ext] } }],
          inputs: [ko], outputs: [ko + '.' + ctx.options.ext],
        });
      }
    });
  },
};
`;

/** A synthetic output tree (its own Makefile, .config, a.ko, a `source` link) and an org directory. */
function setup(opts: { pipeline?: string; plugin?: string } = {}): { tree: string; org: string } {
  const tree = tempDir('tree');
  const src = tempDir('src');
  fs.writeFileSync(path.join(src, 'Kconfig'), 'config MODULES\n\tbool "modules"\nsource "arch/$(SRCARCH)/Kconfig"\n');
  fs.mkdirSync(path.join(src, 'arch/x86'), { recursive: true });
  fs.writeFileSync(path.join(src, 'arch/x86/Kconfig'), 'menuconfig X86_64\n\tdef_bool y\nconfig MODULE_COMPRESS_ZSTD\n\tbool\n');
  fs.symlinkSync(src, path.join(tree, 'source'));
  fs.writeFileSync(path.join(tree, 'Makefile'), 'run-command:\n\t$(KBUILD_RUN_COMMAND)\n');
  fs.writeFileSync(path.join(tree, '.config'), 'CONFIG_MODULES=y\nCONFIG_X86_64=y\n');
  fs.writeFileSync(path.join(tree, 'a.ko'), 'a module\n');
  const org = tempDir('org');
  fs.writeFileSync(path.join(org, 'compress.mjs'), opts.plugin ?? COMPRESS);
  fs.writeFileSync(path.join(org, 'kpipe.config.json'), JSON.stringify({ plugins: ['./compress.mjs'] }, null, 2));
  fs.writeFileSync(path.join(org, 'org.pipeline'), opts.pipeline ?? 'stage compress "compressed modules" {\n  use compress when MODULES\n}\n');
  return { tree, org };
}

// ── 2. where the config file is found ────────────────────────────────────────────────────────────

test('-C TREE: the config file in the working directory is found after the tree and its parents', () => {
  const { tree, org } = setup();
  const r = kpipe(['explain', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org });
  assertExit(r, 0);
  assert.ok(r.stdout.includes('ZIP     a.ko.xz'), show(r));
});

test('an unknown plugin names every place kpipe looked for a config file', () => {
  const { tree, org } = setup();
  fs.rmSync(path.join(org, 'kpipe.config.json'));
  const xdg = tempDir('xdg');
  const r = kpipe(['explain', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org, env: { XDG_CONFIG_HOME: xdg } });
  assertUserError(r);
  assert.ok(r.stderr.includes("unknown plugin 'compress'"), r.stderr);
  assert.ok(r.stderr.includes('no kpipe config file found; searched:'), r.stderr);
  assert.ok(r.stderr.includes(`${tree} and its parents (package.json, .kpiperc`), r.stderr);
  assert.ok(r.stderr.includes(`${org} and its parents`), r.stderr);
  assert.ok(r.stderr.includes('kpipe.config.json'), r.stderr);
  assert.ok(r.stderr.includes(`${xdg}/kpipe/config{,.json`), r.stderr);
});

test('$XDG_CONFIG_HOME/kpipe/config.json is used last: a config file in the working directory wins', () => {
  const { tree, org } = setup();
  const xdg = tempDir('xdg');
  fs.mkdirSync(path.join(xdg, 'kpipe'));
  fs.copyFileSync(path.join(org, 'compress.mjs'), path.join(xdg, 'kpipe', 'compress.mjs'));
  fs.writeFileSync(path.join(xdg, 'kpipe', 'config.json'), JSON.stringify({ plugins: [['./compress.mjs', { ext: 'global' }]] }));
  const elsewhere = tempDir('cwd');
  fs.copyFileSync(path.join(org, 'org.pipeline'), path.join(elsewhere, 'org.pipeline'));
  const global = kpipe(['explain', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: elsewhere, env: { XDG_CONFIG_HOME: xdg } });
  assertExit(global, 0);
  assert.ok(global.stdout.includes('a.ko.global'), show(global));
  const local = kpipe(['explain', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org, env: { XDG_CONFIG_HOME: xdg } });
  assert.ok(local.stdout.includes('a.ko.xz'), show(local));
});

// ── 3. CommonJS ──────────────────────────────────────────────────────────────────────────────────

test('a CommonJS build of a plugin (TypeScript\'s exports.default with __esModule) loads', () => {
  const { tree, org } = setup();
  const cjs = `"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
class CompressPlugin {
  constructor() { this.name = 'compress'; this.options = { ext: { description: 'x', default: 'cjs' } }; }
  apply(hooks, ctx) {
    hooks.stage.for(ctx.stage).tap(ctx.name, (b) => b.addStep(ctx.name, { commands: [{ label: { tag: 'ZIP', target: 'a.ko.cjs' }, plugin: ctx.name, action: { kind: 'builtin', name: 'copy', args: ['a.ko', 'a.ko.cjs'] } }], inputs: ['a.ko'], outputs: ['a.ko.cjs'] }));
  }
}
exports.default = CompressPlugin;
`;
  fs.writeFileSync(path.join(org, 'compress.cjs'), cjs);
  fs.writeFileSync(path.join(org, 'plain.cjs'), `module.exports = { plugin: { name: 'plain', apply() {} } };\n`);
  fs.writeFileSync(path.join(org, 'kpipe.config.json'), JSON.stringify({ plugins: ['./compress.cjs', './plain.cjs'] }));
  const r = kpipe(['explain', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org });
  assertExit(r, 0);
  assert.ok(r.stdout.includes('ZIP     a.ko.cjs'), show(r));
});

// ── 4. the tree's last run; outputs of steps that no longer exist ────────────────────────────────

test('plugins and clean plan as the last run did (its --pipeline, --set and config file)', () => {
  const { tree, org } = setup();
  assertExit(kpipe(['run', '-C', tree, '--pipeline', 'org.pipeline', '--set', 'EXTRA=y'], { cwd: org }), 0);
  assert.ok(fs.existsSync(path.join(tree, 'a.ko.xz')));
  const record = JSON.parse(fs.readFileSync(path.join(tree, '.kpipe', 'invocation.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(record, { version: 1, sets: ['EXTRA=y'], delegated: [], pipeline: path.join(org, 'org.pipeline'), configFile: path.join(org, 'kpipe.config.json') });
  // From anywhere: neither the pipeline nor the config file is found there.
  const plugins = kpipe(['plugins', '-C', tree]);
  assertExit(plugins, 0);
  assert.ok(plugins.stderr.includes(`kpipe plugins: as the tree's last run: --pipeline ${path.join(org, 'org.pipeline')} --set EXTRA=y the config file`), show(plugins));
  assert.ok(/^compress .*\n(.*\n)*  used in: compress\n  taps:    stage$/m.test(plugins.stdout), show(plugins));
  const graph = kpipe(['graph', '-C', tree, '--format', 'dot']);
  assertExit(graph, 0);
  assert.ok(graph.stdout.includes('a.ko.xz'), show(graph));
  const clean = kpipe(['clean', '-C', tree]);
  assertExit(clean, 0);
  assert.not.ok(fs.existsSync(path.join(tree, 'a.ko.xz')), show(clean));
  assert.not.ok(fs.existsSync(path.join(tree, '.kpipe')));
  assert.ok(fs.existsSync(path.join(tree, 'a.ko')), 'sources stay');
});

test('run removes (and names) the outputs of steps that are no longer in the plan; clean the ones left', () => {
  const { tree, org } = setup();
  const pipeline = (ext: string) => fs.writeFileSync(path.join(org, 'org.pipeline'), `stage compress {\n  use compress(ext = "${ext}")\n}\n`);
  fs.writeFileSync(path.join(tree, 'b.ko'), 'b module\n');
  pipeline('xz');
  assertExit(kpipe(['run', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org }), 0);
  assert.ok(fs.existsSync(path.join(tree, 'a.ko.xz')));
  pipeline('zst');
  const r = kpipe(['run', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org });
  assertExit(r, 0);
  assert.ok(r.stdout.includes('  RM      a.ko.xz (step compress:a.ko.xz is no longer in the plan)'), show(r));
  assert.not.ok(fs.existsSync(path.join(tree, 'a.ko.xz')));
  assert.ok(fs.existsSync(path.join(tree, 'a.ko.zst')));
  // A dead output someone changed since is theirs: kept. Another one kpipe wrote goes with clean.
  fs.writeFileSync(path.join(org, 'org.pipeline'), 'stage compress {\n  use compress(ext = "zst", files = "a.ko,b.ko")\n}\n');
  assertExit(kpipe(['run', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org }), 0);
  fs.writeFileSync(path.join(org, 'org.pipeline'), 'stage compress {\n  use compress(ext = "gz")\n}\n');
  fs.writeFileSync(path.join(tree, 'a.ko.zst'), 'edited by hand\n');
  assertExit(kpipe(['explain', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org }), 0);
  const clean = kpipe(['clean', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org });
  assertExit(clean, 0);
  assert.not.ok(fs.existsSync(path.join(tree, 'b.ko.zst')), 'the old plan\'s output, unchanged: removed');
  assert.ok(fs.existsSync(path.join(tree, 'a.ko.zst')), 'changed since kpipe wrote it: kept');
});

// ── 5. misspelt hooks and options ────────────────────────────────────────────────────────────────

test('a misspelt hook from plain JavaScript: the closest hook, the plugin and its use line', () => {
  const { tree, org } = setup({ plugin: COMPRESS.replace('hooks.stage.for(ctx.stage)', 'hooks.afterObjCopy.for(ctx.stage)') });
  const r = kpipe(['explain', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org });
  assertUserError(r);
  assert.ok(r.stderr.includes("plugin 'compress' failed in hook apply: hooks.afterObjCopy is not a hook"), r.stderr);
  assert.ok(r.stderr.includes('did you mean hooks.afterObjcopy?'), r.stderr);
  assert.not.ok(r.stderr.includes("Cannot read properties"), r.stderr);
  assertFrame(r.stderr, 'org.pipeline', 2, 3, 'use compress when MODULES');
});

test('a misspelt option, on the use line and in the config file: did you mean', () => {
  const { tree, org } = setup({ pipeline: 'stage compress {\n  use compress(extt = "zst")\n}\n' });
  const r = kpipe(['explain', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org });
  assertUserError(r);
  assert.ok(r.stderr.includes("plugin 'compress' has no option 'extt'"), r.stderr);
  assert.ok(r.stderr.includes("did you mean 'ext'? its options are: ext, files"), r.stderr);
  fs.writeFileSync(path.join(org, 'kpipe.config.json'), JSON.stringify({ plugins: [['./compress.mjs', { fils: 'a.ko' }]] }));
  const c = kpipe(['explain', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org });
  assertUserError(c);
  assert.ok(c.stderr.includes("did you mean 'files'?"), c.stderr);
});

// ── 6. plan errors of a plugin's steps carry its use line ────────────────────────────────────────

test("a step reading a file nobody makes, and an output outside the tree: framed at the plugin's use line", () => {
  const { tree, org } = setup({ pipeline: 'stage compress {\n  use compress(files = "missing.ko")\n}\n' });
  const r = kpipe(['explain', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org });
  assertUserError(r);
  assert.ok(r.stderr.includes('reads missing.ko, which no step produces'), r.stderr);
  assertFrame(r.stderr, 'org.pipeline', 2, 3, 'use compress(files = "missing.ko")');
  fs.writeFileSync(path.join(org, 'org.pipeline'), 'stage compress {\n  use compress(files = "a.ko", ext = "xz/../../../outside")\n}\n');
  const o = kpipe(['explain', '-C', tree, '--pipeline', 'org.pipeline'], { cwd: org });
  assertUserError(o);
  assert.ok(o.stderr.includes('outside the output tree'), o.stderr);
  assertFrame(o.stderr, 'org.pipeline', 2, 3, 'use compress(files = "a.ko", ext = "xz/../../../outside")');
});

// ── 7. a when on a symbol no Kconfig file defines ────────────────────────────────────────────────

test("a when on a symbol the source tree's Kconfig does not define warns, with did you mean", () => {
  const { tree, org } = setup({ pipeline: 'stage compress {\n  use compress when MODULE_COMPRESS_ZSTDD || MODULES000 || MODULE_HASHES || ARCH=x86 || EXTRA\n}\n' });
  const r = kpipe(['explain', '-C', tree, '--pipeline', 'org.pipeline', '--set', 'EXTRA=n'], { cwd: org });
  assertExit(r, 0);
  assert.ok(r.stderr.includes(`warning: no Kconfig file of the source tree ${fs.realpathSync(path.join(tree, 'source'))} defines 'MODULE_COMPRESS_ZSTDD': this condition is always false`), r.stderr);
  assert.ok(r.stderr.includes("did you mean 'MODULE_COMPRESS_ZSTD'?"), r.stderr);
  assert.ok(r.stderr.includes("defines 'MODULES000'"), r.stderr);
  assert.ok(r.stderr.includes("org.pipeline:2:21: warning: no Kconfig file"), r.stderr);
  assert.ok(r.stderr.includes(`\n      |                     ${'^'.repeat('MODULE_COMPRESS_ZSTDD'.length)}\n`), r.stderr);
  // kpipe's own symbols (MODULE_HASHES, ARCH) and --set ones are known.
  assert.is(r.stderr.match(/warning: no Kconfig file/g)?.length, 2, r.stderr);
});

test.run();
