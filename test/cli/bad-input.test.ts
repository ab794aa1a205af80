// Bad input exits 2 with a diagnostic a person can act on: file:line:col, the source line, a caret,
// "did you mean"; never a stack trace. The pipelines are in test/cli/fixtures/bad-pipelines and each
// is run from its folder, so the paths print relative.
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIXTURES, assertExit, assertFrame, assertUserError, kpipe, removeTempDirs, show, stageOrder } from './helpers.js';

const BAD = path.join(FIXTURES, 'bad-pipelines');
const withPipeline = (file: string, ...more: string[]) =>
  kpipe(['explain', '--profile', 'x86_64-reference', '--pipeline', file, ...more], { cwd: BAD });

test.after(removeTempDirs);

test('a misspelt stage in an ordering: location, source line, caret, did you mean', () => {
  const r = withPipeline('misspelt-stage.pipeline');
  assertUserError(r);
  assert.is(r.stdout, '', 'no plan is printed');
  assert.ok(r.stderr.includes("misspelt-stage.pipeline:4:10: error: unknown stage 'vmlinux.unstriped'"), r.stderr);
  assertFrame(r.stderr, 'misspelt-stage.pipeline', 4, 10, 'vmlinux.unstriped');
  assert.ok(r.stderr.includes('vmlinux: vmlinux.unstriped'), 'the source line is shown');
  assert.match(r.stderr, /did you mean 'vmlinux\.unstripped'\?/);
  assert.match(r.stderr, /^1 error$/m);
});

test('a misspelt plugin: location, caret, did you mean', () => {
  const r = withPipeline('misspelt-plugin.pipeline');
  assertUserError(r);
  assert.ok(r.stderr.includes("misspelt-plugin.pipeline:3:21: error: unknown plugin 'objcopi'"), r.stderr);
  assertFrame(r.stderr, 'misspelt-plugin.pipeline', 3, 21, 'objcopi');
  assert.match(r.stderr, /did you mean 'objcopy'\?/);
});

test('two independent errors are both reported, in file order, with a count', () => {
  const r = withPipeline('two-errors.pipeline');
  assertUserError(r);
  assertFrame(r.stderr, 'two-errors.pipeline', 2, 32, 'lnk');
  assertFrame(r.stderr, 'two-errors.pipeline', 4, 10, 'vmlinux.unstriped');
  assert.ok(r.stderr.indexOf('two-errors.pipeline:2:') < r.stderr.indexOf('two-errors.pipeline:4:'), 'in file order');
  assert.match(r.stderr, /did you mean 'link'\?/);
  assert.match(r.stderr, /did you mean 'vmlinux\.unstripped'\?/);
  assert.match(r.stderr, /^2 errors$/m);
});

test('an include cycle between two files: exit 2, the cycle named at the include line', () => {
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--pipeline', 'a.pipeline'], { cwd: path.join(BAD, 'include-cycle') });
  assertUserError(r);
  assert.match(r.stderr, /include cycle: a\.pipeline -> b\.pipeline -> a\.pipeline/);
  assertFrame(r.stderr, 'b.pipeline', 1, 1, 'include "a.pipeline"');
});

test('a stage cycle under MODULE_HASHES=y: exit 2, the cycle named, the hint gives the seed-001 order', () => {
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--set', 'MODULE_HASHES=y', '--pipeline', 'stage-cycle.pipeline'], { cwd: BAD });
  assertUserError(r);
  assert.match(r.stderr, /error: the stage orderings form a cycle: (modules -> vmlinux -> modules|vmlinux -> modules -> vmlinux)/, r.stderr);
  const hint = r.stderr.split('\n').find((l) => l.startsWith('  = hint: '));
  assert.ok(hint, `a hint:\n${r.stderr}`);
  assert.ok(hint!.includes('vmlinux.unstripped -> modules -> vmlinux'), hint);
  // Both orderings of the cycle are pointed at, with the condition that made each active.
  assert.match(r.stderr, /stage-cycle\.pipeline:5:1: /);
  assert.match(r.stderr, /stage-cycle\.pipeline:6:1: /);
  assert.ok(r.stderr.includes('MODULE_HASHES=y'), r.stderr);
  assert.ok(r.stderr.includes('DEBUG_INFO_BTF_MODULES=y'), r.stderr);
});

