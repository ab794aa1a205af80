// The binary snapshot of .kpipe/state (core/state/snapshot-codec.ts): every fact survives compaction
// exactly, an older kpipe's JSON snapshot is still read, and a body that does not hold together (or
// was written in the other byte order) is ignored with a reason, never misread.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { SNAPSHOT_VERSION, StateStore } from '../../core/state/state-store.js';
import type { StepRecord } from '../../core/state/state-store.js';
import type { FileRecord } from '../../core/state/file-state.js';
import { chain, makeTree, type Tree, makeChainTree } from './fixture.js';

let t: Tree;
test.before.each(() => {
  t = makeChainTree();
});
test.after.each(() => t.remove());

const snapshotFile = (tr: Tree) => path.join(tr.dir, '.kpipe', 'state');
const hex = (c: string) => c.repeat(64);
const steps: StepRecord[] = [
  { id: 'link', command: hex('a'), inputs: ['vmlinux.o', hex('b'), 'not-a-sha', 'h1'], outputs: ['vmlinux', hex('c')], durationMs: 1234.5, fingerprint: 'c exec\na 0000abcd' },
  // Not ASCII, and not even latin1: the text table must switch encoding, not garble the names after it.
  { id: 'modules:drivers/naïve/çà.ko', command: hex('d'), inputs: [], outputs: ['drivers/naïve/çà.ko', hex('e'), 'drivers/日本/x.ko', hex('f')], durationMs: 0 },
  { id: 'empty', command: 'not hex either', inputs: [], outputs: [], durationMs: 7 },
];
const files: [string, FileRecord][] = [
  ['vmlinux', { size: 123456789, mtimeNs: 1764000000123456789n, ino: 2n ** 64n - 5n, hash: hex('c'), trusted: true }],
  ['drivers/日本/x.ko', { size: 0, mtimeNs: -5n, ino: 1n, hash: hex('f'), trusted: false }],
  ['not-a-sha', { size: 3, mtimeNs: 1n, ino: 9n, hash: 'h1', trusted: true }],
];

function compacted(): StateStore {
  const s = StateStore.load(t.dir);
  for (const r of steps) s.recordStep(r, []);
  for (const [p, f] of files) s.recordFile(p, f);
  s.recordFile('mentioned-by-no-step', files[0]![1]);
  s.beginStep({ id: 'link', tag: 'run1', files: ['vmlinux.tmp-run1'] });
  s.compact();
  s.close();
  return StateStore.load(t.dir);
}

/** Rewrites the snapshot's body with `edit` and gives it a header that matches, as a writer would. */
function rewriteBody(edit: (body: Buffer, meta: Record<string, unknown>) => void): void {
  const data = fs.readFileSync(snapshotFile(t));
  const body = Buffer.from(data.subarray(data.indexOf(0x0a) + 1));
  edit(body, JSON.parse(body.toString('utf8', 0, body.indexOf(0x0a))) as Record<string, unknown>);
  const line = `kpipe-state ${SNAPSHOT_VERSION} ${crc32(body).toString(16).padStart(8, '0')} ${body.length}`;
  fs.writeFileSync(snapshotFile(t), Buffer.concat([Buffer.from(`${line.padEnd(Math.ceil((line.length + 1) / 8) * 8 - 1)}\n`), body]));
}

test('every record survives compaction exactly: hashes, names in any script, 64-bit inodes, durations, pending steps', () => {
  const loaded = compacted();
  assert.equal(loaded.problems, []);
  assert.ok(fs.readFileSync(snapshotFile(t), 'latin1').startsWith(`kpipe-state ${SNAPSHOT_VERSION} `));
  for (const r of steps) assert.equal(loaded.step(r.id), r);
  for (const [p, f] of files) assert.equal(loaded.file(p), f, p);
  assert.is(loaded.file('mentioned-by-no-step'), undefined, 'only files a step record names are kept');
  assert.is(loaded.stepCount, 3);
  assert.equal([...loaded.stepIds()].sort(), steps.map((r) => r.id).sort());
  assert.equal(loaded.pendingSteps(), [{ id: 'link', tag: 'run1', files: ['vmlinux.tmp-run1'] }]);
  // What the run says after the load wins over the snapshot, and is counted once.
  const newer = { ...steps[0]!, command: hex('9') };
  loaded.recordStep(newer, [['vmlinux', { ...files[0]![1], hash: hex('8') }]]);
  loaded.recordStep({ ...steps[2]!, id: 'new' }, []);
  assert.equal(loaded.step('link'), newer);
  assert.is(loaded.file('vmlinux')!.hash, hex('8'));
  assert.is(loaded.stepCount, 4);
  loaded.compact();
  loaded.close();
  const again = StateStore.load(t.dir);
  assert.equal(again.step('link'), newer);
  assert.is(again.file('vmlinux')!.hash, hex('8'));
  assert.is(again.stepCount, 4);
});

