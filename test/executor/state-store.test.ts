// .kpipe/ survives damage: a torn last line, a corrupted record or snapshot, a foreign version are
// ignored, never trusted; compaction keeps what the journal said; scale.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { STATE_VERSION, StateStore } from '../../core/state/state-store.js';
import { chain, type Tree, makeChainTree } from './fixture.js';

let t: Tree;
test.before.each(() => {
  t = makeChainTree();
});
test.after.each(() => t.remove());

const journal = (tr: Tree) => path.join(tr.dir, '.kpipe', 'journal');
const rec = (id: string) => ({ id, command: 'c', inputs: ['in', 'h1'], outputs: [`${id}.out`, 'h2'], durationMs: 5 });
const file = { size: 3, mtimeNs: 123456789012345678n, ino: 42n, hash: 'h2', trusted: true };

test('records survive a reload', () => {
  const s = StateStore.load(t.dir);
  s.recordStep(rec('x'), [['x.out', file]]);
  s.close();
  const again = StateStore.load(t.dir);
  assert.equal(again.step('x'), rec('x'));
  assert.equal(again.file('x.out'), file);
  assert.equal(again.problems, []);
});

test('a step record keeps its command fingerprint, in the journal and through compaction', () => {
  const s = StateStore.load(t.dir);
  s.recordStep({ ...rec('x'), fingerprint: 'c exec\na 0000abcd' }, []);
  s.recordStep(rec('y'), []);
  s.close();
  assert.is(StateStore.load(t.dir).step('x')?.fingerprint, 'c exec\na 0000abcd');
  const c = StateStore.load(t.dir);
  c.compact();
  c.close();
  const again = StateStore.load(t.dir);
  assert.equal(again.step('x'), { ...rec('x'), fingerprint: 'c exec\na 0000abcd' });
  assert.equal(again.step('y'), rec('y'), 'a record without one stays without one');
});

test('a torn last line (kill -9 mid-write) is ignored, and appending goes on cleanly', () => {
  const s = StateStore.load(t.dir);
  s.recordStep(rec('x'), []);
  s.recordStep(rec('y'), []);
  s.close();
  const text = fs.readFileSync(journal(t), 'utf8');
  fs.writeFileSync(journal(t), text.slice(0, text.length - 10)); // cut inside y's record
  const torn = StateStore.load(t.dir);
  assert.ok(torn.step('x'));
  assert.is(torn.step('y'), undefined, 'never trusted');
  assert.match(torn.problems.join('\n'), /torn last record ignored/);
  torn.recordStep(rec('z'), []);
  torn.close();
  const after = StateStore.load(t.dir);
  assert.ok(after.step('x'));
  assert.ok(after.step('z'));
  assert.is(after.step('y'), undefined);
});

test('a record whose checksum does not match is skipped', () => {
  const s = StateStore.load(t.dir);
  s.recordStep(rec('x'), []);
  s.recordStep(rec('y'), []);
  s.close();
  fs.writeFileSync(journal(t), fs.readFileSync(journal(t), 'utf8').replace('"x.out","h2"', '"x.out","h3"'));
  const loaded = StateStore.load(t.dir);
  assert.is(loaded.step('x'), undefined);
  assert.ok(loaded.step('y'));
  assert.match(loaded.problems.join('\n'), /corrupted record ignored/);
});

test('compaction keeps everything, and a corrupted snapshot is ignored whole', () => {
  const s = StateStore.load(t.dir);
  for (let i = 0; i < 50; i++) s.recordStep(rec(`s${i}`), [[`s${i}.out`, file]]);
  s.compact();
  s.recordStep(rec('late'), []);
  s.close();
  const loaded = StateStore.load(t.dir);
  assert.is(loaded.stepCount, 51);
  assert.equal(loaded.file('s7.out'), file);
  assert.equal(loaded.problems, []);
  const snap = path.join(t.dir, '.kpipe', 'state');
  const bytes = fs.readFileSync(snap);
  bytes[bytes.length - 20] ^= 0x01;
  fs.writeFileSync(snap, bytes);
  const damaged = StateStore.load(t.dir);
  assert.match(damaged.problems.join('\n'), /checksum mismatch/);
  assert.is(damaged.step('s7'), undefined);
  assert.ok(damaged.step('late'), 'the journal after it still counts: its records stand on their own');
});

test('a journal older than the snapshot (crash between the two renames of compaction) is skipped', () => {
  const s = StateStore.load(t.dir);
  s.recordStep(rec('x'), []);
  s.close();
  const old = fs.readFileSync(journal(t), 'utf8');
  const s2 = StateStore.load(t.dir);
  s2.compact();
  s2.close();
  fs.writeFileSync(journal(t), old); // as if the new journal never got renamed in
  const loaded = StateStore.load(t.dir);
  assert.ok(loaded.step('x'));
  assert.equal(loaded.problems, []);
  loaded.recordStep(rec('y'), []);
  loaded.close();
  assert.ok(StateStore.load(t.dir).step('y'), 'a fresh journal replaced the stale one');
});

test('a state file from another version is ignored, and the run rebuilds', async () => {
  await t.run(chain(t));
  const s = StateStore.load(t.dir);
  s.compact();
  s.close();
  const snap = path.join(t.dir, '.kpipe', 'state');
  fs.writeFileSync(snap, fs.readFileSync(snap, 'utf8').replace(/^kpipe-state \d+/, 'kpipe-state 999'));
  fs.writeFileSync(journal(t), 'garbage\n');
  t.resetRuns();
  const r = await t.run(chain(t));
  assert.is(r.status, 'ok');
  assert.equal(t.lastRun().steps.map((x) => x.reason?.kind), ['new', 'new']);
  assert.equal(t.lastRun().steps.map((x) => x.outcome), ['built', 'built']);
});

test('a garbage journal in any place is not trusted', () => {
  fs.mkdirSync(path.join(t.dir, '.kpipe'));
  fs.writeFileSync(journal(t), `kpipe-journal ${STATE_VERSION} 0\n["s","x","c",1,[],[]]\tdeadbeef\n\0\0\0\0\n`);
  const loaded = StateStore.load(t.dir);
  assert.is(loaded.step('x'), undefined);
  assert.is(loaded.problems.length, 2);
});

test('11,000 step records: compacted, loaded back whole', () => {
  const s = StateStore.load(t.dir);
  for (let i = 0; i < 11000; i++) {
    s.recordStep(
      { id: `ko${i}`, command: 'c'.repeat(64), inputs: [`m${i}.o`, 'a'.repeat(64), '.tmp_vmlinux1.btf.o', 'b'.repeat(64)], outputs: [`m${i}.ko`, `${i}`.padStart(64, '0')], durationMs: i },
      [[`m${i}.ko`, { ...file, hash: `${i}`.padStart(64, '0') }]],
    );
  }
  s.close(); // large journal: compacts
  assert.ok(fs.statSync(journal(t)).size < 100, 'journal emptied by compaction');
  const loaded = StateStore.load(t.dir);
  assert.is(loaded.stepCount, 11000);
  assert.equal(loaded.step('ko10999')!.inputs[3], 'b'.repeat(64));
  assert.equal(loaded.file('m5.ko')!.hash, '5'.padStart(64, '0'));
});

test.run();
