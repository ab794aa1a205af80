// The package's public plugin API ('kpipe' = dist/core/index.js): what a plugin author can import at
// run time, that its declarations never fall back to `any`, and the condition helper it exports.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as api from 'kpipe';
import { PACKAGE_ROOT } from '../../core/loading/session.js';
import { kconfigOf } from '../helpers/plan.js';

test("the package's own name resolves to the API, with every value a plugin needs", () => {
  for (const name of ['ARTIFACTS', 'LINK_OBJECT_ORDER', 'LINK_READER_ORDER', 'AFTER_LINK_ORDER', 'createHooks', 'registerBuiltin', 'evaluateCondition', 'error', 'KpipeError']) {
    assert.ok(name in api, `'kpipe' exports ${name}`);
  }
  assert.is(api.ARTIFACTS.module('crypto/crc8.ko'), 'module:crypto/crc8.ko');
  const hooks = api.createHooks();
  assert.equal(Object.keys(hooks), ['stage', 'beforeLinks', 'linkSpec', 'afterLink', 'objcopy', 'afterObjcopy', 'moduleLinked', 'validatePlan']);
});

test('the declarations a plugin author reads never say `any`', () => {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    // `any` as a type (after `:`, `<`, `|`, `=>`, or before `[]`, `>`), not the word in a comment.
    assert.not.match(text, /(?:[:<|,(]|=>)\s*any\b|\bany\s*(?:\[\]|>)/, `${path.relative(PACKAGE_ROOT, file)} uses the type any`);
    // Follow the relative imports: the API is everything index.d.ts reaches.
    for (const m of text.matchAll(/from '(\.[^']+)\.js'/g)) visit(path.resolve(path.dirname(file), `${m[1]}.d.ts`));
  };
  visit(path.join(PACKAGE_ROOT, 'dist', 'core', 'index.d.ts'));
  assert.ok(seen.size >= 8, `followed ${seen.size} declaration files`);
});

test('evaluateCondition reads a condition as the pipeline does, and says why', () => {
  const kconfig = kconfigOf('CONFIG_MODULES=m\nCONFIG_MODULE_SIG=y\n# CONFIG_COMPILE_TEST is not set\n');
  assert.equal(api.evaluateCondition('MODULES && !COMPILE_TEST', kconfig), { value: true, because: ['MODULES=m', 'COMPILE_TEST is not set'] });
  assert.equal(api.evaluateCondition('MODULE_HASHES || MODULE_SIG=n', kconfig).value, false);
  assert.throws(() => api.evaluateCondition('MODULES &&', kconfig), /cannot read the condition 'MODULES &&'/);
  assert.throws(() => api.evaluateCondition('MODULES\nX', kconfig), /one line/);
});

test.run();
