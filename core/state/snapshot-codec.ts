// The body of .kpipe/state (version 3): what a run loads before it can decide anything, laid out so
// that loading is a few reads of typed arrays instead of a JSON parse.
//
// The 5,500-module no-op spent ~150-230 ms loading the JSON snapshot of version 2 (5.5 MB: parse, then
// 33,000 records built from the parsed arrays, 44,000 BigInts from decimal strings), the largest part
// of its runSteps. Version 3 keeps the same facts:
//
//   meta      JSON: gen, the pending steps (few), and where each section below starts
//   strings   every distinct path, step id, command identity, hash and fingerprint once:
//               `text`: one latin1 (or, if any string needs it, UTF-16) run of all the texts, with
//               `offsets` (Int32, in UTF-16 units, one more than the texts) to cut it; `hex`: the 64-digit hashes and
//               identities as 32 raw bytes each (half the size, one hex decode for all)
//             a string is named by a ref: >= 0 an entry of `text`, < 0 entry -1-ref of `hex`
//   steps     Int32 per step: id, command, fingerprint (or NONE), input count, (path, hash) pairs,
//             output count, pairs; durations (Float64) beside it
//   files     Int32 per file: path, hash, trusted; sizes (Float64); mtimeNs (BigInt64); ino (BigUint64)
//
// Typed arrays are read in the machine's byte order, which `meta.endian` names: a snapshot written on
// a machine of the other order is not read (everything reruns), never misread. The header line of the
// file and its checksum (core/state/state-store.ts) say whether the body is whole; this module trusts a
// body whose checksum matched, but still checks every bound, so a bug in a writer is a problem, not a
// crash.
import os from 'node:os';
import type { FileRecord } from './file-state.js';
import type { PendingStep, StepRecord } from './state-store.js';

const NONE = 0x7fffffff;
const HEX64 = /^[0-9a-f]{64}$/;
/** Sections start at multiples of 8 bytes, so every typed array can view the body in place. */
const ALIGN = 8;

interface Meta {
  gen: number;
  endian: 'LE' | 'BE';
  pending: PendingStep[];
  textEncoding: 'latin1' | 'utf16le';
  /** Byte offsets (from the body's start) and element counts of the sections. */
  offsets: Section;
  text: Section;
  hex: Section;
  steps: Section;
  durations: Section;
  fileInts: Section;
  fileSizes: Section;
  fileMtimes: Section;
  fileInos: Section;
}
type Section = [offset: number, count: number];

export interface SnapshotContent {
  gen: number;
  steps: Iterable<StepRecord>;
  /** Only the files worth keeping (those some step record names). */
  files: Iterable<[string, FileRecord]>;
  pending: PendingStep[];
}

export function encodeSnapshot(content: SnapshotContent): Buffer {
  const texts: string[] = [];
  const hexes: string[] = [];
  const refs = new Map<string, number>();
  const ref = (s: string): number => {
    let r = refs.get(s);
    if (r === undefined) {
      r = HEX64.test(s) ? -hexes.push(s) : texts.push(s) - 1;
      refs.set(s, r);
    }
    return r;
  };
  const steps: number[] = [];
  const durations: number[] = [];
  const pairs = (flat: readonly string[]) => {
    steps.push(flat.length / 2);
    for (let k = 0; k < flat.length; k += 2) steps.push(ref(flat[k]!), ref(flat[k + 1]!));
  };
  for (const r of content.steps) {
    steps.push(ref(r.id), ref(r.command), r.fingerprint === undefined ? NONE : ref(r.fingerprint));
    pairs(r.inputs);
    pairs(r.outputs);
    durations.push(r.durationMs);
  }
  const fileInts: number[] = [];
  const fileSizes: number[] = [];
  const fileMtimes: bigint[] = [];
  const fileInos: bigint[] = [];
  for (const [p, f] of content.files) {
    fileInts.push(ref(p), ref(f.hash), f.trusted ? 1 : 0);
    fileSizes.push(f.size);
    fileMtimes.push(f.mtimeNs);
    fileInos.push(f.ino);
  }
  const all = texts.join('');
  const textEncoding = /[^\x00-\xff]/.test(all) ? 'utf16le' : 'latin1';
  const parts: [keyof Meta, Uint8Array][] = [
    ['offsets', bytes(textOffsets(texts))],
    ['text', Buffer.from(all, textEncoding)],
    ['hex', Buffer.from(hexes.join(''), 'hex')],
    ['steps', bytes(Int32Array.from(steps))],
    ['durations', bytes(Float64Array.from(durations))],
    ['fileInts', bytes(Int32Array.from(fileInts))],
    ['fileSizes', bytes(Float64Array.from(fileSizes))],
    ['fileMtimes', bytes(BigInt64Array.from(fileMtimes))],
    ['fileInos', bytes(BigUint64Array.from(fileInos))],
  ];
  const counts: Record<string, number> = {
    offsets: texts.length + 1,
    text: all.length,
    hex: hexes.length,
    steps: steps.length,
    durations: durations.length,
    fileInts: fileInts.length,
    fileSizes: fileSizes.length,
    fileMtimes: fileMtimes.length,
    fileInos: fileInos.length,
  };
  // The meta's own length moves every offset, so lay the sections out after a meta of fixed size.
  const base = { gen: content.gen, endian: ENDIAN, pending: content.pending, textEncoding };
  let metaBytes = align(Buffer.byteLength(JSON.stringify(base)) + 64 * parts.length + 16);
  for (;;) {
    const meta: Record<string, unknown> = { ...base };
    let at = metaBytes;
    for (const [name, b] of parts) {
      meta[name] = [at, counts[name]!];
      at = align(at + b.length);
    }
    const json = Buffer.from(JSON.stringify(meta));
    if (json.length + 1 > metaBytes) {
      metaBytes = align(json.length + 1);
      continue;
    }
    const body = Buffer.alloc(at);
    json.copy(body, 0);
    body[json.length] = 0x0a;
    for (const [name, b] of parts) body.set(b, (meta[name] as Section)[0]);
    return body;
  }
}

