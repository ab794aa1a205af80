// The Merkle tree of CONFIG_MODULE_HASHES (DESIGN.md section 5): vmlinux carries the root and the
// depth, each installed module carries its proof. Where the "module: Introduce hash-based integrity
// checking" series does not say, these are kpipe's choices:
//
// - Leaves: SHA-256 of each module file exactly as it is installed, in modules.order order. When
//   INSTALL_MOD_STRIP is set (kbuild: `1` means `--strip-debug`, any other value is the strip
//   options), that is the hash of the stripped file: a temporary copy is stripped with the tree's
//   $(STRIP) (as `make modules_install` strips); the .ko in the output tree is never edited.
// - Padding: the leaves are padded to the next power of two with 32 zero bytes (the padding leaf is
//   the zero block itself, not its hash). One module: depth 0 and the root is that module's leaf.
//   No module at all: one zero leaf, depth 0.
// - Node: SHA-256(left || right), 64 bytes in, no domain-separation prefix for leaves or nodes.
// - Depth: log2(padded leaf count).
// - Section `.module_hashes` (36 bytes): the root (32) then the depth as a big-endian u32.
// - Proof (the module signature's payload): the leaf's position as a big-endian u32, then one 32-byte
//   sibling hash per level, from the leaf up to just below the root (depth * 32 bytes).
// - Verifying: starting from the leaf, at level i the running hash is the right child when bit i of
//   the position is 1 (node = H(sibling || hash)), the left child otherwise.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Toolchain } from '../../core/planning/toolchain.js';

export const HASH_SIZE = 32;
export const SECTION_SIZE = HASH_SIZE + 4;
export const SECTION_NAME = '.module_hashes';
const ZERO = Buffer.alloc(HASH_SIZE);

export function sha256(...parts: Buffer[]): Buffer {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

export interface MerkleTree {
  /** levels[0] are the padded leaves, levels[depth] is [root]. */
  levels: Buffer[][];
  root: Buffer;
  depth: number;
  /** Real (unpadded) leaf count. */
  count: number;
}

export function buildTree(leaves: readonly Buffer[]): MerkleTree {
  for (const l of leaves) if (l.length !== HASH_SIZE) throw new Error(`a leaf must be ${HASH_SIZE} bytes, not ${l.length}`);
  let size = 1;
  while (size < leaves.length) size *= 2;
  const padded = [...leaves];
  while (padded.length < size) padded.push(ZERO);
  const levels: Buffer[][] = [padded];
  while (levels[levels.length - 1]!.length > 1) {
    const below = levels[levels.length - 1]!;
    const level: Buffer[] = [];
    for (let i = 0; i < below.length; i += 2) level.push(sha256(below[i]!, below[i + 1]!));
    levels.push(level);
  }
  return { levels, root: levels[levels.length - 1]![0]!, depth: levels.length - 1, count: leaves.length };
}

/** The proof of leaf `index`: big-endian u32 position, then the sibling at every level from the leaf up. */
export function proofFor(tree: MerkleTree, index: number): Buffer {
  if (!Number.isInteger(index) || index < 0 || index >= tree.count) throw new Error(`no leaf ${index} in a tree of ${tree.count}`);
  const pos = Buffer.alloc(4);
  pos.writeUInt32BE(index, 0);
  const siblings: Buffer[] = [];
  let i = index;
  for (let level = 0; level < tree.depth; level++) {
    siblings.push(tree.levels[level]![i ^ 1]!);
    i >>= 1;
  }
  return Buffer.concat([pos, ...siblings]);
}

export interface ParsedProof {
  position: number;
  siblings: Buffer[];
}

export function parseProof(proof: Buffer): ParsedProof {
  if (proof.length < 4 || (proof.length - 4) % HASH_SIZE !== 0) throw new Error(`a proof is 4 + 32*depth bytes, this one has ${proof.length}`);
  const siblings: Buffer[] = [];
  for (let off = 4; off < proof.length; off += HASH_SIZE) siblings.push(proof.subarray(off, off + HASH_SIZE));
  return { position: proof.readUInt32BE(0), siblings };
}

/** The root a leaf and its proof lead to. */
export function rootFromProof(leaf: Buffer, proof: Buffer): { root: Buffer; depth: number; position: number } {
  const { position, siblings } = parseProof(proof);
  let hash = leaf;
  siblings.forEach((sibling, level) => {
    hash = (position >>> level) & 1 ? sha256(sibling, hash) : sha256(hash, sibling);
  });
  return { root: hash, depth: siblings.length, position };
}

/** The 36 bytes of `.module_hashes`. */
export function sectionContent(tree: Pick<MerkleTree, 'root' | 'depth'>): Buffer {
  const b = Buffer.alloc(SECTION_SIZE);
  tree.root.copy(b, 0);
  b.writeUInt32BE(tree.depth, HASH_SIZE);
  return b;
}

export function parseSectionContent(content: Buffer): { root: Buffer; depth: number } {
  if (content.length !== SECTION_SIZE) throw new Error(`${SECTION_NAME} is ${SECTION_SIZE} bytes (root, depth), this one has ${content.length}`);
  return { root: Buffer.from(content.subarray(0, HASH_SIZE)), depth: content.readUInt32BE(HASH_SIZE) };
}

/**
 * kbuild's mod_strip_cmd as strip options: INSTALL_MOD_STRIP=1 is `--strip-debug`, another value is
 * the options themselves, unset or empty means no strip (undefined).
 */
export function stripOptions(installModStrip: string | undefined): string[] | undefined {
  if (installModStrip === undefined || installModStrip.trim() === '') return undefined;
  if (installModStrip.trim() === '1') return ['--strip-debug'];
  return installModStrip.split(/\s+/).filter((w) => w.length > 0);
}

/**
 * kbuild's cmd_strip as argv: `$(STRIP) OPTIONS`, with $(STRIP) as the tree's make has it
 * (`$(CROSS_COMPILE)strip`: a cross tree strips with the cross strip), else the environment's STRIP,
 * else `strip`. Undefined when INSTALL_MOD_STRIP asks for no strip.
 */
export function stripCommand(installModStrip: string | undefined, toolchain?: Toolchain, env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const options = stripOptions(installModStrip);
  if (!options) return undefined;
  const fromTree = toolchain?.kind === 'tree' ? toolchain.words('STRIP') : [];
  const fromEnv = (env.STRIP ?? '').split(/\s+/).filter((w) => w.length > 0);
  const program = fromTree.length > 0 ? fromTree : fromEnv.length > 0 ? fromEnv : ['strip'];
  return [...program, ...options];
}

/** Strips FILE in place with a stripCommand: `$(STRIP) OPTIONS FILE`. */
export function stripInPlace(file: string, command: readonly string[], env?: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  const [program, ...options] = command;
  return new Promise((resolve, reject) => {
    const child = spawn(program!, [...options, file], { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env, ...(signal ? { signal } : {}) });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => reject(new Error(`${program}: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${[...command, file].join(' ')} failed (exit ${code}): ${stderr.trim()}`))));
  });
}

/**
 * The leaf of one module: SHA-256 of the file as installed. With strip options, of a stripped
 * temporary copy (the module itself is left alone).
 */
export async function moduleLeaf(file: string, strip: readonly string[] | undefined /* a stripCommand */, env?: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Buffer> {
  if (!strip) return sha256(await fs.promises.readFile(file));
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'kpipe-strip-'));
  try {
    const copy = path.join(dir, path.basename(file));
    await fs.promises.copyFile(file, copy);
    await stripInPlace(copy, strip, env, signal);
    return sha256(await fs.promises.readFile(copy));
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}
