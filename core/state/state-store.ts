// What kpipe remembers between runs, in OBJTREE/.kpipe/, built to survive `kill -9` at any moment.
//
//   .kpipe/state     the compacted snapshot: a header line `kpipe-state 3 <crc32> <bytes>` (padded with
//                    spaces to 8 bytes) and a binary body of typed arrays (core/state/snapshot-codec.ts),
//                    written to a temporary file, fsynced and renamed over the old one. A version 2
//                    snapshot (one JSON body, see SnapshotV2 below) is still read, so an upgrade of
//                    kpipe reruns nothing.
//   .kpipe/journal   append-only, like ninja's .ninja_log: a header line `kpipe-journal 2 <gen>` and
//                    one record per line, `<json>\t<crc32 of json, 8 hex digits>`.
//
// Records (JSON arrays, first element the type):
//   ["f", path, size, mtimeNs, ino, sha256, trusted]   a file's content hash and the stat it had then
//   ["s", id, command, durationMs, [in, hash, ...], [out, hash, ...], fingerprint?]
//                                                      a step ran with these inputs and wrote these
//                                                      outputs; appended only after they were renamed
//                                                      into place
//   ["b", id, tag, [file, ...]]                        a step started; the files are its temporaries
//                                                      and scratch files, removed by the next run if
//                                                      the step never ended
//   ["e", id, tag]                                     that step ended (its "b" is settled)
//
// Why no record can make a stale output look fresh: a step record is a fact about content (these
// input hashes gave these output hashes) and the up-to-date rule checks both sides against the disk.
// A lost record only costs a rerun; an old record only matches if the disk holds exactly what it
// describes. So a torn last line or a corrupted file (checksum or version mismatch) is skipped, never
// trusted, and loading can apply records in any order.
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { FileRecord } from './file-state.js';
import { encodeSnapshot, SnapshotView } from './snapshot-codec.js';

export const STATE_DIR = '.kpipe';
const SNAPSHOT = 'state';
const JOURNAL = 'journal';
/** Format version of the journal; a journal of another version is ignored whole (its steps rerun). */
export const STATE_VERSION = 2;
const VERSION = STATE_VERSION;
/** Format version of the snapshot kpipe writes; it reads this one and version 2. */
export const SNAPSHOT_VERSION = 3;

export interface StepRecord {
  id: string;
  /** Identity of the step's commands (core/state/up-to-date.ts commandIdentity). */
  command: string;
  /** Flat pairs: canonical input path, sha256 of its content when the step ran. */
  inputs: string[];
  /** Flat pairs: canonical output path, sha256 of what the step wrote. */
  outputs: string[];
  durationMs: number;
  /** Per-word hashes of the commands (core/state/command-fingerprint.ts), to say what changed. */
  fingerprint?: string;
}

/** A step that began and never ended: a run was killed while it ran. */
export interface PendingStep {
  id: string;
  tag: string;
  /** Canonical paths of its temporaries and scratch files, to remove. */
  files: string[];
}

/** Body of a version 2 .kpipe/state (JSON), as kpipe wrote it before version 3. */
interface SnapshotV2 {
  version: number;
  gen: number;
  paths: string[];
  hashes: string[];
  /** Flat: pathIndex, size, mtimeNs (decimal), ino (decimal), hashIndex, trusted (0/1). */
  files: (number | string)[];
  /**
   * Flat, one array for all steps (one allocation for JSON.parse instead of 50,000): per step
   * id, command, durationMs, input count, pathIndex, hashIndex per input, output count, pairs again.
   */
  steps: (string | number)[];
  pending: PendingStep[];
  /** By step id: StepRecord.fingerprint (absent in stores written before it existed). */
  fingerprints?: Record<string, string>;
}

export class StateStore {
  readonly dir: string;
  /** Why part of the stored state was ignored (torn line, bad checksum, ...), for `-v` and tests. */
  readonly problems: string[] = [];
  /** What the snapshot held (records built when asked); `steps` and `files` hold what came since, and win. */
  private snapshot: SnapshotView | undefined;
  private readonly steps = new Map<string, StepRecord>();
  private readonly files = new Map<string, FileRecord>();
  private readonly pending = new Map<string, PendingStep>();
  private gen = 0;
  private journalFd: number | undefined;
  private journalLines = 0;
  private journalBytes = 0;
  private snapshotBytes = 0;
  private journalNeedsNewline = false;
  /** True when .kpipe/journal exists with a header we may append to. */
  private journalUsable = false;
  private buffered: string[] = [];

