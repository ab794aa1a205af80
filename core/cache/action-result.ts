// The action-cache entry of Bazel's remote-execution API (build.bazel.remote.execution.v2.ActionResult),
// in its protobuf wire format, reduced to what a kpipe step has: output files, each a path and a
// digest (SHA-256, size), and what its tools printed (stderr_raw), shown again when it is restored. Written the same way to the local store and to /ac/ on a remote cache, so
// bazel-remote (which checks that an /ac/ upload parses as an ActionResult) and an nginx WebDAV
// location both take it. Hand-encoded: four message types do not justify a protobuf dependency.
//
//   ActionResult { repeated OutputFile output_files = 2; int32 exit_code = 4; bytes stderr_raw = 7; }
//   OutputFile   { string path = 1; Digest digest = 2; bool is_executable = 4; }
//   Digest       { string hash = 1; int64 size_bytes = 2; }

export interface CachedOutput {
  /** The output's canonical path (core/paths.ts), as the step declares it. */
  path: string;
  /** sha256 of its content, lower-case hex. */
  hash: string;
  size: number;
  /** OutputFile.is_executable: vmlinux is, a .ko is not; a restored file gets the mode a tool would give it. */
  executable?: boolean;
}

export interface ActionEntry {
  outputs: CachedOutput[];
  /** What the step's tools printed when it ran (warnings such as relocs_check.sh's), '' for nothing. */
  log: string;
}

export function encodeActionResult(outputs: readonly CachedOutput[], log = ''): Buffer {
  const parts: Buffer[] = [];
  for (const o of outputs) {
    const digest = Buffer.concat([lengthDelimited(1, Buffer.from(o.hash, 'utf8')), varintField(2, o.size)]);
    const file = Buffer.concat([lengthDelimited(1, Buffer.from(o.path, 'utf8')), lengthDelimited(2, digest), o.executable ? varintField(4, 1) : Buffer.alloc(0)]);
    parts.push(lengthDelimited(2, file));
  }
  // exit_code 0 is proto3's default and so is not written.
  if (log !== '') parts.push(lengthDelimited(7, Buffer.from(log, 'utf8')));
  return Buffer.concat(parts);
}

/** The output files of an ActionResult; undefined when the bytes are not one (or report a failed action). */
export function decodeActionResult(bytes: Uint8Array): ActionEntry | undefined {
  try {
    const outputs: CachedOutput[] = [];
    let log = '';
    let failed = false;
    for (const f of fields(bytes)) {
      if (f.number === 2 && f.bytes) outputs.push(decodeOutputFile(f.bytes));
      else if (f.number === 4 && f.value !== undefined && f.value !== 0) failed = true;
      else if (f.number === 7 && f.bytes) log = Buffer.from(f.bytes).toString('utf8');
    }
    return failed ? undefined : { outputs, log };
  } catch {
    return undefined;
  }
}

function decodeOutputFile(bytes: Uint8Array): CachedOutput {
  let path: string | undefined;
  let hash: string | undefined;
  let size = 0;
  let executable = false;
  for (const f of fields(bytes)) {
    if (f.number === 4 && f.value !== undefined) executable = f.value !== 0;
    else if (f.number === 1 && f.bytes) path = Buffer.from(f.bytes).toString('utf8');
    else if (f.number === 2 && f.bytes) {
      for (const d of fields(f.bytes)) {
        if (d.number === 1 && d.bytes) hash = Buffer.from(d.bytes).toString('utf8');
        else if (d.number === 2 && d.value !== undefined) size = d.value;
      }
    }
  }
  if (path === undefined || hash === undefined || !/^[0-9a-f]{64}$/.test(hash)) throw new Error('not an OutputFile');
  return executable ? { path, hash, size, executable } : { path, hash, size };
}

interface Field {
  number: number;
  value?: number;
  bytes?: Uint8Array;
}

function* fields(buf: Uint8Array): Generator<Field> {
  let at = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (at >= buf.length) throw new Error('truncated varint');
      const b = buf[at++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
      if (scale > 2 ** 63) throw new Error('varint too long');
    }
  };
  while (at < buf.length) {
    const key = varint();
    const number = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) yield { number, value: varint() };
    else if (wire === 2) {
      const n = varint();
      if (at + n > buf.length) throw new Error('truncated field');
      yield { number, bytes: buf.subarray(at, at + n) };
      at += n;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`wire type ${wire}`);
    if (at > buf.length) throw new Error('truncated field');
  }
}

function varintBytes(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function varintField(number: number, value: number): Buffer {
  return Buffer.concat([varintBytes(number * 8), varintBytes(value)]);
}

function lengthDelimited(number: number, bytes: Buffer): Buffer {
  return Buffer.concat([varintBytes(number * 8 + 2), varintBytes(bytes.length), bytes]);
}
