// Shared by the CLI suites: run bin/kpipe.js as a child process, make temporary directories, and read
// the parts of its output the tests look at (a stage's block in `explain`, a diagnostic's frame).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';

/** The repository root: this file is compiled to dist/test/cli/helpers.js. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
export const KPIPE = path.join(REPO, 'bin', 'kpipe.js');
export const SHIPPED_PIPELINE = path.join(REPO, 'kbuild.pipeline');
/** Fixtures stay in the source tree. */
export const FIXTURES = path.join(REPO, 'test', 'cli', 'fixtures');
export const PROFILES = ['x86_64-reference', 'x86_64-reference-hashes', 'x86_64-nobtf'] as const;

export interface CliResult {
  stdout: string;
  stderr: string;
  status: number | null;
}

const made: string[] = [];

/** A fresh empty directory under os.tmpdir() (its real path, as the child's process.cwd() sees it). */
export function tempDir(label = 'cli'): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `kpipe-${label}-`)));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** An empty XDG config home, so that a global ~/.config/kpipe cannot leak plugins into the tests. */
let xdgConfigHome: string | undefined;

/**
 * `node bin/kpipe.js ARGS` in `cwd` (default: an empty temporary directory). No colour, no ARCH or
 * toolchain variables from the environment of the test run; `env` is added last (PATH without dot).
 */
export function kpipe(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  xdgConfigHome ??= tempDir('xdg');
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_CONFIG_HOME: xdgConfigHome, ...opts.env };
  for (const v of ['ARCH', 'SRCARCH', 'CROSS_COMPILE', 'LLVM', 'O', 'V', 'MAKE']) delete env[v];
  const child = spawnSync(process.execPath, [KPIPE, ...args], { cwd: opts.cwd ?? tempDir('cwd'), env, encoding: 'utf8' });
  if (child.error) throw child.error;
  return { stdout: child.stdout, stderr: child.stderr, status: child.status };
}

/** The result, for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

export function assertExit(r: CliResult, status: number): void {
  assert.is(r.status, status, show(r));
}

/** Exit 2, a formatted diagnostic, and no JavaScript stack trace nor internal-error report. */
export function assertUserError(r: CliResult): void {
  assertExit(r, 2);
  assert.not.match(r.stderr, /^\s{4,}at\s/m, `a stack trace in stderr:\n${r.stderr}`);
  assert.not.ok(r.stderr.includes('internal error'), r.stderr);
  assert.match(r.stderr, /^\d+ errors?$/m, `the count line in stderr:\n${r.stderr}`);
}

/**
 * The lines of one stage in the "stages, in build order:" part of `kpipe explain`: its orderings
 * ("after"/"not after") and its plugins, without the stage's own header line.
 */
export function stageBlock(explainText: string, stage: string): string[] {
  const lines = explainText.split('\n');
  const start = lines.indexOf('stages, in build order:');
  assert.ok(start >= 0, `no stage list in:\n${explainText}`);
  const out: string[] = [];
  let inside = false;
  for (const line of lines.slice(start + 1)) {
    if (line === '') break;
    const header = /^ {2}(\S+)/.exec(line);
    if (header) {
      if (inside) break;
      inside = header[1] === stage;
      continue;
    }
    if (inside) out.push(line);
  }
  assert.ok(inside || out.length > 0, `no stage '${stage}' in:\n${explainText}`);
  return out;
}

/** The stage names of the "stages, in build order:" part, in order. */
export function stageOrder(explainText: string): string[] {
  const lines = explainText.split('\n');
  const start = lines.indexOf('stages, in build order:');
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line === '') break;
    const header = /^ {2}(\S+)/.exec(line);
    if (header) out.push(header[1]!);
  }
  return out;
}

/** The quiet lines of the "steps, in run order:" part (`  LD      vmlinux.unstripped   link`). */
export function stepLines(explainText: string): string[] {
  const lines = explainText.split('\n');
  const start = lines.indexOf('steps, in run order:');
  assert.ok(start >= 0, `no step list in:\n${explainText}`);
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line === '') break;
    out.push(line);
  }
  return out;
}

/**
 * The frame of the error reported at `location` (`file:line:col`): asserts the source line under it
 * is line `line` of the file, and that the carets start at column `col` and underline `word`.
 */
export function assertFrame(stderr: string, file: string, line: number, col: number, word: string): void {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${file}:${line}:${col}: error: `));
  assert.ok(at >= 0, `no error at ${file}:${line}:${col} in:\n${stderr}`);
  const source = /^\s*(\d+) \| (.*)$/.exec(lines[at + 1] ?? '');
  assert.ok(source, `no source line after the location in:\n${stderr}`);
  assert.is(Number(source![1]), line, 'the line number of the frame');
  const caret = /^\s+\| ( *)(\^+)\s*$/.exec(lines[at + 2] ?? '');
  assert.ok(caret, `no caret line under the source line in:\n${stderr}`);
  assert.is(caret![1]!.length, col - 1, 'the caret starts at the column of the location');
  assert.is(source![2]!.slice(col - 1, col - 1 + caret![2]!.length), word, 'the carets underline the word');
}

/** Steps of `explain --format json` (the fields these tests read). */
export interface JsonStep {
  id: string;
  stage: string;
  plugin: string;
  inputs: string[];
  outputs: string[];
  commands: { label: string | null; plugin: string; note: string | null; argv?: string[]; builtin?: string }[];
}

export interface JsonExplain {
  version: number;
  pipeline: { file: string; source: string };
  kconfig: { source: string; arch: string | null };
  stages: { name: string; after: { stage: string; active: boolean }[]; plugins: { plugin: string; active: boolean }[] }[];
  steps: JsonStep[];
}

export function parseJson(r: CliResult): JsonExplain {
  assertExit(r, 0);
  try {
    return JSON.parse(r.stdout) as JsonExplain;
  } catch (e) {
    assert.unreachable(`--format json printed no JSON (${(e as Error).message}):\n${r.stdout}`);
    throw e;
  }
}
