// The README's samples against the code (issue 17, point 8): a sample drifts silently otherwise, as
// its `explain` sample did (kbuild.pipeline:33 for a line that had moved to 65, no compile stage).
//   - the `explain` sample: every line but `...` is kpipe's own output, in order;
//   - the demo's package list: exactly what scripts/install-deps.sh --list installs;
//   - the compile time: the figure BENCHMARKS.md measured.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, assertExit, kpipe } from './helpers.js';

const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');

/** The code blocks that follow a `<!-- checked by ... -->` comment, with the command of their first line. */
function checkedSamples(): { command: string[]; lines: string[] }[] {
  const out: { command: string[]; lines: string[] }[] = [];
  for (const m of readme.matchAll(/<!-- checked by [^\n]*-->\n```\n\$ kpipe ([^\n]*)\n([\s\S]*?)```/g)) {
    out.push({ command: m[1]!.split(' '), lines: m[2]!.replace(/\n$/, '').split('\n') });
  }
  return out;
}

test("the README's explain sample is kpipe explain's output (lines elided with ... aside), in order", () => {
  const samples = checkedSamples();
  assert.ok(samples.length >= 1, 'the explain sample is marked');
  for (const { command, lines } of samples) {
    const r = kpipe(command, { cwd: REPO });
    assertExit(r, 0);
    const actual = r.stdout.split('\n').map((l) => l.trimEnd());
    let at = 0;
    for (const line of lines) {
      if (line.trim() === '...') continue;
      const found = actual.indexOf(line.trimEnd(), at);
      assert.ok(found >= 0, `README line not in \`kpipe ${command.join(' ')}\` (after line ${at}):\n${line}\n--- actual:\n${actual.join('\n')}`);
      at = found + 1;
    }
  }
});

test("the demo's package list is what scripts/install-deps.sh installs", () => {
  const listed = /`npm run demo` installs what it needs from Debian \(`([^`]+)`/.exec(readme)?.[1]?.split(/\s+/).filter(Boolean);
  const r = spawnSync('bash', [path.join(REPO, 'scripts', 'install-deps.sh'), '--list'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.equal(listed, r.stdout.split('\n').filter(Boolean));
});

test("the README's compile time is the one BENCHMARKS.md measured", () => {
  const said = Number(/\(about (\d+) minutes on the shared 2-core machine/.exec(readme)?.[1]);
  const benchmarks = fs.readFileSync(path.join(REPO, 'BENCHMARKS.md'), 'utf8');
  const m = /\| x86_64-reference \| [\d:]+ \| [\d:]+ \| (\d+) min (\d+) s \|/.exec(benchmarks);
  assert.ok(m, 'BENCHMARKS.md has the compile of x86_64-reference');
  assert.is(said, Math.round(Number(m![1]) + Number(m![2]) / 60));
});

test.run();