/**
 * A snapshot as loaded: its tables stay typed arrays over the file's bytes, and a record is built
 * when asked for, each time (the store keeps what it is told later, not what it read). Loading
 * builds only the two indexes, step id and path to a slot: the 5,500-module no-op asks every record
 * once, and records made and dropped as they are asked cost the garbage collector far less than
 * 33,000 built up front that all survive (measured: a load of ~110 ms that way against ~50 ms).
 */
export class SnapshotView {
  private constructor(
    readonly gen: number,
    readonly pending: readonly PendingStep[],
    private readonly text: string,
    private readonly offsets: Int32Array,
    private readonly hexText: string,
    private readonly steps: Int32Array,
    private readonly durations: Float64Array,
    /** Step id -> its number n; its record starts at stepStarts[n] in `steps`, its duration is durations[n]. */
    private readonly stepNumbers: Map<string, number>,
    private readonly stepStarts: Int32Array,
    private readonly fileInts: Int32Array,
    private readonly sizes: Float64Array,
    private readonly mtimes: BigInt64Array,
    private readonly inos: BigUint64Array,
    private readonly fileSlots: Map<string, number>,
  ) {}

  /**
   * Reads a body `encodeSnapshot` wrote, or says why it cannot (a body of another byte order, or one
   * that does not hold together). `body` must start at an 8-byte boundary of its ArrayBuffer.
   */
  static open(body: Buffer): SnapshotView | { problem: string } {
    if (body.byteOffset % ALIGN !== 0) throw new Error('SnapshotView.open: body is not 8-byte aligned');
    const nl = body.indexOf(0x0a);
    let meta: Meta;
    try {
      meta = JSON.parse(body.toString('utf8', 0, nl < 0 ? 0 : nl)) as Meta;
    } catch {
      return { problem: 'unreadable header' };
    }
    if (meta.endian !== ENDIAN) return { problem: `written on a ${meta.endian === 'BE' ? 'big' : 'little'}-endian machine` };
    const inBounds = ([offset, count]: Section, size: number) => offset % ALIGN === 0 && offset >= 0 && count >= 0 && offset + count * size <= body.length;
    const sized: [Section, number][] = [
      [meta.offsets, 4],
      [meta.text, meta.textEncoding === 'utf16le' ? 2 : 1],
      [meta.hex, 32],
      [meta.steps, 4],
      [meta.durations, 8],
      [meta.fileInts, 4],
      [meta.fileSizes, 8],
      [meta.fileMtimes, 8],
      [meta.fileInos, 8],
    ];
    if (!sized.every(([section, size]) => Array.isArray(section) && inBounds(section, size))) return { problem: 'a table out of bounds' };
    const at = (section: Section) => body.byteOffset + section[0];
    const offsets = new Int32Array(body.buffer, at(meta.offsets), meta.offsets[1]);
    const [textAt, textCount] = meta.text;
    const text = body.toString(meta.textEncoding === 'utf16le' ? 'utf16le' : 'latin1', textAt, textAt + textCount * (meta.textEncoding === 'utf16le' ? 2 : 1));
    const hexText = body.toString('hex', meta.hex[0], meta.hex[0] + 32 * meta.hex[1]);
    const steps = new Int32Array(body.buffer, at(meta.steps), meta.steps[1]);
    const durations = new Float64Array(body.buffer, at(meta.durations), meta.durations[1]);
    const fileInts = new Int32Array(body.buffer, at(meta.fileInts), meta.fileInts[1]);
    const sizes = new Float64Array(body.buffer, at(meta.fileSizes), meta.fileSizes[1]);
    const mtimes = new BigInt64Array(body.buffer, at(meta.fileMtimes), meta.fileMtimes[1]);
    const inos = new BigUint64Array(body.buffer, at(meta.fileInos), meta.fileInos[1]);
    const texts = offsets.length - 1;
    if (texts < 0 || offsets[texts] !== text.length) return { problem: 'string table does not match its text' };
    for (let i = 0; i < texts; i++) if (!(offsets[i]! <= offsets[i + 1]!)) return { problem: 'string table out of order' };
    if (fileInts.length !== 3 * sizes.length || mtimes.length !== sizes.length || inos.length !== sizes.length) return { problem: 'file tables disagree' };
    const refOk = (r: number) => (r >= 0 ? r < texts : -1 - r < meta.hex[1]);
    // Every ref is checked here once, so that building a record later cannot fail.
    const stepNumbers = new Map<string, number>();
    const stepStarts = new Int32Array(durations.length);
    const view = new SnapshotView(meta.gen, meta.pending, text, offsets, hexText, steps, durations, stepNumbers, stepStarts, fileInts, sizes, mtimes, inos, new Map());
    let n = 0;
    for (let p = 0; p < steps.length; n++) {
      if (p + 5 > steps.length || n >= durations.length || !refOk(steps[p]!) || !refOk(steps[p + 1]!) || !(steps[p + 2] === NONE || refOk(steps[p + 2]!))) return { problem: 'a step record out of bounds' };
      stepStarts[n] = p;
      const id = steps[p]!;
      p += 3;
      for (let side = 0; side < 2; side++) {
        const count = steps[p]!;
        if (!(count >= 0 && p + 1 + 2 * count <= steps.length)) return { problem: 'a step record out of bounds' };
        for (let k = 1; k <= 2 * count; k++) if (!refOk(steps[p + k]!)) return { problem: 'a step record out of bounds' };
        p += 1 + 2 * count;
      }
      stepNumbers.set(view.str(id), n);
    }
    if (n !== durations.length) return { problem: 'durations do not match the steps' };
    for (let k = 0; k < sizes.length; k++) {
      if (!refOk(fileInts[3 * k]!) || !refOk(fileInts[3 * k + 1]!)) return { problem: 'a file record out of bounds' };
      view.fileSlots.set(view.str(fileInts[3 * k]!), k);
    }
    return view;
  }

