#!/usr/bin/env node
// Runs every uvu suite compiled to dist/test and ends with the one line CI reads:
// `N passed, N failed`. uvu's output is streamed as it comes (a kernel suite can take many minutes,
// and a silent hour looks like a hang), and uvu's own summary ("Total/Passed") is parsed, not trusted
// for the exit code alone, so a crash in a suite that prints no summary still counts as a failure.
// Colours only on a terminal: uvu forces them by default, which fills CI logs with escapes.
//   node test/run.js           all suites, the real-kernel end-to-end ones included
//   node test/run.js --unit    everything but test/e2e (no kernel needed)
// Suites live in test/ and beside the example plugins they test (examples/<name>/*.test.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const unit = process.argv.includes('--unit');
const uvu = path.join(root, 'node_modules', 'uvu', 'bin.js');
// KPIPE_TEST_PATTERN: another set of suites (test/cli/test-runner.test.ts runs a fixture through here).
const args = [uvu, 'dist', process.env.KPIPE_TEST_PATTERN ?? '^(test|examples)/.*\\.test\\.js$'];
if (unit) args.push('-i', 'e2e');
const tty = process.stdout.isTTY === true && !process.env.NO_COLOR;
if (!tty) args.push('--no-color');
const env = { ...process.env };
if (!tty) {
  delete env.FORCE_COLOR;
  env.NO_COLOR = '1';
}
const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env });
let output = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk) => {
  output += chunk;
  process.stdout.write(chunk);
});
child.on('close', (status) => {
  // Escapes aside (a terminal run keeps its colours), the summary is uvu's own.
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  let failed = total - passed - skipped;
  if (status !== 0 && failed === 0) failed = 1; // a suite crashed before reporting
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
});
