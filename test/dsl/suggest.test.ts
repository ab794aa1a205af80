// "Did you mean": Damerau-Levenshtein with a threshold that grows with the word.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { editDistance, suggest } from '../../core/suggest.js';

test('a transposition is one edit', () => {
  assert.is(editDistance('stgae', 'stage'), 1);
  assert.is(editDistance('incldue', 'include'), 1);
  assert.is(editDistance('ab', 'ba'), 1);
  assert.is(editDistance('kitten', 'sitting'), 3);
  assert.is(editDistance('', 'abc'), 3);
  assert.is(editDistance('same', 'same'), 0);
});

test('the closest candidate within the threshold', () => {
  assert.is(suggest('stgae', ['stage', 'extend', 'include']), 'stage');
  assert.is(suggest('vmlinx', ['modules', 'vmlinux', 'vmlinux.unstripped']), 'vmlinux');
  assert.is(suggest('module-hash', ['module-hashes', 'modfinal']), 'module-hashes');
  assert.is(suggest('kalsyms', ['kallsyms', 'link']), 'kallsyms');
});

test('nothing when no candidate is close enough', () => {
  assert.is(suggest('frobnicate', ['stage', 'extend', 'include']), undefined);
  assert.is(suggest('vmlinux', []), undefined);
  assert.is(suggest('btfx', ['link']), undefined);
});

test('short words are only corrected for case', () => {
  assert.is(suggest('ab', ['ac', 'xb']), undefined);
  assert.is(suggest('y', ['n', 'm']), undefined);
  assert.is(suggest('Y', ['n', 'y']), 'y');
});

test('case is ignored for the distance; ties go to the closer case, then to the earlier candidate', () => {
  assert.is(suggest('VMLINUX', ['modules', 'vmlinux']), 'vmlinux');
  assert.is(suggest('Stage', ['STAGE', 'stage']), 'stage');
  assert.is(suggest('stagx', ['stags', 'stage']), 'stags');
  assert.is(suggest('stagx', ['stage', 'stags']), 'stage');
});

test('a very long word stays cheap and gets no suggestion', () => {
  const started = Date.now();
  const word = 'x'.repeat(100000);
  assert.is(suggest(word, ['stage', 'x'.repeat(99000)]), undefined);
  assert.ok(Date.now() - started < 2000);
});

test.run();
