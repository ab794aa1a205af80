// Org plugins through a cosmiconfig config file found from the working directory: used in a pipeline
// that includes the shipped one, listed by `kpipe plugins`, and reported by name and hook when they
// throw or cannot be found. Each test builds its own temporary directory.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIXTURES, SHIPPED_PIPELINE, assertExit, assertFrame, assertUserError, kpipe, parseJson, removeTempDirs, show, stageBlock, stepLines, tempDir } from './helpers.js';

const PLUGINS = path.join(FIXTURES, 'org-plugins');

/** A directory with the config file `configName` listing `specifiers`, and the fixture plugins copied in. */
function orgDir(configName: string, specifiers: (string | [string, unknown])[]): string {
  const dir = tempDir('org');
  for (const f of fs.readdirSync(PLUGINS)) fs.copyFileSync(path.join(PLUGINS, f), path.join(dir, f));
  const config = { plugins: specifiers };
  const text = configName.endsWith('.mjs') || configName.endsWith('.js')
    ? `export default ${JSON.stringify(config)};\n`
    : `${JSON.stringify(config, null, 2)}\n`;
  fs.writeFileSync(path.join(dir, configName), text);
  return dir;
}

/** A pipeline that includes the shipped one (by absolute path) and adds `plugin` to the vmlinux stage. */
function orgPipeline(dir: string, plugin: string, file = 'org.pipeline'): string {
  fs.writeFileSync(path.join(dir, file), `include "${SHIPPED_PIPELINE}"\nextend stage vmlinux { use ${plugin} }\n`);
  return file;
}

test.after(removeTempDirs);

// kpipe.config.json is the name the README documents; the others are cosmiconfig's own names and show
// whether a failure is about the name of the file or about loading plugins at all.
for (const configName of ['kpipe.config.json', '.kpiperc.json', 'kpipe.config.mjs']) {
  test(`${configName}: explain shows the org plugin's step, attributed to it`, () => {
    const dir = orgDir(configName, ['./manifest.mjs']);
    const r = kpipe(['explain', '--profile', 'x86_64-reference', '--pipeline', orgPipeline(dir, 'manifest')], { cwd: dir });
    assertExit(r, 0);
    assert.match(r.stdout, /^pipeline: org\.pipeline \(--pipeline\)$/m);
    assert.match(stageBlock(r.stdout, 'vmlinux').join('\n'), /plugin manifest +on +\(always\)/);
    const steps = stepLines(r.stdout);
    const gen = steps.findIndex((l) => /^ {2}GEN {5}MANIFEST +manifest$/.test(l));
    assert.ok(gen >= 0, `GEN MANIFEST by manifest in:\n${steps.join('\n')}`);
    // In the vmlinux stage, which the shipped file declares.
    assert.ok(steps.lastIndexOf('  [vmlinux]', gen) > steps.lastIndexOf('  [modules]', gen), steps.join('\n'));
    // The shipped stages are all still there.
    assert.ok(steps.some((l) => /^ {2}OBJCOPY vmlinux +objcopy/.test(l)), steps.join('\n'));
  });

  test(`${configName}: kpipe plugins lists the org plugin, its file, and that it taps stage`, () => {
    const dir = orgDir(configName, ['./manifest.mjs']);
    const r = kpipe(['plugins', '--profile', 'x86_64-reference', '--pipeline', orgPipeline(dir, 'manifest')], { cwd: dir });
    assertExit(r, 0);
    assert.ok(r.stdout.startsWith(`config: ${path.join(dir, configName)}\n`), show(r));
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => /^manifest\s/.test(l));
    assert.ok(at >= 0, `manifest listed:\n${r.stdout}`);
    assert.is(lines[at], `manifest       ${configName} plugins[0] (./manifest.mjs)`);
    assert.is(lines[at + 1], `  module:  ${path.join(dir, 'manifest.mjs')}`);
    assert.is(lines[at + 2], '  used in: vmlinux');
    assert.is(lines[at + 3], '  taps:    stage');
    // The built-ins are still listed, as built-in.
    assert.match(r.stdout, /^link +built-in$/m);
  });
}