  get stepCount(): number {
    return this.stepNumbers.size;
  }

  stepIds(): IterableIterator<string> {
    return this.stepNumbers.keys();
  }

  hasStep(id: string): boolean {
    return this.stepNumbers.has(id);
  }

  hasFile(p: string): boolean {
    return this.fileSlots.has(p);
  }

  step(id: string): StepRecord | undefined {
    const n = this.stepNumbers.get(id);
    if (n === undefined) return undefined;
    const s = this.steps;
    const slot = this.stepStarts[n]!;
    const command = this.str(s[slot + 1]!);
    const fp = s[slot + 2]!;
    const inputs = this.pairs(slot + 3);
    const outputs = this.pairs(slot + 4 + inputs.length);
    const durationMs = this.durations[n]!;
    return fp === NONE ? { id, command, durationMs, inputs, outputs } : { id, command, durationMs, inputs, outputs, fingerprint: this.str(fp) };
  }

  file(p: string): FileRecord | undefined {
    const k = this.fileSlots.get(p);
    if (k === undefined) return undefined;
    const fi = this.fileInts;
    return { size: this.sizes[k]!, mtimeNs: this.mtimes[k]!, ino: this.inos[k]!, hash: this.str(fi[3 * k + 1]!), trusted: fi[3 * k + 2] === 1 };
  }

  private str(r: number): string {
    if (r < 0) return this.hexText.substring(-64 * (r + 1), -64 * r);
    return this.text.substring(this.offsets[r]!, this.offsets[r + 1]!);
  }

  private pairs(at: number): string[] {
    const count = this.steps[at]!;
    const out = new Array<string>(2 * count);
    for (let k = 0; k < 2 * count; k++) out[k] = this.str(this.steps[at + 1 + k]!);
    return out;
  }
}

const ENDIAN: 'LE' | 'BE' = os.endianness();

function textOffsets(texts: readonly string[]): Int32Array {
  const out = new Int32Array(texts.length + 1);
  for (let i = 0; i < texts.length; i++) out[i + 1] = out[i]! + texts[i]!.length;
  return out;
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function bytes(a: Int32Array | Float64Array | BigInt64Array | BigUint64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