test('a version 2 snapshot (JSON, an older kpipe) is read, so an upgrade reruns nothing; the next compaction writes version 3', async () => {
  await t.run(chain(t));
  const v3 = StateStore.load(t.dir);
  const ids = [...v3.stepIds()];
  assert.is(ids.length, 2);
  // The same facts as kpipe 0.1 wrote them (state-store.ts before the binary snapshot).
  const paths: string[] = [];
  const hashes: string[] = [];
  const at = (table: string[], s: string) => (table.includes(s) ? table.indexOf(s) : table.push(s) - 1);
  const flat: (string | number)[] = [];
  const fingerprints: Record<string, string> = {};
  for (const id of ids) {
    const r = v3.step(id)!;
    flat.push(r.id, r.command, r.durationMs);
    for (const side of [r.inputs, r.outputs]) {
      flat.push(side.length / 2);
      for (let k = 0; k < side.length; k += 2) flat.push(at(paths, side[k]!), at(hashes, side[k + 1]!));
    }
    if (r.fingerprint !== undefined) fingerprints[r.id] = r.fingerprint;
  }
  const fileTable: (number | string)[] = [];
  for (const p of [...paths]) {
    const f = v3.file(p);
    if (f) fileTable.push(paths.indexOf(p), f.size, String(f.mtimeNs), String(f.ino), at(hashes, f.hash), f.trusted ? 1 : 0);
  }
  const body = JSON.stringify({ version: 2, gen: 7, paths, hashes, files: fileTable, steps: flat, pending: [], fingerprints });
  fs.writeFileSync(snapshotFile(t), `kpipe-state 2 ${crc32(body).toString(16).padStart(8, '0')} ${Buffer.byteLength(body)}\n${body}`);
  fs.writeFileSync(path.join(t.dir, '.kpipe', 'journal'), 'kpipe-journal 2 7\n');
  const v2 = StateStore.load(t.dir);
  assert.equal(v2.problems, []);
  for (const id of ids) assert.equal(v2.step(id), v3.step(id));
  t.resetRuns();
  await t.run(chain(t));
  assert.equal(
    t.lastRun().steps.map((x) => x.outcome),
    ['up-to-date', 'up-to-date'],
  );
  const s = StateStore.load(t.dir);
  s.compact();
  s.close();
  assert.ok(fs.readFileSync(snapshotFile(t), 'latin1').startsWith(`kpipe-state ${SNAPSHOT_VERSION} `));
  for (const id of ids) assert.equal(StateStore.load(t.dir).step(id), v3.step(id));
});

test('a snapshot written in the other byte order is ignored, not misread', () => {
  compacted();
  rewriteBody((body) => {
    const at = body.indexOf('"endian":"');
    body.write(body.toString('latin1', at + 10, at + 12) === 'LE' ? 'BE' : 'LE', at + 10, 'latin1');
  });
  const loaded = StateStore.load(t.dir);
  assert.match(loaded.problems.join('\n'), /endian machine; ignored/);
  assert.is(loaded.stepCount, 0);
  assert.is(loaded.file('vmlinux'), undefined);
});

test('a body whose checksum matches but whose tables do not hold together is ignored whole, without a crash', () => {
  for (const damage of [
    // A step naming a string that is not there.
    (body: Buffer, meta: Record<string, unknown>) => body.writeInt32LE(1 << 30, (meta.steps as number[])[0]!),
    // A table said to run past the end of the file.
    (body: Buffer, meta: Record<string, unknown>) => {
      const longer = `${JSON.stringify({ ...meta, fileInos: [(meta.fileInos as number[])[0], 1e6] })}\n`;
      assert.ok(longer.length <= (meta.offsets as number[])[0]!, 'fits before the first table');
      body.write(longer, 0, 'utf8');
    },
  ]) {
    compacted();
    rewriteBody(damage);
    const loaded = StateStore.load(t.dir);
    assert.match(loaded.problems.join('\n'), /out of bounds; ignored/);
    assert.is(loaded.stepCount, 0);
    assert.is(loaded.step('link'), undefined);
    t.remove();
    t = makeTree();
  }
});

test.run();
