// The Merkle tree of module hashes against a deliberately naive implementation written here: recursive
// over the padded list, no levels array, proofs found by searching the tree top-down.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import crypto from 'node:crypto';
import {
  buildTree, parseSectionContent, proofFor, rootFromProof, sectionContent, stripOptions, HASH_SIZE,
} from '../../plugins/module-hashes/merkle.js';

const H = (b: Buffer) => crypto.createHash('sha256').update(b).digest();

function naivePad(leaves: Buffer[]): Buffer[] {
  let n = 1;
  while (n < leaves.length) n <<= 1;
  return [...leaves, ...Array.from({ length: n - leaves.length }, () => Buffer.alloc(32))];
}

function naiveRoot(list: Buffer[]): Buffer {
  if (list.length === 1) return list[0]!;
  const half = list.length / 2;
  return H(Buffer.concat([naiveRoot(list.slice(0, half)), naiveRoot(list.slice(half))]));
}

/** Siblings from the leaf up, found top-down and reversed. */
function naiveProof(list: Buffer[], index: number): Buffer {
  const topDown: Buffer[] = [];
  let lo = 0;
  let hi = list.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) / 2;
    if (index < mid) {
      topDown.push(naiveRoot(list.slice(mid, hi)));
      hi = mid;
    } else {
      topDown.push(naiveRoot(list.slice(lo, mid)));
      lo = mid;
    }
  }
  const pos = Buffer.alloc(4);
  pos.writeUInt32BE(index);
  return Buffer.concat([pos, ...topDown.reverse()]);
}

const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => H(Buffer.from(`module ${i}`)));

for (const n of [1, 2, 3, 4, 5, 1000]) {
  test(`${n} leaves: root, depth and every proof match the naive tree`, () => {
    const leaves = leavesOf(n);
    const tree = buildTree(leaves);
    const padded = naivePad(leaves);
    assert.ok(tree.root.equals(naiveRoot(padded)), 'root');
    assert.is(tree.depth, Math.log2(padded.length));
    assert.is(tree.depth, n === 1 ? 0 : Math.ceil(Math.log2(n)));
    for (let i = 0; i < n; i++) {
      const proof = proofFor(tree, i);
      assert.is(proof.length, 4 + 32 * tree.depth);
      assert.ok(proof.equals(naiveProof(padded, i)), `proof ${i}`);
      const walked = rootFromProof(leaves[i]!, proof);
      assert.ok(walked.root.equals(tree.root), `proof ${i} verifies`);
      assert.is(walked.position, i);
      assert.is(walked.depth, tree.depth);
    }
  });
}

test('one leaf: depth 0, the root is the leaf, the proof is the position alone', () => {
  const [leaf] = leavesOf(1);
  const tree = buildTree([leaf!]);
  assert.ok(tree.root.equals(leaf!));
  assert.equal([...proofFor(tree, 0)], [0, 0, 0, 0]);
});

test('a wrong leaf or a wrong position does not verify', () => {
  const leaves = leavesOf(5);
  const tree = buildTree(leaves);
  assert.not.ok(rootFromProof(leaves[1]!, proofFor(tree, 0)).root.equals(tree.root));
  const moved = Buffer.from(proofFor(tree, 2));
  moved.writeUInt32BE(3, 0);
  assert.not.ok(rootFromProof(leaves[2]!, moved).root.equals(tree.root));
});

test('section content: root then big-endian depth, 36 bytes, and back', () => {
  const tree = buildTree(leavesOf(5));
  const s = sectionContent(tree);
  assert.is(s.length, HASH_SIZE + 4);
  assert.ok(s.subarray(0, 32).equals(tree.root));
  assert.equal([...s.subarray(32)], [0, 0, 0, 3]);
  const back = parseSectionContent(s);
  assert.is(back.depth, 3);
  assert.ok(back.root.equals(tree.root));
  assert.throws(() => parseSectionContent(Buffer.alloc(35)));
});

test('INSTALL_MOD_STRIP: 1 is --strip-debug, other values are the options, empty is none', () => {
  assert.equal(stripOptions('1'), ['--strip-debug']);
  assert.equal(stripOptions('--strip-unneeded -R .comment'), ['--strip-unneeded', '-R', '.comment']);
  assert.is(stripOptions(''), undefined);
  assert.is(stripOptions(undefined), undefined);
});

test.run();
