// --help, --version, and what kpipe says when it has nothing to plan against.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO, assertExit, assertUserError, kpipe, removeTempDirs } from './helpers.js';

test.after(removeTempDirs);

test('kpipe --help: exit 0, usage and every command on stdout', () => {
  const r = kpipe(['--help']);
  assertExit(r, 0);
  assert.is(r.stderr, '');
  assert.match(r.stdout, /^usage: kpipe COMMAND/m);
  for (const command of ['explain', 'run', 'clean', 'export ninja', 'plugins', 'builtin NAME']) {
    assert.match(r.stdout, new RegExp(`^ {2}${command} +\\S`, 'm'), `command ${command} listed`);
  }
  assert.ok(r.stdout.includes('--profile NAME'), 'options listed');
});

test('kpipe with no arguments and kpipe help print the same help', () => {
  const help = kpipe(['--help']);
  for (const args of [[], ['help'], ['-h']]) {
    const r = kpipe(args);
    assertExit(r, 0);
    assert.is(r.stdout, help.stdout, `kpipe ${args.join(' ')}`);
  }
});

test('kpipe --version prints the version of package.json', () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
  const r = kpipe(['--version']);
  assertExit(r, 0);
  assert.is(r.stdout, `kpipe ${version}\n`);
  assert.is(r.stderr, '');
});

test('kpipe explain with neither -C nor --profile: exit 2, the hint mentions --profile and -C', () => {
  const r = kpipe(['explain']);
  assertUserError(r);
  assert.match(r.stderr, /^kpipe: error: no Kconfig to plan against$/m);
  const hint = r.stderr.split('\n').find((l) => l.startsWith('  = hint: '));
  assert.ok(hint, r.stderr);
  assert.ok(hint!.includes('--profile'), hint);
  assert.ok(hint!.includes('-C DIR'), hint);
  assert.ok(hint!.includes('x86_64-reference'), 'the profiles are listed');
  assert.is(r.stdout, '');
});

test('-C naming a directory that does not exist: exit 2, names it', () => {
  const r = kpipe(['explain', '-C', 'no-such-tree']);
  assertUserError(r);
  assert.match(r.stderr, /output tree \S*no-such-tree does not exist/);
});

test.run();
