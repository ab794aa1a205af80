// The verdict of the last no-op `kpipe run`, kept so that the next one gives it again without deciding
// each step when nothing the verdict was made from has changed: ninja's no-op (stat every file, compare
// with the log), on top of kpipe's up-to-date rule instead of in place of it.
//
// A run in which every step was up to date read, and nothing else (core/state/up-to-date.ts):
//   - the plan: each step's id, its commands' identity (with the run's environment and source tree),
//     its inputs and outputs, in order: one sha256, the plan digest (with RULE_VERSION and the state's
//     format versions, so another kpipe's verdict never stands);
//   - kpipe's records, .kpipe/state and .kpipe/journal: their stat (size, mtime, inode). Both change on
//     any write, atomic renames included, and a killed run leaves its "began" records in the journal;
//   - the stat of every file of the plan, in the stat batch's records (core/state/stat-prefetch.ts).
// The same plan, the same records and the same stats give the same decisions, so the same verdict:
// every step up to date. Any difference, and the run decides every step as always. The verdict also
// keeps the "steps" of that run's last-run.json, which a run that stands on it writes again as they were.
//
// A verdict is kept only when every file's mtime lies RACY_WINDOW_NS before the moment its stat was
// taken ("racy git", as for the file records of core/state/file-state.ts): a write in the same
// timestamp tick, right after the stat, could otherwise change a file without changing its stat.
// Only plans whose answer comes from these alone have a verdict: a step delegated to kbuild, or whose
// commands keep kbuild's records, also depends on make's view of the tree (core/state/kbuild-inputs.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { Step } from '../planning/step.js';
import { kbuildWrittenOutputs } from '../planning/step.js';
import { RACY_WINDOW_NS } from './file-state.js';
import { RECORD_BYTES, statRecords } from './stat-prefetch.js';
import { SNAPSHOT_VERSION, STATE_DIR, STATE_VERSION, writeFileAtomic } from './state-store.js';
import { identityText, RULE_VERSION, sha256 } from './up-to-date.js';

const FILE = 'noop-verdict';
const MAGIC = 'kpipe-noop-verdict';
const FORMAT = 1;
/** The stats of .kpipe/state and .kpipe/journal come first in the kept records. */
const STAMP_BYTES = 2 * RECORD_BYTES;

/** True when the rule's answer for these steps depends on nothing but the plan, kpipe's records and the stats. */
export function verdictCanStand(steps: readonly Step[]): boolean {
  return steps.every((s) => !s.delegated && s.kbuildInputs === undefined && !s.replan && kbuildWrittenOutputs(s).length === 0);
}

export class NoopVerdict {
  private digestMemo: string | undefined;
  private readonly kept: Kept | undefined;

  /**
   * @param context the run's part of every identity (up-to-date.ts runContext)
   * @param stateDir where .kpipe/ is
   */
  constructor(
    private readonly steps: readonly Step[],
    private readonly context: { env: string; srctree: string },
    private readonly objtree: string,
    private readonly stateDir: string,
  ) {
    this.kept = readKept(this.file);
  }

  private get file(): string {
    return path.join(this.stateDir, STATE_DIR, FILE);
  }

  /** A verdict is kept, and kpipe's records are as they were then (whether it is this plan's is asked last, being the dearest). */
  get standsOnRecords(): boolean {
    return this.kept !== undefined && this.kept.records.subarray(0, STAMP_BYTES).equals(stateStamp(this.stateDir));
  }

  /**
   * After standsOnRecords: the kept verdict holds for this plan and the files as `records` (one per
   * file of the plan, in order) found them. (The records need no second look: the run holds the lock.)
   */
  standsOn(records: Buffer): boolean {
    return this.kept !== undefined && this.kept.records.subarray(STAMP_BYTES).equals(records) && this.kept.digest === this.digest();
  }

  /** The "steps" of last-run.json when the verdict was kept (run-log.ts runLogStepsText). */
  get logSteps(): Buffer | undefined {
    return this.kept?.logSteps;
  }

  /**
   * After a run in which every step was up to date, decided on `records` taken from `statAtNs` on, and
   * whose last-run.json has `logSteps`: keep its verdict, or remove an older one when the files are too
   * recent to be told apart by their stat.
   */
  keep(records: Buffer, statAtNs: bigint, logSteps: Buffer): void {
    if (!settledBefore(records, statAtNs)) return this.forget();
    const head = Buffer.from(`${MAGIC} ${FORMAT} ${this.digest()} ${records.length / RECORD_BYTES} ${logSteps.length}\n`, 'latin1');
    writeFileAtomic(this.file, Buffer.concat([head, stateStamp(this.stateDir), records, logSteps]), false);
  }

  /** Something ran, failed or changed: the next run decides every step. */
  forget(): void {
    fs.rmSync(this.file, { force: true });
  }

  private digest(): string {
    this.digestMemo ??= planDigest(this.steps, this.context, this.objtree);
    return this.digestMemo;
  }
}

/** Every word length-prefixed: no two plans give the same text. */
export function planDigest(steps: readonly Step[], context: { env: string; srctree: string }, objtree: string): string {
  let text = `${MAGIC} ${FORMAT} rule ${RULE_VERSION} state ${STATE_VERSION}/${SNAPSHOT_VERSION} ${objtree.length}:${objtree}`;
  for (const s of steps) {
    const identity = identityText(s, context);
    text += `\n${s.id.length}:${s.id} ${identity.length}:${identity} ${s.inputs.length}`;
    for (const p of s.inputs) text += ` ${p.length}:${p}`;
    text += ` ${s.outputs.length}`;
    for (const p of s.outputs) text += ` ${p.length}:${p}`;
  }
  return sha256(text);
}

interface Kept {
  digest: string;
  /** The stat records of .kpipe/state and .kpipe/journal, then those of the plan's files. */
  records: Buffer;
  logSteps: Buffer;
}

/** The kept verdict, when its file is whole. */
function readKept(file: string): Kept | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const nl = bytes.indexOf(10);
  if (nl < 0 || nl > 200) return undefined;
  const [magic, format, kept, count, logBytes] = bytes.toString('latin1', 0, nl).split(' ');
  const recordBytes = STAMP_BYTES + Number(count) * RECORD_BYTES;
  if (magic !== MAGIC || format !== String(FORMAT) || bytes.length !== nl + 1 + recordBytes + Number(logBytes)) return undefined;
  return { digest: kept!, records: bytes.subarray(nl + 1, nl + 1 + recordBytes), logSteps: bytes.subarray(nl + 1 + recordBytes) };
}

function stateStamp(stateDir: string): Buffer {
  return statRecords([path.join(stateDir, STATE_DIR, 'state'), path.join(stateDir, STATE_DIR, 'journal')], '/');
}

/** No record is an error, and every file's mtime is at least RACY_WINDOW_NS older than `atNs`. */
function settledBefore(records: Buffer, atNs: bigint): boolean {
  const latest = atNs - RACY_WINDOW_NS;
  for (let at = 0; at < records.length; at += RECORD_BYTES) {
    const kind = records.readBigInt64LE(at);
    if (kind === 2n) return false;
    if (kind === 1n && records.readBigInt64LE(at + 16) > latest) return false;
  }
  return true;
}
