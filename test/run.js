#!/usr/bin/env node
// Runs every uvu suite compiled to dist/test and ends with the one line CI reads:
// `N passed, N failed`. uvu's own summary ("Total/Passed") is parsed, not trusted for the exit code
// alone, so a crash in a suite that prints no summary still counts as a failure.
//   node test/run.js           all suites, the real-kernel end-to-end ones included
//   node test/run.js --unit    everything but test/e2e (no kernel needed)
// Suites live in test/ and beside the example plugins they test (examples/<name>/*.test.ts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const unit = process.argv.includes('--unit');
const uvu = path.join(root, 'node_modules', 'uvu', 'bin.js');
const args = [uvu, 'dist', '^(test|examples)/.*\\.test\\.js$'];
if (unit) args.push('-i', 'e2e');
const child = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
process.stdout.write(child.stdout ?? '');
const total = Number(/Total:\s+(\d+)/.exec(child.stdout ?? '')?.[1] ?? 0);
const passed = Number(/Passed:\s+(\d+)/.exec(child.stdout ?? '')?.[1] ?? 0);
const skipped = Number(/Skipped:\s+(\d+)/.exec(child.stdout ?? '')?.[1] ?? 0);
let failed = total - passed - skipped;
if (child.status !== 0 && failed === 0) failed = 1; // a suite crashed before reporting
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
