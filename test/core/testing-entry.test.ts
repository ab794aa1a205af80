// `kpipe/testing`, imported as a plugin author imports it (the package's `exports`, not a path into
// dist/): plan the shipped pipeline with one's plugin against a profile and get its steps; run a
// pipeline of stand-ins in a temporary tree without a kernel or make, then again to see what reruns.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planPipeline, profiles, runInTempTree, SHIPPED_PIPELINE } from 'kpipe/testing';
import { ARTIFACTS, type KpipePlugin } from 'kpipe';

/** Lists the modules it sees by kind, without hard-coding `module:`. */
const moduleList: KpipePlugin = {
  name: 'module-list',
  apply(hooks, ctx) {
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      const modules = ctx.artifacts.list('module');
      builder.addStep(ctx.name, {
        commands: [{ label: { tag: 'LIST', target: 'modules.list' }, plugin: ctx.name, action: { kind: 'builtin', name: 'write-file', args: ['modules.list', modules.map((m) => `${ARTIFACTS.moduleFile(m.name)}\n`).join('')] } }],
        inputs: modules.map((m) => m.path),
        outputs: ['modules.list'],
      });
    });
  },
};

const AFTER_MODULES = `include "${SHIPPED_PIPELINE}"\nstage list { use module-list }\nlist: modules\n`;

test('planPipeline: the shipped pipeline plus a plugin, against a profile: its steps and their inputs', async () => {
  assert.ok(profiles().includes('x86_64-reference'));
  const plan = await planPipeline({ plugins: [moduleList], pipeline: AFTER_MODULES, profile: 'x86_64-reference' });
  assert.equal(plan.diagnostics.filter((d) => d.severity === 'error'), [], plan.format());
  const [step] = plan.stepsOf('module-list');
  assert.ok(step);
  assert.is(step!.stage, 'list');
  assert.equal(step!.inputs, ['<module>.ko']);
  assert.ok(plan.labels.includes('LD vmlinux.unstripped') && plan.labels.includes('LIST modules.list'));
});

test('planPipeline: a plan error comes back as data, framed at the use line', async () => {
  const plan = await planPipeline({ plugins: [moduleList], pipeline: 'stage list {\n  use module-list(x = 1)\n}\n', kconfig: 'CONFIG_MODULES=y\n' });
  assert.equal(plan.steps, []);
  assert.equal(plan.diagnostics.map((d) => [d.code, d.range?.start.line]), [['unknown-option', 2]]);
  assert.ok(plan.format().includes('  use module-list(x = 1)'), plan.format());
});

test('runInTempTree: runs stand-in steps with the real executor, then reruns only what changed', async () => {
  const fake: KpipePlugin = {
    name: 'fake-modules',
    apply(hooks, ctx) {
      hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
        for (const ko of ['a.ko', 'b.ko']) {
          builder.addStep(ctx.name, { commands: [{ label: { tag: 'LD [M]', target: ko }, plugin: ctx.name, action: { kind: 'builtin', name: 'copy', args: [`src/${ko}`, ko] } }], inputs: [`src/${ko}`], outputs: [ko] });
          ctx.artifacts.publish(ARTIFACTS.module(ko), ko);
        }
      });
    },
  };
  const { tree, result } = await runInTempTree({
    plugins: [fake, moduleList],
    pipeline: 'stage modules { use fake-modules }\nstage list { use module-list }\nlist: modules\n',
    kconfig: 'CONFIG_MODULES=y\n',
    files: { 'src/a.ko': 'a', 'src/b.ko': 'b' },
  });
  try {
    assert.is(result.status, 'ok', result.output);
    assert.is(tree.read('modules.list'), 'a.ko\nb.ko\n');
    assert.ok(tree.ran('module-list'));
    const again = await tree.run();
    assert.equal(again.steps.filter((s) => s.ran), [], 'a no-op run runs nothing');
    tree.write('src/a.ko', 'a, rebuilt');
    const third = await tree.run();
    // a.ko changed; modules.list has the same bytes, so nothing after it would rerun (early cutoff).
    assert.equal(third.steps.filter((s) => s.ran).map((s) => s.id), ['modules:a.ko', 'list:modules.list']);
  } finally {
    tree.remove();
  }
});

test.run();
