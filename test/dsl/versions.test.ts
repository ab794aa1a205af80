// The DSL's kernel versions: `kernels 6.1 6.12 7.2`, version literals, ordered comparisons, and use
// variants (a later `use` of a plugin with a `when` and other options) accepted where a plain second
// `use` is still an error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePipeline } from '../../dsl/parse.js';
import { validatePipeline } from '../../dsl/validate.js';
import { exprToString } from '../../core/planning/condition.js';

test('kernels lists versions; conditions compare with < <= > >= against versions and numbers', () => {
  const text = 'kernels 6.1 6.12 7.2\nstage a {\n  use link when KERNELVERSION >= 6.15 && NR_CPUS > 8 || KERNELVERSION < 6.1.100\n}\na: b when KERNELVERSION <= 7\n';
  const parsed = parsePipeline(text, '/p/kbuild.pipeline');
  assert.equal(parsed.diagnostics, []);
  const [kernels, stage, ordering] = parsed.file.statements;
  assert.is(kernels?.kind, 'kernels');
  if (kernels?.kind === 'kernels') assert.equal(kernels.versions.map((v) => `${v.kind}:${v.text}`), ['version:6.1', 'version:6.12', 'version:7.2']);
  if (stage?.kind === 'stage') assert.is(exprToString(stage.uses[0]!.when!), 'KERNELVERSION >= 6.15 && NR_CPUS > 8 || KERNELVERSION < 6.1.100');
  if (ordering?.kind === 'ordering') assert.is(exprToString(ordering.when!), 'KERNELVERSION <= 7');
});

test('a misspelt kernels line and a kernels line without versions are errors with their place', () => {
  const typo = parsePipeline('kernles 6.1\n', '/p/x.pipeline');
  assert.is(typo.diagnostics[0]?.hint, "did you mean 'kernels'?");
  const empty = parsePipeline('kernels\n', '/p/x.pipeline');
  assert.match(empty.diagnostics[0]?.message ?? '', /expected a kernel version/);
});

test('a use variant (when, other options) is accepted; a second use with the same options is not', () => {
  const check = (text: string) => validatePipeline(parsePipeline(text, '/p/k.pipeline').file.statements, { knownPlugins: ['kallsyms'] }).map((d) => d.code);
  assert.equal(check('stage a {\n  use kallsyms\n  use kallsyms(extra_pass = true) when KERNELVERSION < 6.12\n}\n'), []);
  assert.equal(check('stage a {\n  use kallsyms\n  use kallsyms when KERNELVERSION < 6.12\n}\n'), ['duplicate-use']);
  assert.equal(check('stage a {\n  use kallsyms\n  use kallsyms(extra_pass = true)\n}\n'), ['duplicate-use']);
});

test.run();