test('kpipe plugins without a pipeline that uses it: listed with its file, not active', () => {
  const dir = orgDir('.kpiperc.json', ['./manifest.mjs']);
  const r = kpipe(['plugins', '--profile', 'x86_64-reference'], { cwd: dir });
  assertExit(r, 0);
  const lines = r.stdout.split('\n');
  const at = lines.findIndex((l) => /^manifest\s/.test(l));
  assert.ok(at >= 0, r.stdout);
  assert.is(lines[at + 1], `  module:  ${path.join(dir, 'manifest.mjs')}`);
  assert.is(lines[at + 2], '  used in: no stage');
  assert.is(lines[at + 3], '  taps:    nothing (not active)');
});

test('a plugin whose apply throws: exit 2, the plugin, the hook and the use line; no stack', () => {
  const dir = orgDir('.kpiperc.json', ['./boom-apply.mjs']);
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--pipeline', orgPipeline(dir, 'boom')], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes("plugin 'boom' failed in hook apply: boom"), r.stderr);
  assertFrame(r.stderr, 'org.pipeline', 2, 24, 'use boom');
  assert.is(r.stdout, '');
});

test('a plugin that throws in its stage tap: exit 2, the plugin and the hook for that stage; no stack', () => {
  const dir = orgDir('.kpiperc.json', ['./boom-tap.mjs']);
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--pipeline', orgPipeline(dir, 'boom-tap')], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes("plugin 'boom-tap' failed in hook stage.for('vmlinux'): boom in tap"), r.stderr);
});

test('a config naming a missing file: exit 2, the specifier and the config file named', () => {
  const dir = orgDir('.kpiperc.json', ['./manifest.mjs', './missing-plugin.mjs']);
  const r = kpipe(['explain', '--profile', 'x86_64-reference'], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes('cannot load plugin ./missing-plugin.mjs'), r.stderr);
  assert.ok(r.stderr.includes(`listed in ${path.join(dir, '.kpiperc.json')}`), r.stderr);
});

test('a config naming a package that is not installed: exit 2, the package named', () => {
  const dir = orgDir('.kpiperc.json', ['kpipe-plugin-not-installed']);
  const r = kpipe(['plugins', '--profile', 'x86_64-reference'], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes('cannot load plugin kpipe-plugin-not-installed'), r.stderr);
});

test('a config listing a module that exports no plugin: exit 2, says what a plugin looks like', () => {
  const dir = orgDir('.kpiperc.json', ['./not-a-plugin.mjs']);
  fs.writeFileSync(path.join(dir, 'not-a-plugin.mjs'), 'export default { name: "x" };\n');
  const r = kpipe(['plugins', '--profile', 'x86_64-reference'], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes('./not-a-plugin.mjs does not export a plugin'), r.stderr);
});

test('an org plugin with the name of a built-in: exit 2, both sources named', () => {
  const dir = orgDir('.kpiperc.json', ['./link.mjs']);
  fs.writeFileSync(path.join(dir, 'link.mjs'), 'export default { name: "link", apply() {} };\n');
  const r = kpipe(['plugins', '--profile', 'x86_64-reference'], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes(`plugin 'link' from ${path.join(dir, '.kpiperc.json')} plugins[0] (./link.mjs) has the name of the plugin from built-in`), r.stderr);
  assertFrame(r.stderr, '.kpiperc.json', 3, 5, '"./link.mjs"');
});

test('a plugin written as a class: loaded, its taps listed under its pipeline name, in hook order', () => {
  const dir = orgDir('kpipe.config.json', ['./class-plugin.mjs']);
  const r = kpipe(['plugins', '--profile', 'x86_64-reference', '--pipeline', orgPipeline(dir, 'stamp')], { cwd: dir });
  assertExit(r, 0);
  const lines = r.stdout.split('\n');
  const at = lines.findIndex((l) => /^stamp\s/.test(l));
  assert.ok(at >= 0, r.stdout);
  assert.is(lines[at + 2], '  writes STAMP holding its `text` option');
  assert.is(lines[at + 4], '  taps:    stage, validatePlan', 'the names of core/hooks.ts, attributed to stamp and not to StampPlugin');
  assert.not.ok(r.stdout.includes('StampPlugin'), r.stdout);
});

