// Hostile values (spaces, quotes, `$()`, backticks, newlines, non-ASCII) in paths, argv words and
// environment values reach a tool only as argv elements, never through a shell; and every place that
// prints a command as shell text (-v, failure reports, explain, the ninja export) quotes it so that
// pasting it into sh gives the tool the very same argv.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cmd, exec, makeTree, step, type Tree } from './fixture.js';
import { displayCommand } from '../../core/running/executor.js';
import { exportNinja } from '../../core/reports/ninja-export.js';
import { KpipeError } from '../../core/diagnostic.js';
import type { ExecCommand, Step } from '../../core/planning/step.js';

let t: Tree;
test.before.each(() => {
  t = makeTree();
  t.write('in.src', 'input');
});
test.after.each(() => t.remove());

/** Words a shell would misread, each one argv element. */
const HOSTILE = [
  'two words',
  "it's",
  '"double"',
  '$(touch pwned-dollar)',
  '`touch pwned-backtick`',
  '${HOME}',
  'semi; touch pwned-semi',
  'a|b&c>d<e',
  'glob*?[x]',
  '~user',
  '-n',
  'tab\there',
  'line one\nline two\n',
  'carriage\rreturn',
  'back\\slash \\n not a newline',
  'ünïcödé ✓ 漢字',
  '%s %b %%',
  '',
];
/** A path with every hostile character a file name can hold and ninja can carry (no line break). */
const NASTY_DIR = "out dir/it's $(x) `y` ünï";

function dumpTool(tr: Tree): string {
  // Writes each argument NUL-terminated, then the environment value, so nothing is lost or merged.
  const file = tr.tool('argv-dump');
  fs.writeFileSync(file, '#!/bin/sh\nout=$1; shift\n{ for a in "$@"; do printf \'%s\\0\' "$a"; done; printf \'env=%s\\0\' "$KP_HOSTILE"; } > "$out"\n', { mode: 0o755 });
  return file;
}

const expected = (words: readonly string[], env: string) => Buffer.from([...words, `env=${env}`].map((w) => `${w}\0`).join(''));

function hostileStep(tr: Tree, out: string, words: readonly string[]): Step {
  return step('dump', ['in.src'], [out], [cmd('DUMP', out, exec([dumpTool(tr), out, ...words], { env: { KP_HOSTILE: HOSTILE.join('|') } }))]);
}

function pwned(tr: Tree): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('pwned')) found.push(path.join(dir, e.name));
      if (e.isDirectory()) walk(path.join(dir, e.name));
    }
  };
  walk(tr.dir);
  return found;
}

test('kpipe run: each hostile word and path arrives as one argv element, nothing is interpreted', async () => {
  const out = `${NASTY_DIR}/line\nbreak.out`;
  const r = await t.run([hostileStep(t, out, HOSTILE)]);
  assert.is(r.status, 'ok', JSON.stringify(r.diagnostics));
  assert.equal(fs.readFileSync(path.join(t.dir, out)), expected(HOSTILE, HOSTILE.join('|')));
  assert.equal(pwned(t), []);
  assert.equal(t.temporaries(), []);
});

test('-v prints each command so that sh runs it with the same argv', async () => {
  const out = `${NASTY_DIR}/v.out`;
  const s = hostileStep(t, out, HOSTILE);
  const r = await t.run([s], { verbosity: 'verbose' });
  const shown = displayCommand(s.commands[0]!.action as ExecCommand);
  assert.ok(r.output.includes(`${shown}\n`), `-v printed:\n${r.output}`);
  const kpipeBytes = fs.readFileSync(path.join(t.dir, out));
  fs.rmSync(path.join(t.dir, out));
  const sh = spawnSync('sh', ['-c', shown], { cwd: t.dir, encoding: 'utf8' });
  assert.is(sh.status, 0, sh.stderr);
  assert.equal(fs.readFileSync(path.join(t.dir, out)), kpipeBytes);
  assert.equal(pwned(t), []);
});