  private constructor(readonly objtree: string) {
    this.dir = path.join(objtree, STATE_DIR);
  }

  /** Loads whatever valid state there is; never throws on damaged state, only on I/O errors. */
  static load(objtree: string): StateStore {
    const store = new StateStore(objtree);
    store.readSnapshot();
    store.readJournal();
    return store;
  }

  step(id: string): StepRecord | undefined {
    return this.steps.get(id) ?? this.snapshot?.step(id);
  }

  file(p: string): FileRecord | undefined {
    return this.files.get(p) ?? this.snapshot?.file(p);
  }

  /** The id of every step with a record, for the outputs of steps the plan no longer has (core/running/dead-outputs.ts). */
  *stepIds(): IterableIterator<string> {
    yield* this.steps.keys();
    if (this.snapshot) for (const id of this.snapshot.stepIds()) if (!this.steps.has(id)) yield id;
  }

  *stepRecords(): IterableIterator<StepRecord> {
    for (const id of this.stepIds()) yield this.step(id)!;
  }

  get stepCount(): number {
    if (!this.snapshot) return this.steps.size;
    let n = this.snapshot.stepCount;
    for (const id of this.steps.keys()) if (!this.snapshot.hasStep(id)) n++;
    return n;
  }

  pendingSteps(): PendingStep[] {
    return [...this.pending.values()];
  }

  /** Remembers a file's hash and stat. Buffered: written with the next step record or at close. */
  recordFile(p: string, rec: FileRecord): void {
    const old = this.file(p);
    if (old && old.hash === rec.hash && old.size === rec.size && old.mtimeNs === rec.mtimeNs && old.ino === rec.ino && old.trusted === rec.trusted) return;
    this.files.set(p, rec);
    this.buffered.push(line(fileRecord(p, rec)));
  }

  /** Written before the step's first command, so a killed run's temporaries can be found later. */
  beginStep(p: PendingStep): void {
    this.pending.set(`${p.id}\0${p.tag}`, p);
    this.append([line(['b', p.id, p.tag, p.files])]);
  }

  endStep(id: string, tag: string): void {
    if (this.pending.delete(`${id}\0${tag}`)) this.append([line(['e', id, tag])]);
  }

  /** Call only once the outputs are in place; `files` are the outputs' fresh file records. */
  recordStep(rec: StepRecord, files: [string, FileRecord][], tag?: string): void {
    for (const [p, f] of files) this.recordFile(p, f);
    this.steps.set(rec.id, rec);
    const lines = [line(['s', rec.id, rec.command, rec.durationMs, rec.inputs, rec.outputs, ...(rec.fingerprint !== undefined ? [rec.fingerprint] : [])])];
    if (tag !== undefined && this.pending.delete(`${rec.id}\0${tag}`)) lines.push(line(['e', rec.id, tag]));
    this.append(lines);
  }

  /** Writes buffered records, then compacts when the journal has grown large against the snapshot. */
  close(): void {
    this.append([]);
    if (this.journalLines > 1000 && this.journalBytes > this.snapshotBytes / 2) this.compact();
    if (this.journalFd !== undefined) fs.closeSync(this.journalFd);
    this.journalFd = undefined;
  }

  /** Rewrites everything known into a new snapshot and starts an empty journal. */
  compact(): void {
    this.append([]);
    const steps = [...this.stepRecords()];
    // Only files some step record mentions are worth remembering.
    const files = new Map<string, FileRecord>();
    const mention = (flat: readonly string[]) => {
      for (let k = 0; k < flat.length; k += 2) {
        const p = flat[k]!;
        if (files.has(p)) continue;
        const f = this.file(p);
        if (f) files.set(p, f);
      }
    };
    for (const r of steps) mention(r.inputs), mention(r.outputs);
    const gen = this.gen + 1;
    const body = encodeSnapshot({ gen, steps, files, pending: [...this.pending.values()] });
    fs.mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(path.join(this.dir, SNAPSHOT), Buffer.concat([snapshotHeader(body), body]), true);
    // A crash here leaves the old journal, whose gen is now older than the snapshot's: it is skipped.
    if (this.journalFd !== undefined) fs.closeSync(this.journalFd);
    this.journalFd = undefined;
    writeFileAtomic(path.join(this.dir, JOURNAL), journalHeader(gen), false);
    this.journalUsable = true;
    this.gen = gen;
    this.snapshotBytes = body.length;
    this.journalLines = 0;
    this.journalBytes = 0;
    this.journalNeedsNewline = false;
  }

