// The module-signing example, loaded through a kpipe.config.json: where its edit lands in the plan of
// the shipped pipeline (after BTF [M], whatever the order of the `use` lines), its errors, and a run
// over a synthetic tree with a stand-in sign-file: one signature per build, never two.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SHIPPED_PIPELINE, assertUserError, kpipe, parseJson, removeTempDirs, tempDir } from '../../test/cli/helpers.js';
import { planAndRun } from '../../test/helpers/run-plan.js';
import { imageBuilder } from '../../core/planning/image-builder.js';
import type { KpipePlugin } from '../../core/plugin-api.js';

const PLUGIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'index.js');

function orgDir(pipeline: string, options?: Record<string, string>): string {
  const dir = tempDir('sign');
  fs.writeFileSync(path.join(dir, 'kpipe.config.json'), JSON.stringify({ plugins: [options ? [PLUGIN, options] : PLUGIN] }));
  fs.writeFileSync(path.join(dir, 'org.pipeline'), pipeline);
  return dir;
}

/** The shipped pipeline with `use module-sign` first in the modules stage, before modfinal and btf. */
function signingFirst(): string {
  const shipped = fs.readFileSync(SHIPPED_PIPELINE, 'utf8');
  assert.ok(shipped.includes('  use modfinal when MODULES\n'));
  return shipped.replace('  use modfinal when MODULES\n', '  use module-sign when MODULES\n  use modfinal when MODULES\n');
}

test('plan: SIGN [M] is the last edit of each module, after BTF [M], with the key, the cert and sign-file as inputs', () => {
  const dir = orgDir(signingFirst());
  const j = parseJson(kpipe(['explain', '--profile', 'x86_64-reference', '--set', 'MODULE_SIG_HASH=sha512', '--format', 'json', '--pipeline', 'org.pipeline'], { cwd: dir }));
  const ko = j.steps.find((s) => s.outputs.includes('<module>.ko'))!;
  assert.equal(ko.commands.map((c) => c.label).filter((l) => l !== null), ['LD [M]  <module>.ko', 'BTF [M] <module>.ko', 'SIGN [M] <module>.ko']);
  assert.equal(ko.commands.at(-1)!.argv, ['./scripts/sign-file', 'sha512', 'certs/signing_key.pem', 'certs/signing_key.x509', '<module>.ko']);
  for (const f of ['scripts/sign-file', 'certs/signing_key.pem', 'certs/signing_key.x509']) assert.ok(ko.inputs.includes(f), `${f} is an input`);
});

test('plan: a PKCS#11 key is not a file input; the hash option wins over Kconfig', () => {
  const dir = orgDir(`include "${SHIPPED_PIPELINE}"\nextend stage modules { use module-sign(hash = "sha256") }\n`, { key: 'pkcs11:token=org;object=modsign' });
  const j = parseJson(kpipe(['explain', '--profile', 'x86_64-reference', '--format', 'json', '--pipeline', 'org.pipeline'], { cwd: dir }));
  const ko = j.steps.find((s) => s.outputs.includes('<module>.ko'))!;
  assert.equal(ko.commands.at(-1)!.argv!.slice(1, 3), ['sha256', 'pkcs11:token=org;object=modsign']);
  assert.not.ok(ko.inputs.some((i) => i.startsWith('pkcs11:')), ko.inputs.join(' '));
});

test('no digest anywhere: exit 2, the plugin, what is missing, how to fix it', () => {
  const dir = orgDir(`include "${SHIPPED_PIPELINE}"\nextend stage modules { use module-sign }\n`);
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--pipeline', 'org.pipeline'], { cwd: dir });
  assertUserError(r);
  assert.ok(r.stderr.includes("plugin 'module-sign' failed in hook apply: no digest: MODULE_SIG_HASH is not set and no hash option"), r.stderr);
  assert.ok(r.stderr.includes('hint: use module-sign(hash = "sha512"), or set CONFIG_MODULE_SIG_HASH'), r.stderr);
});

// ── a run over a synthetic tree ──────────────────────────────────────────────────────────────────

/** A stand-in for modfinal: `ld -r` is a copy of the module's object, then the moduleLinked edits. */
const fakeModfinal: KpipePlugin = {
  name: 'fake-modfinal',
  apply(hooks, ctx) {
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      for (const ko of ['crypto/crc8.ko', 'lib/zlib.ko']) {
        const object = ko.replace(/\.ko$/, '.o');
        const step = builder.addStep(ctx.name, {
          commands: [{ label: { tag: 'LD [M]', target: ko }, plugin: ctx.name, action: { kind: 'builtin', name: 'copy', args: [object, ko] } }],
          inputs: [object],
          outputs: [ko],
        });
        hooks.moduleLinked.for(ctx.stage).call(imageBuilder(step, ko));
      }
    });
  },
};

/** sign-file HASH KEY CERT MODULE: appends a line naming the digest and the key's contents. */
const FAKE_SIGN_FILE = `#!/bin/sh
printf 'SIGNED %s %s\\n' "$1" "$(cat "$2")" >> "$4"
`;

function syntheticTree(): string {
  const dir = orgDir('stage modules {\n  use module-sign\n  use fake-modfinal\n}\n');
  const write = (file: string, text: string, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text, { mode });
  };
  write('scripts/sign-file', FAKE_SIGN_FILE, 0o755);
  write('certs/signing_key.pem', 'key-1');
  write('certs/signing_key.x509', 'cert-1');
  write('crypto/crc8.o', 'crc8 object\n');
  write('lib/zlib.o', 'zlib object\n');
  return dir;
}

const run = (dir: string) => planAndRun(dir, 'org.pipeline', 'CONFIG_MODULES=y\nCONFIG_MODULE_SIG_HASH="sha512"\n', [fakeModfinal]);
const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
const ran = (log: Awaited<ReturnType<typeof run>>['log']) => log.steps.filter((s) => s.ran).map((s) => s.label).sort();

test('run: each module signed once; a rebuild re-signs from the object, never on top of a signature', async () => {
  const dir = syntheticTree();
  await run(dir);
  assert.is(read(dir, 'lib/zlib.ko'), 'zlib object\nSIGNED sha512 key-1\n');
  assert.equal(ran((await run(dir)).log), [], 'nothing changed: nothing runs');
  fs.writeFileSync(path.join(dir, 'lib/zlib.o'), 'zlib object, rebuilt\n');
  assert.equal(ran((await run(dir)).log), ['LD [M] lib/zlib.ko']);
  assert.is(read(dir, 'lib/zlib.ko'), 'zlib object, rebuilt\nSIGNED sha512 key-1\n', 'one signature, over the new object');
});

test('run: a new key re-signs every module', async () => {
  const dir = syntheticTree();
  await run(dir);
  fs.writeFileSync(path.join(dir, 'certs/signing_key.pem'), 'key-2');
  assert.equal(ran((await run(dir)).log), ['LD [M] crypto/crc8.ko', 'LD [M] lib/zlib.ko']);
  assert.is(read(dir, 'crypto/crc8.ko'), 'crc8 object\nSIGNED sha512 key-2\n');
});

test.after(removeTempDirs);
test.run();
