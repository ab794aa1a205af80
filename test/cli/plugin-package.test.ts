// examples/ko-zstd is built the way an author outside kpipe builds a plugin package (README "Writing
// a plugin package"): copied out of the repository into an empty directory, with node_modules laid
// out as `npm install` lays out its devDependencies (kpipe, typescript, uvu, @types/node: symlinks, as
// npm makes for a `file:` dependency), compiled by its own tsconfig.json, tested by its own test with
// `kpipe/testing`, then installed into an org directory whose kpipe.config.json names it by package
// name, and used by `kpipe explain` and `kpipe plugins`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO, SHIPPED_PIPELINE, assertExit, kpipe, removeTempDirs, show, tempDir } from './helpers.js';

test.after(removeTempDirs);

function sh(argv: string[], cwd: string): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8' });
  assert.is(r.status, 0, `${argv.join(' ')}:\n${r.stdout}\n${r.stderr}`);
}

/** What `npm install` leaves: node_modules/NAME for each dependency. */
function linkDependencies(dir: string, deps: Record<string, string>): void {
  for (const [name, target] of Object.entries(deps)) {
    const at = path.join(dir, 'node_modules', name);
    fs.mkdirSync(path.dirname(at), { recursive: true });
    fs.symlinkSync(target, at);
  }
}

test('the example package: compiled outside the repository, its own tests pass, a kpipe.config.json loads it by name', () => {
  const pkg = path.join(tempDir('author'), 'kpipe-plugin-ko-zstd');
  fs.mkdirSync(pkg);
  for (const f of ['package.json', 'tsconfig.json', 'src']) fs.cpSync(path.join(REPO, 'examples', 'ko-zstd', f), path.join(pkg, f), { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')) as { type: string; peerDependencies: Record<string, string>; dependencies?: unknown };
  assert.is(manifest.type, 'module');
  assert.ok(manifest.peerDependencies.kpipe, 'kpipe is a peer dependency');
  assert.is(manifest.dependencies, undefined, 'nothing else at run time');
  linkDependencies(pkg, {
    kpipe: REPO,
    typescript: path.join(REPO, 'node_modules', 'typescript'),
    uvu: path.join(REPO, 'node_modules', 'uvu'),
    '@types/node': path.join(REPO, 'node_modules', '@types', 'node'),
  });
  // The package's scripts: build, then test (what `npm test` runs there).
  sh([process.execPath, path.join(pkg, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], pkg);
  assert.ok(fs.existsSync(path.join(pkg, 'dist', 'index.d.ts')), 'declarations for TypeScript users');
  sh([process.execPath, path.join(pkg, 'node_modules', 'uvu', 'bin.js'), 'dist', '\\.test\\.js$'], pkg);

  // An org installs it (node_modules/kpipe-plugin-ko-zstd) and names it in its config file.
  const org = tempDir('org');
  linkDependencies(org, { 'kpipe-plugin-ko-zstd': pkg });
  fs.writeFileSync(path.join(org, 'kpipe.config.json'), JSON.stringify({ plugins: [['kpipe-plugin-ko-zstd', { level: 19 }]] }, null, 2));
  fs.writeFileSync(path.join(org, 'release.pipeline'), `include "${SHIPPED_PIPELINE}"\nstage compressed {\n  use ko-zstd when MODULES\n}\ncompressed: modules\n`);
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--pipeline', 'release.pipeline', '-v'], { cwd: org });
  assertExit(r, 0);
  assert.ok(r.stdout.includes('ZSTD    <module>.ko.zst'), show(r));
  assert.ok(r.stdout.includes('zstd -q -19 -c \'<module>.ko\''), show(r));
  const p = kpipe(['plugins', '--profile', 'x86_64-reference', '--pipeline', 'release.pipeline'], { cwd: org });
  assertExit(p, 0);
  assert.ok(p.stdout.includes('ko-zstd        kpipe.config.json plugins[0] (kpipe-plugin-ko-zstd)'), show(p));
  assert.ok(p.stdout.includes(`  module:  ${pkg}/dist/index.js`), show(p));
});

test.run();
