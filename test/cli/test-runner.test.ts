// test/run.js (what `npm test` and CI run): uvu's output streamed as it comes, no ANSI colours when
// not on a terminal, and the final `N passed, N failed` line CI reads (issue 17, point 5).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './helpers.js';

test('test/run.js streams the suites’ output, without colours into a pipe, and ends with the count line', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-runner-'));
  const seen = path.join(dir, 'seen');
  const env: NodeJS.ProcessEnv = { ...process.env, KPIPE_TEST_PATTERN: '^test/fixtures/runner/slow\\.fixture\\.js$', KPIPE_RUNNER_SEEN: seen };
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  const child = spawn(process.execPath, [path.join(REPO, 'test', 'run.js')], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    // uvu prints a dot per passing test: the first one, while the second still waits.
    if (out.includes('slow.fixture.js') && /•/.test(out)) fs.writeFileSync(seen, '');
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  fs.rmSync(dir, { recursive: true, force: true });
  assert.is(status, 0, out);
  assert.not.match(out, /\x1b\[/, 'no ANSI escapes into a pipe');
  assert.match(out, /\n2 passed, 0 failed\n$/);
});

test.run();
