// The parsed-pipeline cache (dsl/load-cached.ts): a cached load is the load itself, byte for byte
// after a round trip, and it is never used once any file it read reads differently.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadPipeline } from '../../dsl/load.js';
import { loadPipelineCached, MAX_ENTRIES } from '../../dsl/load-cached.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const KNOWN = ['link', 'kallsyms', 'btf', 'sysmap', 'sorttable', 'objcopy', 'modfinal', 'module-hashes', 'kbuild-compile', 'kbuild-image', 'arch.x86', 'arch.riscv', 'arch.powerpc', 'arch.mips', 'arch.s390', 'kbuild-handoff', 'kbuild-mtime', 'kbuild-cmd'];
const made: string[] = [];
const temp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-parsed-'));
  made.push(d);
  return d;
};
const files = () => fs.readdirSync(path.join(REPO, 'test'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.pipeline')).map((f) => path.join(REPO, 'test', f));

test.after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

test('every pipeline of the fixtures and the shipped one: the second, cached load equals a fresh load', async () => {
  const cache = temp();
  for (const file of [path.join(REPO, 'kbuild.pipeline'), ...files()]) {
    const fresh = loadPipeline(file, { knownPlugins: KNOWN });
    const first = await loadPipelineCached(file, { knownPlugins: KNOWN }, cache);
    const second = await loadPipelineCached(file, { knownPlugins: KNOWN }, cache);
    assert.equal(first, fresh, file);
    assert.equal(second, fresh, file);
  }
  assert.ok(fs.readdirSync(cache).length > 0, 'error-free loads were kept');
});

test('a load with errors is not kept; an edited include, other known plugins or a damaged entry are misses', async () => {
  const cache = temp();
  const dir = temp();
  const entry = path.join(dir, 'a.pipeline');
  const inc = path.join(dir, 'b.pipeline');
  fs.writeFileSync(entry, 'include "b.pipeline"\n');
  fs.writeFileSync(inc, 'stage s "one" { use link }\n');
  await loadPipelineCached(entry, { knownPlugins: ['link'] }, cache);
  const [kept] = fs.readdirSync(cache);
  assert.ok(kept);
  fs.writeFileSync(inc, 'stage s "two" { use link }\n');
  const edited = await loadPipelineCached(entry, { knownPlugins: ['link'] }, cache);
  assert.is(edited.statements[0]?.kind === 'stage' && edited.statements[0].description, 'two');
  const unknown = await loadPipelineCached(entry, { knownPlugins: [] }, cache);
  assert.equal(unknown.diagnostics.map((d) => d.code), loadPipeline(entry, { knownPlugins: [] }).diagnostics.map((d) => d.code));
  assert.ok(unknown.diagnostics.length > 0);
  fs.writeFileSync(path.join(cache, kept!), '{ torn');
  assert.equal(await loadPipelineCached(entry, { knownPlugins: ['link'] }, cache), loadPipeline(entry, { knownPlugins: ['link'] }));
  fs.writeFileSync(inc, 'stage s "three" {{\n');
  const before = fs.readdirSync(cache).map((f) => fs.readFileSync(path.join(cache, f), 'utf8'));
  const broken = await loadPipelineCached(entry, { knownPlugins: ['link'] }, cache);
  assert.ok(broken.diagnostics.some((d) => d.severity === 'error'));
  assert.equal(fs.readdirSync(cache).map((f) => fs.readFileSync(path.join(cache, f), 'utf8')), before, 'a load with errors changes nothing in the cache');
  fs.writeFileSync(inc, 'stage s "four" { use link }\n');
  const fixed = await loadPipelineCached(entry, { knownPlugins: ['link'] }, cache);
  assert.is(fixed.statements[0]?.kind === 'stage' && fixed.statements[0].description, 'four');
});

test('the cache keeps at most MAX_ENTRIES entries, dropping the least recently used', async () => {
  const cache = temp();
  const dir = temp();
  const used = path.join(dir, 'used.pipeline');
  fs.writeFileSync(used, 'stage s "kept" { use link }\n');
  await loadPipelineCached(used, { knownPlugins: ['link'] }, cache);
  for (let k = 0; k <= MAX_ENTRIES; k++) {
    const f = path.join(dir, `p${k}.pipeline`);
    fs.writeFileSync(f, `stage s${k} "n" { use link }\n`);
    await loadPipelineCached(f, { knownPlugins: ['link'] }, cache);
    if (k % 50 === 0) await loadPipelineCached(used, { knownPlugins: ['link'] }, cache); // used again: stays
  }
  const left = fs.readdirSync(cache).filter((n) => n.endsWith('.json')).length;
  assert.ok(left <= MAX_ENTRIES && left >= MAX_ENTRIES / 2, `${left} entries`);
  const before = fs.readdirSync(cache).length;
  await loadPipelineCached(used, { knownPlugins: ['link'] }, cache);
  assert.is(fs.readdirSync(cache).length, before, 'the recently used entry survived: a hit adds nothing');
});

test.run();
