// The example org plugin, used the way an org uses it: named by a kpipe.config.json (kpipe's real
// loading path, cosmiconfig and all), in a pipeline that adds a `release` stage. Planned against the
// shipped pipeline and profiles (which artifacts it lists), and run over a small synthetic output tree
// whose "kernel" is a stand-in plugin copying files (what it writes, and when it runs again).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SHIPPED_PIPELINE, assertExit, assertFrame, assertUserError, kpipe, parseJson, removeTempDirs, show, tempDir } from '../../test/cli/helpers.js';
import { planAndRun, ranStepOf } from '../../test/helpers/run-plan.js';
import type { RunLog } from '../../core/running/run-log.js';

/** The compiled plugin, as an org's config file names it: dist/examples/artifact-manifest/index.js. */
const PLUGIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'index.js');

const RELEASE_STAGE = `stage release "what the distribution ships, with checksums" {
  use artifact-manifest
}
release: vmlinux
release: modules
`;

/** A directory with a kpipe.config.json naming the plugin (and `extra` entries) and `release.pipeline`. */
function orgDir(pipeline: string, extra: unknown[] = []): string {
  const dir = tempDir('manifest');
  fs.writeFileSync(path.join(dir, 'kpipe.config.json'), JSON.stringify({ plugins: [PLUGIN, ...extra] }, null, 2));
  fs.writeFileSync(path.join(dir, 'release.pipeline'), pipeline);
  return dir;
}

function manifestStep(dir: string, profile: string) {
  const j = parseJson(kpipe(['explain', '--profile', profile, '--format', 'json', '--pipeline', 'release.pipeline'], { cwd: dir }));
  const step = j.steps.find((s) => s.plugin === 'artifact-manifest');
  assert.ok(step, 'a step of artifact-manifest');
  return step!;
}

test.after(removeTempDirs);

test('plan: every shipped artifact of the reference profile is an input, temporaries and the unstripped image are not', () => {
  const dir = orgDir(`include "${SHIPPED_PIPELINE}"\n${RELEASE_STAGE}`);
  const step = manifestStep(dir, 'x86_64-reference');
  assert.is(step.stage, 'release');
  assert.equal(step.outputs, ['artifacts.sha256']);
  // Without a tree, modfinal plans one stand-in module.
  assert.equal(step.inputs, ['<module>.ko', 'System.map', 'vmlinux']);
  assert.is(step.commands[0]!.label, 'SHA256  artifacts.sha256');
  assert.is(step.commands[0]!.builtin, 'artifact-manifest.write');
});

test("plan: on a relocatable x86 kernel, the arch's post-link output is in the manifest too", () => {
  const dir = orgDir(`include "${SHIPPED_PIPELINE}"\n${RELEASE_STAGE}`);
  assert.ok(manifestStep(dir, 'x86_64-relocatable').inputs.includes('arch/x86/boot/compressed/vmlinux.relocs'));
});

test('plan: options from the config file and the use line (output, exclude)', () => {
  const dir = orgDir(`include "${SHIPPED_PIPELINE}"\n${RELEASE_STAGE.replace('use artifact-manifest', 'use artifact-manifest(output = "dist/SHA256SUMS", exclude = "System.map")')}`);
  const step = manifestStep(dir, 'x86_64-reference');
  assert.equal(step.outputs, ['dist/SHA256SUMS']);
  // The use line's exclude replaces the default one, so the unstripped image is back.
  assert.equal(step.inputs, ['<module>.ko', 'vmlinux', 'vmlinux.unstripped']);
});

test('kpipe plugins: the example listed from the config file, tapping the stage hook', () => {
  const dir = orgDir(`include "${SHIPPED_PIPELINE}"\n${RELEASE_STAGE}`);
  const r = kpipe(['plugins', '--profile', 'x86_64-reference', '--pipeline', 'release.pipeline'], { cwd: dir });
  assertExit(r, 0);
  const lines = r.stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith('artifact-manifest '));
  assert.ok(at >= 0, r.stdout);
  assert.is(lines[at], `artifact-manifest kpipe.config.json plugins[0] (${PLUGIN})`);
  assert.is(lines[at + 1], `  module:  ${PLUGIN}`);
  assert.ok(lines.slice(at).includes('  used in: release'), r.stdout);
  assert.ok(lines.slice(at).includes('  taps:    stage'), r.stdout);
});

test('a release stage not ordered after the modules: a warning naming the ordering to add', () => {
  const dir = orgDir(`include "${SHIPPED_PIPELINE}"\n${RELEASE_STAGE.replace('release: modules\n', '')}`);
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--pipeline', 'release.pipeline'], { cwd: dir });
  assertExit(r, 0);
  assert.ok(r.stderr.includes("MODULES=y, but stage 'release' sees no module: is it ordered after them ('release: modules')?"), show(r));
});

