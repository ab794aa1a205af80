// Scenario tests: each folder of test/dsl/fixtures holds an input.pipeline (and any files it
// includes) and expected.txt, the diagnostics exactly as the CLI prints them (paths relative to the
// folder, no colour). The expected files are written and checked by hand.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDiagnostics } from '../../core/cli/format-diagnostic.js';
import { loadPipeline } from '../../dsl/load.js';

const PLUGINS = ['link', 'kallsyms', 'btf', 'sorttable', 'modfinal', 'manifest', 'module-hashes'];
// Compiled to dist/test/dsl; the fixtures stay in the source tree.
const FIXTURES = fileURLToPath(new URL('../../../test/dsl/fixtures/', import.meta.url));
const scenarios = fs.readdirSync(FIXTURES).filter((name) => fs.existsSync(path.join(FIXTURES, name, 'input.pipeline'))).sort();

test('the fixture folders are found', () => {
  assert.ok(scenarios.length >= 10, `found ${scenarios.length}`);
  assert.ok(scenarios.includes('good'));
});

for (const name of scenarios) {
  test(`fixture ${name}`, () => {
    const dir = path.join(FIXTURES, name);
    const loaded = loadPipeline(path.join(dir, 'input.pipeline'), { knownPlugins: PLUGINS });
    const actual = formatDiagnostics(loaded.diagnostics, loaded.sources, { cwd: dir });
    const expected = fs.readFileSync(path.join(dir, 'expected.txt'), 'utf8');
    assert.fixture(actual, expected);
  });
}

test('the good fixture loads every statement of the design example', () => {
  const loaded = loadPipeline(path.join(FIXTURES, 'good', 'input.pipeline'), { knownPlugins: PLUGINS });
  assert.equal(loaded.diagnostics, []);
  assert.is(loaded.files.length, 2);
  assert.is(loaded.statements.length, 8);
});

test.run();