test('the same orderings are no cycle while MODULE_HASHES is off: exit 0, vmlinux before modules', () => {
  const r = withPipeline('stage-cycle-conditional.pipeline');
  assertExit(r, 0);
  assert.equal(stageOrder(r.stdout), ['vmlinux.unstripped', 'vmlinux', 'modules']);
  const on = kpipe(['explain', '--profile', 'x86_64-reference', '--set', 'MODULE_HASHES=y', '--pipeline', 'stage-cycle-conditional.pipeline'], { cwd: BAD });
  assertUserError(on);
  assert.match(on.stderr, /form a cycle/);
});

test('a missing --pipeline file: exit 2, names the file', () => {
  const r = withPipeline('no-such.pipeline');
  assertUserError(r);
  assert.ok(r.stderr.includes('no-such.pipeline'), r.stderr);
});

// ── the command line ────────────────────────────────────────────────────────────────────────────

test('an unknown profile: exit 2, did you mean, the profiles listed', () => {
  const r = kpipe(['explain', '--profile', 'x86_64-referense']);
  assertUserError(r);
  assert.match(r.stderr, /^kpipe: error: no profile 'x86_64-referense'$/m);
  assert.match(r.stderr, /did you mean 'x86_64-reference'\?/);
  assert.ok(r.stderr.includes('x86_64-nobtf'), 'the profiles are listed');
});

test('a bad --format: exit 2, names the formats', () => {
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--format', 'yaml']);
  assertUserError(r);
  assert.match(r.stderr, /^kpipe: error: --format must be text, json or dot \(graph: dot or svg\), not 'yaml'$/m);
  assert.is(r.stdout, '');
});

for (const jobs of ['0', '-1', 'two', '1.5']) {
  test(`-j ${jobs}: exit 2`, () => {
    const r = kpipe(['run', '--profile', 'x86_64-reference', `-j${jobs}`]);
    assertUserError(r);
    assert.ok(r.stderr.includes(`-j expects a positive number, not '${jobs}'`), show(r));
  });
}

test('an unknown command: exit 2, the commands listed', () => {
  const r = kpipe(['frobnicate', '--profile', 'x86_64-reference']);
  assertUserError(r);
  assert.match(r.stderr, /^kpipe: error: unknown command 'frobnicate'$/m);
  assert.match(r.stderr, /hint: commands: explain, run, clean, export ninja, plugins/);
});

test('an unknown command is reported as such even without a tree or profile', () => {
  const r = kpipe(['frobnicate']);
  assertUserError(r);
  assert.match(r.stderr, /unknown command 'frobnicate'/, show(r));
});

test('an unknown option: exit 2, names it, points at --help', () => {
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--frobnicate']);
  assertUserError(r);
  assert.ok(r.stderr.includes('--frobnicate'), r.stderr);
  assert.ok(r.stderr.includes('kpipe --help'), r.stderr);
});

test("a misspelt option: kpipe's own words, with did you mean (not Node's message)", () => {
  const r = kpipe(['run', '--profile', 'x86_64-reference', '--keep-goign']);
  assertUserError(r);
  assert.match(r.stderr, /error: unknown option --keep-goign\n\s+= hint: did you mean --keep-going\?/, r.stderr);
  assert.not.ok(r.stderr.includes('To specify a positional argument'), r.stderr);
  const missing = kpipe(['explain', '-C']);
  assertUserError(missing);
  assert.match(missing.stderr, /option -C, --directory needs a value/, missing.stderr);
});

test('a misspelt target: exit 2 with a suggestion, in explain and in run alike', () => {
  const r = kpipe(['explain', '--profile', 'x86_64-reference', 'vmlinx']);
  assertUserError(r);
  assert.match(r.stderr, /no step produces 'vmlinx'\n\s+= hint: did you mean 'vmlinux'\?/, r.stderr);
});

test('explain prints a plan warning once (on stderr), not also at the end of its text', () => {
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--set', 'DEBUG_INFO_BTF=n']);
  assertExit(r, 0);
  assert.equal((r.stdout + r.stderr).match(/skipping BTF for modules/g)?.length, 1, show(r));
});

test('--set NOVALUE: exit 2, says SYM=VALUE', () => {
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--set', 'NOVALUE']);
  assertUserError(r);
  assert.ok(r.stderr.includes("--set expects SYM=VALUE, got 'NOVALUE'"), r.stderr);
  assert.is(r.stdout, '');
});

test.run();
