// External modules without a kernel: `stage ... when EXPR`, the KBUILD_EXTMOD pseudo-symbol, the plan of
// the shipped pipeline for `M=DIR`, the command line (M=, --btf-base), the BTF base record, and the
// tree's $(STRIP). The real-kernel side is test/e2e/extmod.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planFor, profileKconfig, kconfigOf } from '../helpers/plan.js';
import { loadPipeline } from '../../dsl/load.js';
import { buildStageGraph } from '../../core/planning/stage-graph.js';
import { parseCli } from '../../core/cli/args.js';
import { sessionOptions } from '../../core/cli/session-options.js';
import { btfDigest, formatRecord, parseRecord } from '../../core/elf/btf-base.js';
import { stripCommand } from '../../plugins/module-hashes/merkle.js';
import type { Toolchain } from '../../core/planning/toolchain.js';
import { loadKconfig } from '../../core/planning/kconfig.js';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { elfWithSection } from '../helpers/tiny-elf.js';

function stageGraphOf(text: string, config: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-extmod-'));
  const file = path.join(dir, 'kbuild.pipeline');
  fs.writeFileSync(file, text);
  const loaded = loadPipeline(file, { knownPlugins: ['link', 'modfinal'] });
  assert.equal(loaded.diagnostics, []);
  return buildStageGraph(loaded.statements, kconfigOf(config)).graph;
}

const PIPELINE = `stage image when !KBUILD_EXTMOD {
  use link
}
stage modules {
  use modfinal when MODULES
}
modules: image
`;

test('a stage whose `when` fails is off: its plugins and every ordering naming it, with the reason', () => {
  const graph = stageGraphOf(PIPELINE, 'CONFIG_KBUILD_EXTMOD=y\nCONFIG_MODULES=y\n');
  const image = graph.stages.find((s) => s.name === 'image')!;
  assert.is(image.active, false);
  assert.equal(image.because, ['KBUILD_EXTMOD=y']);
  assert.equal(image.uses.map((u) => [u.plugin, u.active, u.when]), [['link', false, '!KBUILD_EXTMOD']]);
  assert.equal(graph.edges.map((e) => [e.target, e.prerequisite, e.active]), [['modules', 'image', false]]);
  const modules = graph.stages.find((s) => s.name === 'modules')!;
  assert.equal(modules.uses.map((u) => u.active), [true], 'a stage without `when` is unaffected');
});

test('the same stage is on when its `when` holds', () => {
  const graph = stageGraphOf(PIPELINE, 'CONFIG_MODULES=y\n');
  assert.is(graph.stages.find((s) => s.name === 'image')!.active, true);
  assert.equal(graph.edges.map((e) => e.active), [true]);
});

test('M=DIR sets the pseudo-symbol KBUILD_EXTMOD, naming where it came from', () => {
  assert.not.ok(profileKconfig('x86_64-reference').isEnabled('KBUILD_EXTMOD'));
  const withExtmod = referenceWithExtmod('/src/mymod');
  assert.ok(withExtmod.isEnabled('KBUILD_EXTMOD'));
  assert.equal(withExtmod.origin('KBUILD_EXTMOD'), { kind: 'environment', where: 'M=/src/mymod' });
});

function referenceWithExtmod(extmod: string) {
  return loadKconfig({ profileFile: path.join(PACKAGE_ROOT, 'configs', 'x86_64-reference.config'), extmod });
}

test('the shipped pipeline with M=DIR: only the compile and modules stages, all files in DIR', () => {
  const kconfig = referenceWithExtmod('/src/mymod');
  const plan = planFor(kconfig, undefined, undefined, { make: 'make', env: {}, extmod: '/src/mymod' });
  assert.equal(plan.diagnostics, []);
  assert.equal([...new Set(plan.steps.map((s) => s.stage))], ['compile', 'modules']);
  assert.equal(plan.labels.slice(0, 1), ['MAKE M=/src/mymod modpost']);
  const outputs = plan.steps.flatMap((s) => s.outputs);
  assert.ok(outputs.length > 0);
  assert.equal(outputs.filter((o) => !o.startsWith('/src/mymod/')), [], 'nothing is written into the tree');
});

