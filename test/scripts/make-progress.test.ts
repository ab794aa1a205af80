// scripts/kernel-env.sh's make_with_progress, which prepare-kernel.sh (and so `npm run demo`) compiles
// the kernel with: outside a terminal, a line that moves while make is silent (issue 17, point 5).
// The stand-in make runs until the caller has seen a progress line, which it can only if one comes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../core/loading/session.js';

test('make_with_progress: a progress line with the objects so far while make is silent, and make\'s status', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-progress-'));
  const seen = path.join(dir, 'seen');
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.mkdirSync(path.join(dir, 'out'));
  fs.writeFileSync(path.join(dir, 'bin', 'make'), `#!/bin/sh\n: > "${dir}/out/a.o"; : > "${dir}/out/b.o"\nfor i in $(seq 600); do [ -f "${seen}" ] && exit 3; sleep 0.1; done\nexit 4\n`, { mode: 0o755 });
  const script = `. "${PACKAGE_ROOT}/scripts/kernel-env.sh"; make_with_progress "${dir}/out" -C somewhere vmlinux_o`;
  const child = spawn('bash', ['-c', script], { env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, KPIPE_PROGRESS_SECONDS: '0.2' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    err += chunk;
    if (/still compiling: 2 objects so far/.test(err)) fs.writeFileSync(seen, '');
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  fs.rmSync(dir, { recursive: true, force: true });
  assert.match(err, /^prepare-kernel: still compiling: 2 objects so far, \d+ s$/m);
  assert.is(status, 3, "make's own exit status");
});

test.run();
