import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeSignature, parseSignature, PKEY_ID_MERKLE } from '../../plugins/module-hashes/signature.js';

test('the trailer: proof, struct module_signature (12 bytes), magic (28 bytes), byte for byte', () => {
  const proof = Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.alloc(32, 0xaa), Buffer.alloc(32, 0xbb)]);
  const t = encodeSignature(proof);
  const expected = Buffer.concat([
    proof,
    Buffer.from([0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 68]),
    Buffer.from('~Module signature appended~\n', 'latin1'),
  ]);
  assert.is(Buffer.from('~Module signature appended~\n').length, 28);
  assert.is(PKEY_ID_MERKLE, 3);
  assert.is(t.length, 68 + 12 + 28);
  assert.equal([...t], [...expected]);
});

test('sig_len is big-endian', () => {
  const t = encodeSignature(Buffer.alloc(4 + 32 * 10));
  assert.equal([...t.subarray(t.length - 28 - 4, t.length - 28)], [0, 0, 0x01, 0x44]);
});

test('parse splits a signed module back into content and proof', () => {
  const content = Buffer.from('\x7fELF some module bytes');
  const proof = Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.alloc(32, 7)]);
  const p = parseSignature(Buffer.concat([content, encodeSignature(proof)]));
  assert.ok(p.content.equals(content));
  assert.ok(p.proof.equals(proof));
  assert.is(p.idType, 3);
});

test('parse refuses an unsigned module and another id type', () => {
  assert.throws(() => parseSignature(Buffer.from('just a module, no trailer at all, long enough to look')), /magic/);
  const t = Buffer.concat([Buffer.alloc(40), encodeSignature(Buffer.alloc(4))]);
  t[t.length - 28 - 12 + 2] = 2; // PKEY_ID_PKCS7
  assert.throws(() => parseSignature(t), /id_type 2/);
});

test.run();
