// Work kpipe does in-process instead of spawning coreutils (principle 4: no `cmp --silent`, no
// `dd conv=notrunc`). A builtin is addressed by name from a BuiltinCommand so steps stay plain data, and
// the same name runs under ninja as `kpipe builtin NAME ARGS...`. Plugins register their own.
import fs from 'node:fs';
import path from 'node:path';

export interface BuiltinContext {
  /** Absolute output tree. */
  objtree: string;
  /**
   * Absolute path to use for `p` (relative to objtree, or absolute): when `p` is an output of the
   * running step, its temporary; otherwise the file itself.
   */
  resolve(p: string): string;
  /** Aborted when the run is interrupted: a builtin that spawns tools should stop them. */
  signal?: AbortSignal;
  /** The environment commands of this run get (process environment plus kpipe's). */
  env?: NodeJS.ProcessEnv;
}

/** Throws a plain Error whose message is shown to the user as the command's output. */
export type BuiltinFunction = (args: string[], ctx: BuiltinContext) => Promise<void>;

const registry = new Map<string, BuiltinFunction>();

export function registerBuiltin(name: string, fn: BuiltinFunction): void {
  if (registry.has(name) && registry.get(name) !== fn) throw new Error(`builtin '${name}' is already registered`);
  registry.set(name, fn);
}

export function getBuiltin(name: string): BuiltinFunction | undefined {
  return registry.get(name);
}

export function builtinNames(): string[] {
  return [...registry.keys()].sort();
}

/**
 * Runs a builtin outside the executor (for `kpipe builtin NAME ARGS...`, which ninja calls): paths
 * are taken as they are, relative to `objtree`. Resolves with an exit status and the message to print.
 */
export async function runBuiltinStandalone(name: string, args: string[], objtree: string): Promise<{ status: number; message?: string }> {
  const fn = getBuiltin(name);
  if (!fn) return { status: 2, message: `kpipe builtin: unknown builtin '${name}' (known: ${builtinNames().join(', ')})` };
  try {
    await fn(args, { objtree, resolve: (p) => path.resolve(objtree, p) });
    return { status: 0 };
  } catch (e) {
    return { status: 1, message: e instanceof Error ? e.message : String(e) };
  }
}

function expectArgs(name: string, args: string[], count: number, usage: string): void {
  if (args.length !== count) throw new Error(`${name}: expected ${usage}, got ${args.length} argument(s)`);
}

/** `copy SRC DST`: DST gets SRC's bytes (DST is usually the step's output, so its temporary). */
registerBuiltin('copy', async (args, ctx) => {
  expectArgs('copy', args, 2, 'SRC DST');
  await fs.promises.copyFile(ctx.resolve(args[0]!), ctx.resolve(args[1]!));
});

/** `files-equal A B MESSAGE`: fails with MESSAGE when the contents differ (replaces `cmp -s`). */
registerBuiltin('files-equal', async (args, ctx) => {
  expectArgs('files-equal', args, 3, 'A B MESSAGE');
  if (!(await filesEqual(ctx.resolve(args[0]!), ctx.resolve(args[1]!)))) throw new Error(args[2]!);
});

/** `write-file DST TEXT`: DST holds exactly TEXT (UTF-8, no newline added). */
registerBuiltin('write-file', async (args, ctx) => {
  expectArgs('write-file', args, 2, 'DST TEXT');
  await fs.promises.writeFile(ctx.resolve(args[0]!), args[1]!);
});

/**
 * `elf-set-type-rel FILE`: e_type := ET_REL (1), in the byte order e_ident[EI_DATA] declares. This is
 * the `printf '\1' | dd of=... conv=notrunc bs=1 seek=16` of link-vmlinux.sh's gen_btf, done for both
 * endiannesses: objcopy --only-section=.BTF leaves an ET_EXEC the linker refuses to link.
 */
registerBuiltin('elf-set-type-rel', async (args, ctx) => {
  expectArgs('elf-set-type-rel', args, 1, 'FILE');
  const file = ctx.resolve(args[0]!);
  const fh = await fs.promises.open(file, 'r+');
  try {
    const ident = Buffer.alloc(18);
    const { bytesRead } = await fh.read(ident, 0, 18, 0);
    if (bytesRead < 18 || ident.readUInt32BE(0) !== 0x7f454c46) throw new Error(`elf-set-type-rel: ${args[0]} is not an ELF file`);
    const data = ident[5];
    if (data !== 1 && data !== 2) throw new Error(`elf-set-type-rel: ${args[0]} has an unknown ELF data encoding (EI_DATA=${data})`);
    const type = Buffer.from(data === 1 ? [0x01, 0x00] : [0x00, 0x01]);
    await fh.write(type, 0, 2, 16);
  } finally {
    await fh.close();
  }
});

async function filesEqual(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([fs.promises.stat(a), fs.promises.stat(b)]);
  if (sa.size !== sb.size) return false;
  const [fa, fb] = await Promise.all([fs.promises.open(a, 'r'), fs.promises.open(b, 'r')]);
  try {
    const chunk = 1 << 20;
    const ba = Buffer.alloc(chunk);
    const bb = Buffer.alloc(chunk);
    for (let pos = 0; ; pos += chunk) {
      const [na, nb] = await Promise.all([readFully(fa, ba, pos), readFully(fb, bb, pos)]);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na < chunk) return true;
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

/** Fills `buf` from `position` unless the file ends first; returns the bytes read. */
async function readFully(fh: fs.promises.FileHandle, buf: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buf.length) {
    const { bytesRead } = await fh.read(buf, filled, buf.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}
