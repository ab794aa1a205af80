// A short seeded run of the pipeline fuzzer (test/fuzz/dsl-fuzz.ts): 600 mutated pipeline files and
// token soups through load, stage graph, plan and step graph. The long run's figures are in
// BENCHMARKS.md (`node dist/test/fuzz/run-dsl.js 10000`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { corpus, fuzzPipelines } from './dsl-fuzz.js';

test('the corpus holds the shipped kbuild.pipeline and the fixtures', () => {
  const files = [...corpus().keys()];
  assert.ok(files.includes('/fuzz/kbuild.pipeline'));
  assert.ok(files.length > 20, `${files.length} files`);
});

test('600 seeded inputs: no throw, no internal error, every error located or naming its plugin', () => {
  const stats = fuzzPipelines({ seed: 7, count: 600 });
  assert.equal(stats.violations.slice(0, 5), []);
  assert.is(stats.inputs, 600);
  // The generator must exercise both sides: inputs that plan and inputs that do not.
  assert.ok(stats.clean > 30 && stats.clean < 570, `${stats.clean} of 600 planned cleanly`);
  assert.ok((stats.errorsByCode.syntax ?? 0) > 0 && Object.keys(stats.errorsByCode).length >= 5, JSON.stringify(stats.errorsByCode));
});

test('deterministic: the same seed gives the same figures', () => {
  const a = fuzzPipelines({ seed: 11, count: 80 });
  const b = fuzzPipelines({ seed: 11, count: 80 });
  assert.equal([a.clean, a.errorsByCode], [b.clean, b.errorsByCode]);
});

test.run();