test("M=DIR: each module's step also writes kbuild's saved command beside the .ko (make M=DIR after kpipe relinks nothing)", () => {
  const kconfig = referenceWithExtmod('/src/mymod');
  const plan = planFor(kconfig, undefined, undefined, { make: 'make', env: {}, extmod: '/src/mymod' });
  const ko = plan.steps.find((s) => s.outputs.includes('/src/mymod/<module>.ko'));
  assert.ok(ko, plan.steps.map((s) => s.outputs.join(' ')).join('\n'));
  assert.ok(ko.outputs.includes('/src/mymod/.<module>.ko.cmd'), ko.outputs.join(' '));
  const write = ko.commands.find((c) => c.plugin === 'kbuild-cmd' && c.action.kind === 'builtin');
  assert.ok(write);
  const text = write.action.kind === 'builtin' ? write.action.args[1]! : '';
  assert.match(text, /^savedcmd_\/src\/mymod\/<module>\.ko := \$\$\(LD\) -r .* -o \/src\/mymod\/<module>\.ko \/src\/mymod\/<module>\.o \/src\/mymod\/<module>\.mod\.o \/src\/mymod\/\.module-common\.o\n$/);
});

test('command line: M=DIR is a session option (not an environment variable), --btf-base an absolute btf option', () => {
  const args = parseCli(['run', '-C', 'out', 'M=../mymod', 'ARCH=x86_64', '--btf-base', 'base/vmlinux']);
  const options = sessionOptions(args);
  assert.is(options.extmod, '../mymod');
  assert.is(options.env.M, undefined);
  assert.is(options.env.ARCH, 'x86_64');
  assert.equal(options.pluginOptions, { btf: { base: path.resolve(process.cwd(), 'base/vmlinux') } });
});

test('BTF base record: written and read back; anything else is not trusted', () => {
  const record = { sha256: 'ab'.repeat(32), base: '/sys/kernel/btf/vmlinux' };
  assert.equal(parseRecord(formatRecord(record)), record);
  assert.is(parseRecord('c1ae83 vmlinux\n'), undefined);
  assert.is(parseRecord(''), undefined);
});

test('BTF digest: a raw BTF file and the .BTF section of an ELF holding the same bytes agree', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-btf-'));
  const raw = path.join(dir, 'raw');
  const btf = Buffer.from('\x9f\xeb\x01\x00 some BTF bytes', 'latin1');
  fs.writeFileSync(raw, btf);
  const elf = path.join(dir, 'elf');
  fs.writeFileSync(elf, elfWithSection('.BTF', btf));
  assert.is(btfDigest(elf), btfDigest(raw));
  const other = path.join(dir, 'other');
  fs.writeFileSync(other, elfWithSection('.data', btf));
  assert.is(btfDigest(other), undefined, 'an ELF without .BTF has no BTF');
});

test("$(STRIP) for the install strip: the tree's (a cross tree's strip), else the environment's, else strip", () => {
  const tree = { kind: 'tree', origin: 'test', value: () => 'riscv64-linux-gnu-strip', words: () => ['riscv64-linux-gnu-strip'], kbuildEnv: {} } as unknown as Toolchain;
  assert.equal(stripCommand('1', tree, { STRIP: 'llvm-strip' }), ['riscv64-linux-gnu-strip', '--strip-debug']);
  assert.equal(stripCommand('--strip-unneeded', undefined, { STRIP: 'llvm-strip' }), ['llvm-strip', '--strip-unneeded']);
  assert.equal(stripCommand('1', undefined, {}), ['strip', '--strip-debug']);
  assert.is(stripCommand(undefined, tree, {}), undefined);
});


test.run();
