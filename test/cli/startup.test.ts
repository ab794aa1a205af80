// What kpipe loads to start (issue 13: Node start plus kpipe's modules was about 0.3 s, most of it
// module loading). Checked as the set of ES modules a command loads, not as a time: chevrotain only
// from its one-file bundle and only when a pipeline file must be parsed; cosmiconfig only when a
// config file may exist; ora only on a terminal.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KPIPE, REPO, SHIPPED_PIPELINE, removeTempDirs, tempDir } from './helpers.js';

const HOOK = path.join(REPO, 'dist', 'test', 'helpers', 'module-log.js');

/** The module URLs `kpipe ARGS` loaded, and its stdout. */
function modulesOf(args: string[], opts: { cwd: string; cache: string; config: string; home?: string }): { modules: string[]; stdout: string } {
  const log = path.join(tempDir('modlog'), 'modules');
  const env = { ...process.env, KPIPE_MODULE_LOG: log, KPIPE_CACHE_DIR: opts.cache, XDG_CONFIG_HOME: opts.config, HOME: opts.home ?? opts.cwd, NO_COLOR: '1' };
  const r = spawnSync(process.execPath, ['--import', HOOK, KPIPE, ...args], { cwd: opts.cwd, env, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return { modules: fs.readFileSync(log, 'utf8').split('\n').filter(Boolean), stdout: r.stdout };
}

const of = (modules: string[], pattern: RegExp) => modules.filter((m) => pattern.test(m));

test.after(removeTempDirs);

test('explain parses with the chevrotain bundle once, then reuses the parsed pipeline; no cosmiconfig or ora', () => {
  const opts = { cwd: tempDir('start'), cache: tempDir('cache'), config: tempDir('xdg') };
  const args = ['explain', '--profile', 'x86_64-reference'];
  const first = modulesOf(args, opts);
  assert.equal(of(first.modules, /\/chevrotain\//), of(first.modules, /\/chevrotain\/lib\/chevrotain\.mjs$/), 'chevrotain from its bundle only');
  assert.is(of(first.modules, /\/chevrotain\//).length, 1);
  assert.is(of(first.modules, /\/lodash-es\//).length, 0);
  const second = modulesOf(args, opts);
  assert.is(second.stdout, first.stdout);
  assert.equal(of(second.modules, /\/chevrotain\/|\/dsl\/(parse|parser|tokens|load)\.js$/), [], 'no parser for an unchanged pipeline');
  for (const run of [first, second]) {
    assert.equal(of(run.modules, /\/cosmiconfig\//), [], 'no config file anywhere: cosmiconfig stays unloaded');
    assert.equal(of(run.modules, /\/ora\//), [], 'not a terminal: no spinner');
    assert.equal(of(run.modules, /\/core\/(running\/executor|cli\/install-commands|cli\/graph-command)\.js$/), [], 'explain loads no other command');
  }
});

test('an edited include is parsed again', () => {
  const opts = { cwd: tempDir('start'), cache: tempDir('cache'), config: tempDir('xdg') };
  fs.writeFileSync(path.join(opts.cwd, 'extra.pipeline'), '# nothing yet\n');
  fs.writeFileSync(path.join(opts.cwd, 'org.pipeline'), `include "${SHIPPED_PIPELINE}"\ninclude "extra.pipeline"\n`);
  const args = ['explain', '--profile', 'x86_64-reference', '--pipeline', 'org.pipeline'];
  modulesOf(args, opts);
  assert.equal(of(modulesOf(args, opts).modules, /\/chevrotain\//), []);
  fs.writeFileSync(path.join(opts.cwd, 'extra.pipeline'), 'stage extra "an org stage" {}\nextra: vmlinux\n');
  const edited = modulesOf(args, opts);
  assert.is(of(edited.modules, /\/chevrotain\//).length, 1, 'the edit is seen');
  assert.match(edited.stdout, /extra +-- an org stage/);
});

test("a kernel tree's .config (a file) is not cosmiconfig's .config directory: run from a tree, kpipe leaves cosmiconfig unloaded", () => {
  const opts = { cwd: tempDir('start'), cache: tempDir('cache'), config: tempDir('xdg') };
  fs.writeFileSync(path.join(opts.cwd, '.config'), 'CONFIG_MODULES=y\n');
  assert.equal(of(modulesOf(['explain', '--profile', 'x86_64-reference'], opts).modules, /\/cosmiconfig\//), []);
  // The cache's settings (read by every `kpipe run`) look for a config file the same way.
  const cache = modulesOf(['cache', 'stats'], opts);
  assert.match(cache.stdout, /local step cache/);
  assert.equal(of(cache.modules, /\/cosmiconfig\//), []);
  // cosmiconfig's own meta config there is still cosmiconfig's to read.
  fs.rmSync(path.join(opts.cwd, '.config'));
  fs.mkdirSync(path.join(opts.cwd, '.config'));
  fs.writeFileSync(path.join(opts.cwd, '.config', 'config.json'), '{}\n');
  assert.is(of(modulesOf(['explain', '--profile', 'x86_64-reference'], opts).modules, /\/cosmiconfig\//).length, 1);
});

test('a kpipe config file above the tree still loads cosmiconfig (and its plugins)', () => {
  const opts = { cwd: tempDir('start'), cache: tempDir('cache'), config: tempDir('xdg') };
  fs.writeFileSync(path.join(opts.cwd, '.kpiperc.json'), '{ "plugins": [] }\n');
  const tree = path.join(opts.cwd, 'sub', 'tree');
  fs.mkdirSync(tree, { recursive: true });
  const r = modulesOf(['plugins', '--profile', 'x86_64-reference'], { ...opts, cwd: tree, home: '/nonexistent-home' });
  assert.is(of(r.modules, /\/cosmiconfig\//).length, 1);
  assert.match(r.stdout, /\.kpiperc\.json/);
});

test.run();
