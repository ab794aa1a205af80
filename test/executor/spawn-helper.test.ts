// The spawn helper (core/running/spawn-helper.ts) starts commands as Node's spawn did: the same
// outcomes, messages, process groups and notes; and without perl, or when the helper dies, kpipe
// still runs every command.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpawnHelperRunner } from '../../core/running/spawn-helper.js';
import { ProcessNotes } from '../../core/running/orphans.js';
import type { RunOutcome, RunRequest } from '../../core/running/runner.js';
import { processStartTime } from '../../core/running/lock.js';
import { withEnv } from '../helpers/env.js';

// Every test runs against both helpers: the compiled one (spawn-helper.c) and the Perl one.
for (const helper of ['c', 'perl'] as const) {
  const test = suite(`spawn helper (${helper})`);
  let dir: string;
  let notes: ProcessNotes;
  let runner: SpawnHelperRunner;
  test.before.each(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-helper-'));
    fs.mkdirSync(path.join(dir, '.kpipe'));
    notes = new ProcessNotes(dir);
    runner = new SpawnHelperRunner(notes, { helper });
  });
  test.after.each(() => {
    runner.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const sh = (script: string, extra: Partial<RunRequest> = {}): RunRequest => ({ argv: ['sh', '-c', script], cwd: dir, env: { PATH: process.env.PATH, WHO: 'kpipe' }, ...extra });
  const never = () => new AbortController().signal;
  /** Gone, or a zombie (this sandbox's pid 1 does not reap the orphans it inherits). */
  const stopped = (pid: number) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    } catch {
      return true;
    }
  };

  test('the commands are started by the helper asked for', async () => {
    const r = await runner.run(sh('readlink /proc/$PPID/exe'), never());
    assert.match(r.output, helper === 'c' ? /\/bin\/spawn-helper-[0-9a-f]{16}\n$/ : /\/perl[0-9.]*\n$/);
  });

  test('exit status, directory, environment, and output and errors interleaved as they came', async () => {
    fs.mkdirSync(path.join(dir, 'sub'));
    const r = await runner.run(sh('echo "in $(basename "$PWD") as $WHO"; echo oops >&2; echo again; exit 3', { cwd: path.join(dir, 'sub') }), never());
    assert.equal(r, { exitCode: 3, signal: null, output: 'in sub as kpipe\noops\nagain\n' });
  });

  test('standard output to a file, errors still captured; a silent command has no output', async () => {
    const file = path.join(dir, 'out.txt');
    const r = await runner.run(sh('echo data; echo warn >&2', { stdoutFile: file }), never());
    assert.equal(r, { exitCode: 0, signal: null, output: 'warn\n' });
    assert.is(fs.readFileSync(file, 'utf8'), 'data\n');
    assert.equal(await runner.run(sh('true'), never()), { exitCode: 0, signal: null, output: '' });
    const cannot = await runner.run(sh('true', { stdoutFile: path.join(dir, 'no/such/dir/out') }), never());
    assert.match(cannot.spawnError ?? '', /^cannot write .*no\/such\/dir\/out: No such file or directory/);
  });

  test('a program that is missing or not executable is reported as Node would; a signal is a signal', async () => {
    const missing = await runner.run({ argv: ['kpipe-no-such-tool', 'x'], cwd: dir, env: { PATH: process.env.PATH } }, never());
    assert.is(missing.spawnError, 'kpipe-no-such-tool: command not found');
    fs.writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\n');
    const denied = await runner.run({ argv: [path.join(dir, 'tool')], cwd: dir, env: {} }, never());
    assert.is(denied.spawnError, `${path.join(dir, 'tool')}: permission denied`);
    const killed = await runner.run(sh('kill -USR1 $$'), never());
    assert.equal([killed.exitCode, killed.signal], [null, 'SIGUSR1']);
  });

  test('each command runs in its own process group, noted while it runs; an abort stops the whole group', async () => {
    const abort = new AbortController();
    const pidFile = path.join(dir, 'pid');
    const running = runner.run(sh(`sleep 60 & echo $$ $! > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; wait`), abort.signal);
    while (!fs.existsSync(pidFile)) await new Promise((r) => setTimeout(r, 10));
    const [leader, sleeper] = fs.readFileSync(pidFile, 'utf8').trim().split(' ').map(Number) as [number, number];
    assert.is(fs.readFileSync(path.join(notes.dir, String(leader)), 'utf8').trim(), processStartTime(leader));
    abort.abort();
    const r = await running;
    assert.is(r.signal, 'SIGTERM');
    await new Promise((res) => setTimeout(res, 50));
    assert.ok(stopped(leader), 'the command is stopped');
    assert.ok(stopped(sleeper), 'and so is what it started');
    assert.equal(fs.readdirSync(notes.dir), [], 'the note went with it');
  });

  test('thousands of short commands, two at a time, all end (an ended child is never left unreported)', async () => {
    let started = 0;
    const done: number[] = [];
    const slot = async () => {
      while (started < 3000) {
        started++;
        done.push((await runner.run({ argv: ['/bin/true'], cwd: dir, env: {} }, never())).exitCode ?? -1);
      }
    };
    await Promise.all([slot(), slot()]);
    assert.is(done.length, 3000);
    assert.ok(done.every((c) => c === 0));
  });

  test('a command gets the default SIGPIPE (the helper ignores it for itself)', async () => {
    assert.equal(await runner.run(sh('yes | head -n 1'), never()), { exitCode: 0, signal: null, output: 'y\n' });
  });

  test('a long output keeps its head and its tail, and says what it left out', async () => {
    const r = await runner.run(sh('echo FIRST; head -c 600000 /dev/zero | tr "\\0" x; echo; echo LAST'), never());
    assert.ok(r.output.startsWith('FIRST\n'));
    assert.ok(r.output.endsWith('LAST\n'));
    assert.match(r.output, /\[\.\.\. \d+ bytes of output omitted \.\.\.\]/);
    assert.ok(r.output.length < 300_000);
  });

  test('without perl, commands run through Node', async () => {
    const plain = new SpawnHelperRunner(notes, { helper: 'perl', perl: path.join(dir, 'no-perl-here') });
    const rs = await Promise.all([plain.run(sh('echo one'), never()), plain.run(sh('echo two; exit 1'), never())]);
    assert.equal(rs, [
      { exitCode: 0, signal: null, output: 'one\n' },
      { exitCode: 1, signal: null, output: 'two\n' },
    ]);
    assert.equal((await plain.run(sh('echo three'), never())).output, 'three\n');
    plain.close();
  });

  const outputDirs = () => new Set(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('kpipe-output-')));

  test('where no output file can be written ($TMPDIR full, gone or read-only), Node runs the command', async () => {
    const before = outputDirs();
    await runner.run(sh('true'), never());
    const ours = [...outputDirs()].filter((n) => !before.has(n));
    assert.is(ours.length, 1);
    fs.rmSync(path.join(os.tmpdir(), ours[0]!), { recursive: true });
    assert.equal(await runner.run(sh('echo through node >&2; exit 4'), never()), { exitCode: 4, signal: null, output: 'through node\n' });
    assert.equal(await runner.run(sh('echo and after'), never()), { exitCode: 0, signal: null, output: 'and after\n' });
    await withEnv('TMPDIR', path.join(dir, 'no-such-dir'), async () => {
      const fresh = new SpawnHelperRunner(notes, { helper });
      try {
        assert.equal(await fresh.run(sh('echo no temporary directory at all'), never()), { exitCode: 0, signal: null, output: 'no temporary directory at all\n' });
      } finally {
        fresh.close();
      }
    });
  });

  test('a helper that dies stops the command it ran, fails it with a reason, and later commands still run', async () => {
    const pidFile = path.join(dir, 'pid');
    const running = runner.run(sh(`echo $PPID > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; sleep 60`), never());
    while (!fs.existsSync(pidFile)) await new Promise((r) => setTimeout(r, 10));
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL'); // the command's parent is the helper
    const r = await running;
    assert.match(r.spawnError ?? '', /spawn helper ended while the command ran/);
    assert.equal(await runner.run(sh('echo after'), never()), { exitCode: 0, signal: null, output: 'after\n' });
  });

  test('a helper that dies after kpipe already turned to Node for new commands still ends the one it ran', async () => {
    const pidFile = path.join(dir, 'pid');
    const before = outputDirs();
    const running = runner.run(sh(`echo $PPID > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; sleep 60`), never());
    while (!fs.existsSync(pidFile)) await new Promise((r) => setTimeout(r, 10));
    for (const d of [...outputDirs()].filter((n) => !before.has(n))) fs.rmSync(path.join(os.tmpdir(), d), { recursive: true });
    assert.equal((await runner.run(sh('echo via node'), never())).output, 'via node\n', 'no output file: Node ran it');
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
    const hung: RunOutcome = { exitCode: null, signal: null, output: '', spawnError: 'hung' };
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([running, new Promise<RunOutcome>((res) => (timer = setTimeout(() => res(hung), 5000)))]);
    clearTimeout(timer);
    assert.match(r.spawnError ?? '', /spawn helper ended while the command ran/, 'the command the dead helper ran is ended');
  });

  test('closing the helper removes its output directory; a later command starts a new one', async () => {
    runner.close();
    const before = outputDirs();
    await runner.run(sh('echo x >&2'), never());
    const ours = [...outputDirs()].filter((n) => !before.has(n));
    assert.is(ours.length, 1);
    runner.close();
    assert.not.ok(outputDirs().has(ours[0]!));
    assert.equal(await runner.run(sh('echo y >&2'), never()), { exitCode: 0, signal: null, output: 'y\n' });
  });
  test.run();
}