test('an option of the wrong type: exit 2, the plugin, its hook and the use line; no stack', () => {
  const dir = orgDir(`include "${SHIPPED_PIPELINE}"\n${RELEASE_STAGE.replace('use artifact-manifest', 'use artifact-manifest(output = 3)')}`);
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--pipeline', 'release.pipeline'], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes("plugin 'artifact-manifest' failed in hook stage.for('release'): option 'output' must be a string, not number"), r.stderr);
  assert.ok(r.stderr.includes('hint: use artifact-manifest(output = "...")'), r.stderr);
  assertFrame(r.stderr, 'release.pipeline', 3, 3, 'use artifact-manifest(output = 3)');
});

// ── a run over a synthetic tree ──────────────────────────────────────────────────────────────────

/** A stand-in for the kernel's stages: copies src/X to X and publishes it under the artifact's name. */
const FAKE_KERNEL = `export default {
  name: 'fake-kernel',
  apply(hooks, ctx) {
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      const made = { vmlinux: 'vmlinux', 'System.map': 'System.map', 'vmlinux.btf': '.tmp_vmlinux1.btf.o',
        'module:crypto/crc8.ko': 'crypto/crc8.ko', 'module:lib/zlib.ko': 'lib/zlib.ko', 'vmlinux.relocs': 'arch/x86/boot/compressed/vmlinux.relocs' };
      for (const [name, file] of Object.entries(made)) {
        builder.addStep(ctx.name, {
          commands: [{ label: { tag: 'GEN', target: file }, plugin: ctx.name, action: { kind: 'builtin', name: 'copy', args: ['src/' + file, file] } }],
          inputs: ['src/' + file],
          outputs: [file],
        });
        ctx.artifacts.publish(name, file);
      }
    });
  },
};
`;

const SYNTHETIC_PIPELINE = `stage kernel "stand-ins for vmlinux, System.map and two modules" {
  use fake-kernel
}
${RELEASE_STAGE.replace('release: vmlinux\nrelease: modules\n', 'release: kernel\n')}`;

/** A tree whose sources are the stand-in artifacts, its pipeline and config, its Kconfig. */
function syntheticTree(): string {
  const dir = orgDir(SYNTHETIC_PIPELINE, ['./fake-kernel.mjs']);
  fs.writeFileSync(path.join(dir, 'fake-kernel.mjs'), FAKE_KERNEL);
  for (const file of ['vmlinux', 'System.map', '.tmp_vmlinux1.btf.o', 'crypto/crc8.ko', 'lib/zlib.ko', 'arch/x86/boot/compressed/vmlinux.relocs']) {
    fs.mkdirSync(path.dirname(path.join(dir, 'src', file)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src', file), `contents of ${file}\n`);
  }
  return dir;
}

const run = (dir: string) => planAndRun(dir, 'release.pipeline', 'CONFIG_MODULES=y\n');

const sha256 = (dir: string, file: string) => crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, file))).digest('hex');
const manifestRan = (log: RunLog) => ranStepOf(log, 'artifact-manifest');

test('run: artifacts.sha256 holds the SHA-256 of each shipped file, sorted, in sha256sum format', async () => {
  const dir = syntheticTree();
  await run(dir);
  const expected = ['System.map', 'arch/x86/boot/compressed/vmlinux.relocs', 'crypto/crc8.ko', 'lib/zlib.ko', 'vmlinux'].map((f) => `${sha256(dir, f)}  ${f}\n`).join('');
  assert.fixture(fs.readFileSync(path.join(dir, 'artifacts.sha256'), 'utf8'), expected);
});

test('run: incremental — up to date when nothing changed, rerun when one module changed', async () => {
  const dir = syntheticTree();
  assert.ok(manifestRan((await run(dir)).log), 'the first run writes the manifest');
  assert.not.ok(manifestRan((await run(dir)).log), 'nothing changed: the manifest step does not run');
  const before = fs.readFileSync(path.join(dir, 'artifacts.sha256'), 'utf8');
  fs.writeFileSync(path.join(dir, 'src', 'lib/zlib.ko'), 'a rebuilt zlib.ko\n');
  const third = await run(dir);
  assert.ok(manifestRan(third.log), 'lib/zlib.ko changed: the manifest step runs again');
  const after = fs.readFileSync(path.join(dir, 'artifacts.sha256'), 'utf8');
  const changed = after.split('\n').filter((l) => !before.split('\n').includes(l));
  assert.equal(changed, [`${sha256(dir, 'lib/zlib.ko')}  lib/zlib.ko`]);
});

test('kpipe builtin (what an exported build.ninja runs) finds the plugin\'s builtin through the config file', async () => {
  const dir = syntheticTree();
  await run(dir);
  fs.rmSync(path.join(dir, 'artifacts.sha256'));
  const r = kpipe(['builtin', 'artifact-manifest.write', 'again.sha256', 'vmlinux', 'lib/zlib.ko'], { cwd: dir });
  assertExit(r, 0);
  assert.is(fs.readFileSync(path.join(dir, 'again.sha256'), 'utf8'), `${sha256(dir, 'vmlinux')}  vmlinux\n${sha256(dir, 'lib/zlib.ko')}  lib/zlib.ko\n`);
});

test.run();