test("-v shows only the variables a command sets or changes, not the environment it inherits", async () => {
  // A delegated compile carries kbuild's whole exported environment; most of it is kpipe's own.
  const inherited = { ...process.env, KPIPE_TEST_SAME: 'kept', KPIPE_TEST_CHANGED: 'old' };
  const action = exec(['sh', '-c', 'printf "%s" "$KPIPE_TEST_NEW" > v.out'], {
    env: { ...inherited, KPIPE_TEST_CHANGED: 'new', KPIPE_TEST_NEW: 'two words' },
  }) as ExecCommand;
  const shown = displayCommand(action, undefined, inherited);
  assert.is(shown, `KPIPE_TEST_CHANGED=new KPIPE_TEST_NEW='two words' sh -c 'printf "%s" "$KPIPE_TEST_NEW" > v.out'`);
  const r = await t.run([step('v', ['in.src'], ['v.out'], [cmd('V', 'v.out', action)])], { verbosity: 'verbose' });
  assert.ok(r.output.includes('KPIPE_TEST_NEW=\'two words\' '), r.output);
  assert.not.ok(r.output.includes('HOME='), `-v printed the inherited environment:\n${r.output}`);
});

test('-v names a whole environment (a delegated compile\'s) instead of listing it, as a shell comment', () => {
  const action = exec(['make', '-s', '-f', 'scripts/Makefile.modfinal', 'a.mod.o'], { env: { KBUILD_CFLAGS: '-O2 '.repeat(500) }, envName: "kbuild's exported environment" }) as ExecCommand;
  assert.is(displayCommand(action, undefined, process.env), "make -s -f scripts/Makefile.modfinal a.mod.o  # in kbuild's exported environment");
});

test('a failure report shows the command quoted the same way', async () => {
  const s = step('f', ['in.src'], ['f.out'], [cmd('F', 'f.out', exec(['sh', '-c', 'exit 4', '$(touch pwned-report)', "it's"]))]);
  const r = await t.run([s]);
  assert.is(r.diagnostics[0]!.related![0]!.message, `command: sh -c 'exit 4' '$(touch pwned-report)' 'it'\\''s'`);
});

test('the ninja export runs the hostile plan under real ninja to the same bytes', async () => {
  const out = `${NASTY_DIR}/n.out`;
  const steps = [
    hostileStep(t, out, HOSTILE),
    step('copy', [out], [`${NASTY_DIR}/copy $x.out`], [cmd('CP', `${NASTY_DIR}/copy $x.out`, exec(['cat', out], { stdout: `${NASTY_DIR}/copy $x.out` }))]),
  ];
  const r = await t.run(steps);
  assert.is(r.status, 'ok', JSON.stringify(r.diagnostics));
  const kpipeBytes = [fs.readFileSync(path.join(t.dir, out)), fs.readFileSync(path.join(t.dir, `${NASTY_DIR}/copy $x.out`))];
  fs.rmSync(path.join(t.dir, 'out dir'), { recursive: true });
  fs.mkdirSync(path.join(t.dir, NASTY_DIR), { recursive: true }); // ninja creates no directories for outputs of `cat >`
  fs.writeFileSync(path.join(t.dir, 'build.ninja'), exportNinja(t.graph(steps), { kpipe: ['/bin/false'], env: { KP_HOSTILE: 'overridden by the command' } }));
  const ninja = spawnSync('ninja', ['-C', t.dir], { encoding: 'utf8' });
  assert.is(ninja.status, 0, ninja.stdout + ninja.stderr);
  assert.equal([fs.readFileSync(path.join(t.dir, out)), fs.readFileSync(path.join(t.dir, `${NASTY_DIR}/copy $x.out`))], kpipeBytes);
  assert.equal(pwned(t), []);
});

test('a path with a line break cannot go into a build.ninja: an error naming the step and plugin', () => {
  const s = { ...hostileStep(t, 'bad\nname.out', ['x']), plugin: 'org-dump' };
  try {
    exportNinja(t.graph([s]), { kpipe: ['/bin/false'] });
    assert.unreachable('exported');
  } catch (e) {
    assert.instance(e, KpipeError);
    const d = (e as KpipeError).diagnostics[0]!;
    assert.is(d.code, 'ninja-export');
    assert.is(d.plugin, 'org-dump');
    assert.match(d.message, /"bad\\nname\.out" has a line break/);
  }
});

test.run();
