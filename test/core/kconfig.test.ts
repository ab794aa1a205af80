import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseKconfigText, loadKconfig, srcarchOf } from '../../core/planning/kconfig.js';
import { evaluate } from '../../core/planning/condition.js';
import { parsePipeline } from '../../dsl/parse.js';
import type { Expr } from '../../dsl/ast.js';
import { KpipeError } from '../../core/diagnostic.js';

const config = parseKconfigText(
  ['CONFIG_MODULES=y', 'CONFIG_CRC7=m', '# CONFIG_MODULE_HASHES is not set', 'CONFIG_LOCALVERSION="-kp \\"x\\""', 'CONFIG_NR_CPUS=64', 'CONFIG_X86=y'].join('\n'),
  { kind: 'profile', where: 'test' },
);

function when(text: string): Expr {
  const parsed = parsePipeline(`a: b when ${text}\n`, 'test.pipeline');
  assert.equal(parsed.diagnostics, []);
  const s = parsed.file.statements[0]!;
  if (s.kind !== 'ordering' || !s.when) throw new Error('no condition parsed');
  return s.when;
}

test('parses y, m, not set, strings with escapes and numbers', () => {
  assert.is(config.get('MODULES'), 'y');
  assert.is(config.get('CRC7'), 'm');
  assert.is(config.get('MODULE_HASHES'), 'n');
  assert.is(config.get('LOCALVERSION'), '-kp "x"');
  assert.is(config.get('NR_CPUS'), '64');
  assert.is(config.get('ABSENT'), undefined);
  assert.ok(config.isEnabled('CRC7'));
  assert.not.ok(config.isEnabled('MODULE_HASHES'));
});

test('conditions evaluate like Kconfig, and name the deciding symbols', () => {
  assert.equal(evaluate(when('MODULES'), config), { value: true, because: ['MODULES=y'] });
  assert.equal(evaluate(when('MODULE_HASHES'), config), { value: false, because: ['MODULE_HASHES is not set'] });
  assert.equal(evaluate(when('MODULES && MODULE_HASHES'), config).because, ['MODULE_HASHES is not set']);
  assert.is(evaluate(when('MODULE_HASHES || CRC7=m'), config).value, true);
  assert.is(evaluate(when('!(MODULE_HASHES || ABSENT)'), config).value, true);
  assert.is(evaluate(when('ABSENT=n'), config).value, true, 'an unset symbol reads as n');
  assert.is(evaluate(when('LOCALVERSION="-kp \\"x\\""'), config).value, true);
  assert.is(evaluate(when('NR_CPUS!=64'), config).value, false);
});

test('--set overrides the tree or profile, and ARCH comes from the config or the environment', () => {
  const k = loadKconfig({ sets: ['MODULE_HASHES=y', 'CONFIG_FOO="a b"'], envArch: 'x86_64' });
  assert.is(k.get('MODULE_HASHES'), 'y');
  assert.is(k.origin('MODULE_HASHES')?.kind, 'set');
  assert.is(k.get('FOO'), 'a b');
  assert.is(k.get('ARCH'), 'x86');
  assert.is(srcarchOf('i386'), 'x86');
  assert.is(srcarchOf('riscv'), 'riscv');
});

test('a malformed --set is a clear error, not an exception trace', () => {
  try {
    loadKconfig({ sets: ['NOVALUE'] });
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.instance(e, KpipeError);
    assert.match((e as KpipeError).diagnostics[0]!.message, /--set expects SYM=VALUE/);
  }
});

test('a missing Kconfig in an output tree says what to do', () => {
  try {
    loadKconfig({ objtree: '/nonexistent-tree' });
    assert.unreachable();
  } catch (e) {
    assert.match((e as KpipeError).diagnostics[0]!.hint ?? '', /olddefconfig/);
  }
});

test.run();
