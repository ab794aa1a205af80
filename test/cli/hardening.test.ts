// The command line's side of issue 7: --step-timeout is checked like -j, and a plugin declaring an
// output outside the output tree is a bad plan (exit 2) that names the plugin, with no stack.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIXTURES, SHIPPED_PIPELINE, assertExit, assertUserError, kpipe, removeTempDirs, tempDir } from './helpers.js';

test.after(removeTempDirs);

for (const bad of ['0', '-3', 'soon', 'Infinity']) {
  test(`--step-timeout ${bad}: exit 2, the value named`, () => {
    const r = kpipe(['run', '--profile', 'x86_64-reference', `--step-timeout=${bad}`]);
    assertUserError(r);
    assert.ok(r.stderr.includes(`--step-timeout expects a positive number of seconds, not '${bad}'`), r.stderr);
  });
}

test('--step-timeout is listed in the help', () => {
  const r = kpipe(['--help']);
  assertExit(r, 0);
  assert.match(r.stdout, /^ {2}--step-timeout S +run: /m);
});

test('an org plugin declaring ../escaped: exit 2, the plugin and the path named, no stack', () => {
  const dir = tempDir('escape');
  fs.copyFileSync(path.join(FIXTURES, 'org-plugins', 'escape.mjs'), path.join(dir, 'escape.mjs'));
  fs.writeFileSync(path.join(dir, '.kpiperc.json'), JSON.stringify({ plugins: ['./escape.mjs'] }));
  fs.writeFileSync(path.join(dir, 'org.pipeline'), `include "${SHIPPED_PIPELINE}"\nextend stage vmlinux { use escape }\n`);
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--pipeline', 'org.pipeline'], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes('plugin escape declares output /escaped (step vmlinux:/escaped), which is outside the output tree /objtree'), r.stderr);
});

test.run();
