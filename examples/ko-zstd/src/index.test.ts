// The plugin's own tests, through kpipe's testing entry: planned on the shipped pipeline against a
// profile (which steps, which inputs), and run over stand-in modules in a temporary tree (real zstd,
// no kernel): the .zst decompresses to the .ko, and only a changed module is compressed again.
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ARTIFACTS, type KpipePlugin } from 'kpipe';
import { planPipeline, runInTempTree, SHIPPED_PIPELINE } from 'kpipe/testing';
import KoZstdPlugin from './index.js';

const STAGE = 'stage compressed "zstd copies of the modules" {\n  use ko-zstd when MODULES\n}\ncompressed: modules\n';

test('planned after the shipped modules stage: one ZSTD step per module, reading its .ko', async () => {
  const plan = await planPipeline({ plugins: [new KoZstdPlugin()], pipeline: `include "${SHIPPED_PIPELINE}"\n${STAGE}`, profile: 'x86_64-reference' });
  assert.equal(plan.diagnostics.filter((d) => d.severity === 'error'), [], plan.format());
  const steps = plan.stepsOf('ko-zstd');
  assert.equal(steps.map((s) => [s.id, s.inputs, s.outputs]), [['compressed:<module>.ko.zst', ['<module>.ko'], ['<module>.ko.zst']]]);
});

test('a level out of range: an error at the use line', async () => {
  const plan = await planPipeline({ plugins: [new KoZstdPlugin()], pipeline: 'stage compressed {\n  use ko-zstd(level = 42)\n}\n', kconfig: 'CONFIG_MODULES=y\n' });
  assert.equal(plan.diagnostics.map((d) => [d.code, d.range?.start.line]), [['ko-zstd-level', 2]]);
});

/** Stand-in modules: copies src/X.ko to X.ko and publishes it as a module, as modfinal does. */
const fakeModules: KpipePlugin = {
  name: 'fake-modules',
  apply(hooks, ctx) {
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      for (const ko of ['crypto/crc8.ko', 'lib/zlib.ko']) {
        builder.addStep(ctx.name, { commands: [{ label: { tag: 'LD [M]', target: ko }, plugin: ctx.name, action: { kind: 'builtin', name: 'copy', args: [`src/${ko}`, ko] } }], inputs: [`src/${ko}`], outputs: [ko] });
        ctx.artifacts.publish(ARTIFACTS.module(ko), ko);
      }
    });
  },
};

test('run: each .zst is its module compressed; a changed module is compressed again, the other not', async () => {
  const { tree, result } = await runInTempTree({
    plugins: [fakeModules, new KoZstdPlugin()],
    pipeline: `stage modules { use fake-modules }\n${STAGE}`,
    kconfig: 'CONFIG_MODULES=y\n',
    files: { 'src/crypto/crc8.ko': 'crc8 module\n', 'src/lib/zlib.ko': 'zlib module\n' },
  });
  try {
    assert.is(result.status, 'ok', result.output);
    const unzstd = (f: string) => execFileSync('zstd', ['-d', '-c', `${tree.dir}/${f}`], { encoding: 'utf8' });
    assert.is(unzstd('crypto/crc8.ko.zst'), 'crc8 module\n');
    tree.write('src/lib/zlib.ko', 'zlib module, rebuilt\n');
    const again = await tree.run();
    assert.equal(again.steps.filter((s) => s.ran).map((s) => s.id), ['modules:lib/zlib.ko', 'compressed:lib/zlib.ko.zst']);
    assert.is(unzstd('lib/zlib.ko.zst'), 'zlib module, rebuilt\n');
  } finally {
    tree.remove();
  }
});

test.run();