test('plugin options: the plugin default, overridden by the config file, overridden by the use line', () => {
  const stampText = (dir: string, pipeline: string) => {
    const j = parseJson(kpipe(['explain', '--profile', 'x86_64-reference', '--format', 'json', '--pipeline', pipeline], { cwd: dir }));
    const step = j.steps.find((s) => s.outputs.includes('STAMP'));
    assert.ok(step, 'a STAMP step');
    return step!.commands[0]!.builtin === 'write-file' ? (step as unknown as { commands: { args: string[] }[] }).commands[0]!.args[1] : undefined;
  };
  const plain = orgDir('kpipe.config.json', ['./class-plugin.mjs']);
  assert.is(stampText(plain, orgPipeline(plain, 'stamp')), 'the plugin default');
  const configured = orgDir('kpipe.config.json', [['./class-plugin.mjs', { text: 'from the config' }]]);
  assert.is(stampText(configured, orgPipeline(configured, 'stamp')), 'from the config');
  assert.is(stampText(configured, orgPipeline(configured, 'stamp(text = "from the use line")')), 'from the use line');
});

test('a config option the plugin does not declare: exit 2, the plugin, its options, a frame in the config', () => {
  const dir = orgDir('kpipe.config.json', [['./class-plugin.mjs', { txt: 'typo' }]]);
  const r = kpipe(['plugins', '--profile', 'x86_64-reference'], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes("kpipe.config.json:4:7: error: [plugin stamp] in the config file: plugin 'stamp' has no option 'txt'"), r.stderr);
  assertFrame(r.stderr, 'kpipe.config.json', 4, 7, '"./class-plugin.mjs"');
  assert.ok(r.stderr.includes("hint: did you mean 'text'? its options are: text"), r.stderr);
});

test('a config option of the wrong type, and options that are not an object: both reported', () => {
  const dir = orgDir('kpipe.config.json', [['./class-plugin.mjs', { text: ['a', 'list'] }], ['./manifest.mjs', 'text']]);
  const r = kpipe(['plugins', '--profile', 'x86_64-reference'], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes("option 'text' of plugin 'stamp' must be a string, a number or a boolean, not an array"), r.stderr);
  assert.ok(r.stderr.includes("the options of plugin 'manifest' must be an object"), r.stderr);
  assert.match(r.stderr, /^2 errors$/m);
});

test('a module without apply: exit 2, says what is missing and where the entry is', () => {
  const dir = orgDir('kpipe.config.json', ['./no-apply.mjs']);
  const r = kpipe(['plugins', '--profile', 'x86_64-reference'], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes("./no-apply.mjs does not export a plugin: plugin 'no-apply' has no apply(hooks, context) method"), r.stderr);
  assertFrame(r.stderr, 'kpipe.config.json', 3, 5, '"./no-apply.mjs"');
});

test('a module that throws when imported: exit 2, its message, the entry; no stack', () => {
  const dir = orgDir('kpipe.config.json', ['./throws-on-import.mjs']);
  const r = kpipe(['plugins', '--profile', 'x86_64-reference'], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes('cannot load plugin ./throws-on-import.mjs: signing key certs/signing_key.pem not found'), r.stderr);
  assert.ok(r.stderr.includes(`listed in ${path.join(dir, 'kpipe.config.json')} plugins[0]`), r.stderr);
});

test('an org plugin that throws in apply: the note says which config entry it came from', () => {
  const dir = orgDir('kpipe.config.json', ['./boom-apply.mjs']);
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--pipeline', orgPipeline(dir, 'boom')], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes(`plugin 'boom' comes from ${path.join(dir, 'kpipe.config.json')} plugins[0] (./boom-apply.mjs): ${path.join(dir, 'boom-apply.mjs')}`), r.stderr);
});

test.run();