  private append(lines: string[]): void {
    const all = this.buffered.length > 0 ? [...this.buffered, ...lines] : lines;
    this.buffered = [];
    if (all.length === 0) return;
    if (this.journalFd === undefined) this.openJournal();
    const text = (this.journalNeedsNewline ? '\n' : '') + all.join('');
    this.journalNeedsNewline = false;
    fs.writeSync(this.journalFd!, text);
    this.journalLines += all.length;
    this.journalBytes += Buffer.byteLength(text);
  }

  private openJournal(): void {
    const file = path.join(this.dir, JOURNAL);
    if (!this.journalUsable) {
      // Missing, damaged header, foreign version or older gen: start a fresh journal for our gen.
      fs.mkdirSync(this.dir, { recursive: true });
      writeFileAtomic(file, journalHeader(this.gen), false);
      this.journalUsable = true;
      this.journalNeedsNewline = false;
    }
    this.journalFd = fs.openSync(file, 'a');
  }

  /** The file's text; undefined when absent (a fresh tree) or unreadable (noted as a problem). */
  private readIfPresent(file: string): string | undefined {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.problems.push(`cannot read ${file}: ${(e as Error).message}`);
      return undefined;
    }
  }

  private readSnapshot(): void {
    const file = path.join(this.dir, SNAPSHOT);
    const data = this.readBytesIfPresent(file);
    if (data === undefined) return;
    const nl = data.indexOf(0x0a);
    const header = /^kpipe-state (\d+) ([0-9a-f]{8}) (\d+) *$/.exec(data.toString('latin1', 0, nl < 0 ? 0 : Math.min(nl, 200)));
    if (nl < 0 || !header) return void this.problems.push(`${file}: not a kpipe state file; ignored`);
    const version = Number(header[1]);
    if (version !== SNAPSHOT_VERSION && version !== 2) return void this.problems.push(`${file}: state version ${header[1]}, this kpipe reads ${SNAPSHOT_VERSION} and 2; ignored`);
    const body = data.subarray(nl + 1);
    if (Number(header[3]) !== body.length || header[2] !== hex(crc32(body))) return void this.problems.push(`${file}: checksum mismatch (truncated or corrupted); ignored`);
    if (version === 2) return this.readSnapshotV2(file, body.toString('utf8'));
    if (body.byteOffset % 8 !== 0) return void this.problems.push(`${file}: header not padded to 8 bytes; ignored`);
    const view = SnapshotView.open(body);
    if ('problem' in view) return void this.problems.push(`${file}: ${view.problem}; ignored`);
    this.snapshot = view;
    for (const p of view.pending) this.pending.set(`${p.id}\0${p.tag}`, p);
    this.gen = view.gen;
    this.snapshotBytes = body.length;
  }

  /** The whole file in a buffer of its own (offset 0 of its memory, so the body's typed arrays align). */
  private readBytesIfPresent(file: string): Buffer | undefined {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.problems.push(`cannot read ${file}: ${(e as Error).message}`);
      return undefined;
    }
    try {
      const size = fs.fstatSync(fd).size;
      const data = Buffer.allocUnsafeSlow(size);
      let got = 0;
      while (got < size) {
        const n = fs.readSync(fd, data, got, size - got, got);
        if (n === 0) break;
        got += n;
      }
      return data.subarray(0, got);
    } catch (e) {
      this.problems.push(`cannot read ${file}: ${(e as Error).message}`);
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
  }

  private readSnapshotV2(file: string, body: string): void {
    let snap: SnapshotV2;
    try {
      snap = JSON.parse(body) as SnapshotV2;
    } catch {
      return void this.problems.push(`${file}: unreadable JSON; ignored`);
    }
    const { paths, hashes } = snap;
    const s = snap.steps;
    const pairs = (at: number): string[] => {
      const count = s[at] as number;
      const out = new Array<string>(2 * count);
      for (let k = 0; k < count; k++) {
        out[2 * k] = paths[s[at + 1 + 2 * k] as number]!;
        out[2 * k + 1] = hashes[s[at + 2 + 2 * k] as number]!;
      }
      return out;
    };
    for (let at = 0; at < s.length; ) {
      const id = s[at] as string;
      const command = s[at + 1] as string;
      const durationMs = s[at + 2] as number;
      at += 3;
      const inputs = pairs(at);
      at += 1 + inputs.length;
      const outputs = pairs(at);
      at += 1 + outputs.length;
      const fingerprint = snap.fingerprints?.[id];
      this.steps.set(id, { id, command, durationMs, inputs, outputs, ...(fingerprint !== undefined ? { fingerprint } : {}) });
    }
    const f = snap.files;
    for (let k = 0; k < f.length; k += 6) {
      this.files.set(paths[f[k] as number]!, {
        size: f[k + 1] as number,
        mtimeNs: BigInt(f[k + 2] as string),
        ino: BigInt(f[k + 3] as string),
        hash: hashes[f[k + 4] as number]!,
        trusted: f[k + 5] === 1,
      });
    }
    for (const p of snap.pending) this.pending.set(`${p.id}\0${p.tag}`, p);
    this.gen = snap.gen;
    this.snapshotBytes = Buffer.byteLength(body);
  }

  private readJournal(): void {
    const file = path.join(this.dir, JOURNAL);
    const text = this.readIfPresent(file);
    if (text === undefined) return;
    const lines = text.split('\n');
    const header = /^kpipe-journal (\d+) (\d+)$/.exec(lines[0] ?? '');
    if (!header || Number(header[1]) !== VERSION) return void this.problems.push(`${file}: not a kpipe ${VERSION} journal; ignored`);
    if (Number(header[2]) !== this.gen) {
      // Older: its records are already in the snapshot. Newer: the snapshot it followed was lost.
      // Either way its records are still true facts, but an older one is redundant.
      if (Number(header[2]) < this.gen) return;
      this.problems.push(`${file}: journal follows a lost snapshot; its records are used on their own`);
      this.gen = Number(header[2]);
    }
    this.journalUsable = true;
    this.journalBytes = Buffer.byteLength(text);
    const last = lines.length - 1;
    // A file ending without a newline was cut in the middle of a record: the last piece is torn.
    this.journalNeedsNewline = lines[last] !== '';
    for (let k = 1; k < lines.length; k++) {
      const raw = lines[k]!;
      if (raw === '') continue;
      const tab = raw.lastIndexOf('\t');
      const json = raw.slice(0, tab);
      if (tab < 0 || raw.slice(tab + 1) !== hex(crc32(json))) {
        this.problems.push(k === last ? `${file}: torn last record ignored` : `${file}:${k + 1}: corrupted record ignored`);
        continue;
      }
      try {
        this.apply(JSON.parse(json) as unknown[]);
        this.journalLines++;
      } catch {
        this.problems.push(`${file}:${k + 1}: unreadable record ignored`);
      }
    }
  }

  private apply(r: unknown[]): void {
    switch (r[0]) {
      case 'f':
        this.files.set(r[1] as string, {
          size: r[2] as number,
          mtimeNs: BigInt(r[3] as string),
          ino: BigInt(r[4] as string),
          hash: r[5] as string,
          trusted: r[6] === 1,
        });
        break;
      case 's':
        this.steps.set(r[1] as string, {
          id: r[1] as string,
          command: r[2] as string,
          durationMs: r[3] as number,
          inputs: r[4] as string[],
          outputs: r[5] as string[],
          ...(typeof r[6] === 'string' ? { fingerprint: r[6] } : {}),
        });
        break;
      case 'b':
        this.pending.set(`${r[1]}\0${r[2]}`, { id: r[1] as string, tag: r[2] as string, files: r[3] as string[] });
        break;
      case 'e':
        this.pending.delete(`${r[1]}\0${r[2]}`);
        break;
      default:
        throw new Error('unknown record');
    }
  }
}

function fileRecord(p: string, f: FileRecord): unknown[] {
  return ['f', p, f.size, String(f.mtimeNs), String(f.ino), f.hash, f.trusted ? 1 : 0];
}

function line(record: unknown[]): string {
  const json = JSON.stringify(record);
  return `${json}\t${hex(crc32(json))}\n`;
}

function journalHeader(gen: number): string {
  return `kpipe-journal ${VERSION} ${gen}\n`;
}

/** `kpipe-state 3 <crc32> <bytes>`, padded with spaces so that the body starts at a multiple of 8 bytes. */
function snapshotHeader(body: Buffer): Buffer {
  const line = `kpipe-state ${SNAPSHOT_VERSION} ${hex(crc32(body))} ${body.length}`;
  return Buffer.from(`${line.padEnd(Math.ceil((line.length + 1) / 8) * 8 - 1)}\n`, 'latin1');
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Temporary file in the same directory, then rename: readers see the old or the new file, whole. */
export function writeFileAtomic(file: string, data: string | Uint8Array, durable: boolean): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    try {
      if (typeof data === 'string') fs.writeSync(fd, data);
      else fs.writeSync(fd, data);
      if (durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    // A full disk: leave no half-written temporary behind.
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
