// A command runner that asks a small helper process to start the commands, as ninja's posix_spawn
// would. Node's own `spawn` forks the whole kpipe process on the main thread: 2-4 ms of CPU per
// command once the plan and the state are loaded (150 MB), which at distribution scale (16,500 module
// commands) is most of a full build. The helper is C when this machine can compile it
// (spawn-helper.c, native-helper.ts: posix_spawn, ~0.3 ms of CPU a command), else a few kilobytes of
// Perl below (perl-base is Essential on Debian), which forks a 5 MB process instead (measured on a
// slow VM: 7-10 ms of CPU a command, child included, more than Node's spawn). Both start each
// command in a process group of its own, in its directory, with its whole environment and no shell,
// and report `S id pid` once it started, then `E id status size` when the command ended, or
// `F id reason` when the program could not start. A command's standard error (and output, when not
// redirected to a file) goes to a file the runner reads after the end, capped as the spawn runner caps it.
//
// The helper also writes and removes the process notes of orphans.ts (off kpipe's main thread; the
// Perl one before the program runs, the C one as soon as posix_spawn returns, as Node's spawn does);
// kills of a command's group on an interruption or a timeout stay kpipe's.
// When kpipe dies (kill -9), the helper's input closes: it sends SIGTERM to every group still running
// and removes the output files; the notes let the next run make sure. Without a helper, or if the
// helper dies, commands are spawned by Node (SpawnRunner) as before: a command whose end the dead
// helper never reported is killed and fails.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import type { ProcessNotes } from './orphans.js';
import { nativeHelper } from './native-helper.js';
import type { CommandRunner, RunOutcome, RunRequest } from './runner.js';
import { CappedOutput, OUTPUT_LIMIT, SpawnRunner, killGroup, spawnErrorText, stopGroup } from './runner.js';

// The helper. Requests arrive on stdin as `LENGTH\n` then LENGTH bytes of NUL-separated fields:
//   E envid VAR=VALUE...                     an environment, sent once, used by later requests
//   R id envid cwd stdout-file output-file argv...   start a command (stdout-file empty: capture)
// Perl marks every descriptor above 2 close-on-exec, so a command inherits only 0, 1 and 2; the
// status pipe tells an exec failure (errno) from a started program (end of file).
const HELPER = String.raw`
use strict; use warnings; use POSIX (); use Fcntl;
binmode STDIN; binmode STDOUT; $| = 1;
pipe(my $wake_r, my $wake_w) or die "pipe: $!";
fcntl($wake_w, F_SETFL, O_NONBLOCK);
$SIG{CHLD} = sub { syswrite($wake_w, "x") };
# A dead kpipe must not kill the helper at its next report: it still has to stop the commands. A
# handler, not IGNORE: an ignored signal would stay ignored in the programs.
$SIG{PIPE} = sub {};
my ($notes, $outputs) = @ARGV;
mkdir $notes if $notes ne '';
my (%live, %env, $buf);
$buf = '';
my $env_now = '';
open(my $null, '<', '/dev/null') or die "/dev/null: $!";
sub start {
  my ($id, $envid, $cwd, $stdout, $output, @argv) = @_;
  # Everything that allocates is done here, before the fork: a forked Perl that runs Perl code
  # copies every page it writes, and on a slow VM those faults cost more than the exec (measured:
  # 7-8 ms a command with the files, environment and note made in the child, 4-5 ms made here).
  open(my $err, '>', $output) or do { print "F $id 0 cannot write $output: $!\n"; return };
  my $out = $err;
  if ($stdout ne '') {
    open(my $file, '>', $stdout) or do { my $e = "$!"; close $err; unlink $output; print "F $id 0 cannot write $stdout: $e\n"; return };
    $out = $file;
  }
  if ($envid ne $env_now) { %ENV = %{ $env{$envid} }; $env_now = $envid }
  # Nothing started: the files opened above are let go.
  my $refuse = sub { close $err; close $out; print "F $id 0 $_[0]\n" };
  pipe(my $st_r, my $st_w) or return $refuse->("pipe: $!");
  # The program waits for its note: a helper killed between the fork and the note leaves nothing running.
  pipe(my $go_r, my $go_w) or return $refuse->("pipe: $!");
  my $pid = fork;
  return $refuse->("fork: $!") if !defined $pid;
  if ($pid == 0) {
    # As little Perl as can be: every page the child writes is copied. The signal handlers need no
    # reset (exec resets a handled signal; SIGPIPE is handled, not ignored, for that reason).
    close $go_w; # or a dead helper would never be seen below
    POSIX::setpgid(0, 0);
    chdir $cwd or do { syswrite($st_w, "0 cannot enter directory $cwd: $!"); POSIX::_exit(127) };
    POSIX::dup2(fileno($null), 0); POSIX::dup2(fileno($out), 1); POSIX::dup2(fileno($err), 2);
    my $go = '';
    1 while !defined POSIX::read(fileno($go_r), $go, 1) && $!{EINTR};
    POSIX::_exit(127) unless $go eq 'g'; # the helper died before the note
    { no warnings 'exec'; exec { $argv[0] } @argv; }
    syswrite($st_w, (0 + $!) . " $!"); POSIX::_exit(127);
  }
  close $st_w; close $go_r; close $err; close $out;
  # Both set the group, so that a kill of it right after S cannot come before the child's own setpgid.
  POSIX::setpgid($pid, $pid);
  note_started($pid) if $notes ne '';
  syswrite($go_w, 'g'); close $go_w;
  # Whether exec worked is read once the command ended (the child wrote before it exited): the helper
  # does not wait for the exec, and starts the next command at once.
  $live{$pid} = [$id, $output, $st_r];
  print "S $id $pid\n";
}
# orphans.ts: .kpipe/running/PGID holds the leader's start time (field 22 of /proc/PID/stat), written
# before the program runs and removed once it ended, so a run after a kill -9 of kpipe finds it.
sub note_started {
  my ($pid) = @_;
  open(my $s, '<', "/proc/$pid/stat") or return;
  my $stat = <$s>; close $s;
  my @f = split / /, substr($stat, rindex($stat, ')') + 2);
  open(my $n, '>', "$notes/$pid") or return;
  print $n ($f[19] // ''), "\n"; close $n;
}
# The output file is left for the runner only when the command wrote to it.
sub ended {
  my ($pid, $output) = @_;
  unlink "$notes/$pid" if $notes ne '';
  my $size = -s $output;
  unlink $output unless $size;
  return $size // 0;
}
sub request {
  my @f = split /\0/, $_[0], -1;
  my $kind = shift @f;
  if ($kind eq 'E') { my $envid = shift @f; my %e; for (@f) { my ($k, $v) = split /=/, $_, 2; $e{$k} = $v } $env{$envid} = \%e }
  elsif ($kind eq 'R') { start(@f) }
}
while (1) {
  my $rin = ''; vec($rin, fileno(STDIN), 1) = 1; vec($rin, fileno($wake_r), 1) = 1;
  # Perl runs a signal handler between ops, so a SIGCHLD that lands just before select blocks wakes
  # nobody: while a command runs, look for ended ones every 10 ms anyway (seen once in 16,500 commands).
  my $n = select(my $rout = $rin, undef, undef, %live ? 0.01 : undef);
  if ($n > 0 && vec($rout, fileno($wake_r), 1)) { sysread($wake_r, my $x, 4096) }
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $status = $?;
    my $cmd = delete $live{$pid} or next;
    my ($id, $output, $st_r) = @$cmd;
    my $msg = '';
    while (1) { my $n = sysread($st_r, $msg, 4096, length $msg); last if defined $n && $n == 0; next if !defined $n && $!{EINTR}; last if !defined $n; }
    close $st_r;
    my $size = ended($pid, $output);
    if ($msg ne '') { $msg =~ tr/\n/ /; print "F $id $msg\n" } else { print "E $id $status $size\n" }
  }
  next unless $n > 0 && vec($rout, fileno(STDIN), 1);
  my $r = sysread(STDIN, $buf, 1 << 16, length $buf);
  next if !defined $r && $!{EINTR};
  if (!$r) { kill 'TERM', -$_ for keys %live; unlink glob("$outputs/*"); rmdir $outputs; exit 0 }
  while ($buf =~ /^(\d+)\n/) {
    my $need = length($1) + 1 + $1;
    last if length($buf) < $need;
    request(substr($buf, length($1) + 1, $1));
    substr($buf, 0, $need) = '';
  }
}
`;

interface Pending {
  request: RunRequest;
  signal: AbortSignal;
  resolve: (o: RunOutcome) => void;
  outputFile: string;
  pid?: number;
  killTimer?: NodeJS.Timeout;
  onAbort: () => void;
}

export class SpawnHelperRunner implements CommandRunner {
  private helper: ChildProcess | undefined;
  private broken = false;
  private readonly fallback: SpawnRunner;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private readonly envIds = new WeakMap<object, number>();
  private nextEnvId = 0;
  private outputDir: string | undefined;
  private lineBuffer = '';

  /**
   * `helper`: 'c' for the compiled helper when this machine can have one (native-helper.ts), else the
   * Perl one; 'perl' for the Perl one only. `perl`: its interpreter (tests point it elsewhere to see
   * the fallback to Node).
   */
  constructor(
    private readonly notes?: ProcessNotes,
    private readonly opts: { helper?: 'c' | 'perl'; perl?: string } = {},
  ) {
    this.fallback = new SpawnRunner(notes);
  }

  run(request: RunRequest, signal: AbortSignal): Promise<RunOutcome> {
    if (this.broken || signal.aborted) return this.fallback.run(request, signal);
    const helper = this.helper ?? this.startHelper();
    if (!helper) return this.fallback.run(request, signal);
    return new Promise((resolve) => {
      const id = this.nextId++;
      const outputFile = path.join(this.outputDir!, String(id));
      const entry: Pending = {
        request,
        signal,
        resolve,
        outputFile,
        onAbort: () => {
          // Before its pid is known, the command is stopped as soon as it starts (see started).
          if (entry.pid !== undefined) entry.killTimer = stopGroup(entry.pid);
        },
      };
      this.pending.set(id, entry);
      signal.addEventListener('abort', entry.onAbort, { once: true });
      if (this.pending.size === 1) this.reference(true);
      const envId = this.envId(request.env);
      this.send(['R', String(id), String(envId), request.cwd, request.stdoutFile ?? '', outputFile, ...request.argv]);
    });
  }

  /** Lets the helper go (it exits when its input closes); later commands start a new one. */
  close(): void {
    const helper = this.helper;
    this.helper = undefined;
    if (helper && this.pending.size === 0) {
      helper.removeAllListeners('exit');
      helper.removeAllListeners('error');
    }
    helper?.stdin?.end();
    if (this.outputDir !== undefined && this.pending.size === 0) {
      outputDirs.remove(this.outputDir);
      this.outputDir = undefined;
    }
  }

  private startHelper(): ChildProcess | undefined {
    try {
      this.outputDir ??= outputDirs.make();
    } catch {
      this.broken = true;
      return undefined;
    }
    const native = this.opts.helper === 'perl' ? undefined : nativeHelper();
    const [program, script] = native ? [native, []] : [this.opts.perl ?? 'perl', ['-e', HELPER]];
    const helper = spawn(program, [...script, this.notes?.dir ?? '', this.outputDir], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    this.helper = helper;
    helper.stdout!.setEncoding('latin1');
    helper.stdout!.on('data', (chunk: string) => this.received(chunk));
    helper.stdin!.on('error', () => {}); // a dead helper is handled by 'exit'
    helper.on('error', () => this.lost(helper));
    helper.on('exit', () => this.lost(helper));
    this.reference(false);
    return helper;
  }

  /** The helper keeps Node's event loop alive only while a command is out. */
  private reference(on: boolean): void {
    const h = this.helper;
    if (!h) return;
    for (const handle of [h, h.stdout as Socket | null, h.stdin as Socket | null]) {
      if (!handle) continue;
      if (on) handle.ref();
      else handle.unref();
    }
  }

  private envId(env: NodeJS.ProcessEnv): number {
    const known = this.envIds.get(env);
    if (known !== undefined) return known;
    const id = this.nextEnvId++;
    this.envIds.set(env, id);
    const vars: string[] = [];
    for (const [k, v] of Object.entries(env)) if (v !== undefined) vars.push(`${k}=${v}`);
    this.send(['E', String(id), ...vars]);
    return id;
  }

  private send(fields: string[]): void {
    const payload = Buffer.from(fields.join('\0'), 'utf8');
    this.helper!.stdin!.write(Buffer.concat([Buffer.from(`${payload.length}\n`), payload]));
  }

  private received(chunk: string): void {
    this.lineBuffer += chunk;
    let nl: number;
    while ((nl = this.lineBuffer.indexOf('\n')) >= 0) {
      const line = this.lineBuffer.slice(0, nl);
      this.lineBuffer = this.lineBuffer.slice(nl + 1);
      const space = line.indexOf(' ', 2);
      const id = Number(line.slice(2, space < 0 ? undefined : space));
      const rest = space < 0 ? '' : line.slice(space + 1);
      const entry = this.pending.get(id);
      if (!entry) continue;
      if (line[0] === 'S') this.started(entry, Number(rest));
      else if (line[0] === 'E') this.ended(id, entry, rest);
      else if (line[0] === 'F') this.failedToStart(id, entry, Buffer.from(rest, 'latin1').toString('utf8'));
    }
  }

  private started(entry: Pending, pid: number): void {
    entry.pid = pid; // the helper noted it (and removes the note when it ends)
    if (entry.signal.aborted) entry.onAbort();
  }

  /** `STATUS SIZE`: the wait status, and how much the command wrote to its output file. */
  private ended(id: number, entry: Pending, rest: string): void {
    const [status, size] = rest.split(' ').map(Number) as [number, number];
    const sig = status & 0x7f;
    const signal = sig === 0 ? null : (Object.entries(os.constants.signals).find(([, n]) => n === sig)?.[0] as NodeJS.Signals | undefined) ?? 'SIGKILL';
    this.finish(id, entry, { exitCode: sig === 0 ? status >> 8 : null, signal, output: size > 0 ? takeOutput(entry.outputFile) : '' });
  }

  private failedToStart(id: number, entry: Pending, reason: string): void {
    // `ERRNO text` from exec (ENOENT, EACCES as Node would report them), `0 text` from the helper.
    const space = reason.indexOf(' ');
    const errno = Number(reason.slice(0, space));
    const text = reason.slice(space + 1);
    if (text.startsWith(`cannot write ${entry.outputFile}:`)) {
      // Nothing ran: $TMPDIR is full or read-only. Node's spawn needs no file for the output.
      this.broken = true;
      this.handOver(id, entry);
      return;
    }
    const code = errno === os.constants.errno.ENOENT ? 'ENOENT' : errno === os.constants.errno.EACCES ? 'EACCES' : undefined;
    const spawnError = errno === 0 ? text : spawnErrorText(entry.request.argv[0]!, code, text);
    this.finish(id, entry, { exitCode: null, signal: null, output: takeOutput(entry.outputFile), spawnError });
  }

  private finish(id: number, entry: Pending, outcome: RunOutcome): void {
    this.pending.delete(id);
    entry.signal.removeEventListener('abort', entry.onAbort);
    if (entry.killTimer) clearTimeout(entry.killTimer);
    // The leader is gone; make sure nothing it started keeps running after an interruption.
    if (entry.pid !== undefined && entry.signal.aborted) killGroup(entry.pid, 'SIGKILL');
    if (this.pending.size === 0) this.reference(false);
    entry.resolve(outcome);
  }

  /** A command the helper did not start runs through Node's spawn instead. */
  private handOver(id: number, entry: Pending): void {
    this.pending.delete(id);
    entry.signal.removeEventListener('abort', entry.onAbort);
    if (this.pending.size === 0) this.reference(false);
    void this.fallback.run(entry.request, entry.signal).then(entry.resolve);
  }

  /** The helper is gone (or never started): what it had not started runs through Node instead. */
  private lost(helper: ChildProcess): void {
    if (this.helper === helper) this.helper = undefined;
    // Called for 'error' and 'exit' alike; the second call finds nothing pending. Not skipped when
    // kpipe already turned to Node (broken): the helper may still have been running a command.
    this.broken = true;
    for (const [id, entry] of [...this.pending]) {
      if (entry.pid === undefined) this.handOver(id, entry);
      else {
        killGroup(entry.pid, 'SIGKILL');
        this.notes?.ended(entry.pid);
        this.finish(id, entry, { exitCode: null, signal: null, output: takeOutput(entry.outputFile), spawnError: "kpipe's spawn helper ended while the command ran; it was stopped" });
      }
    }
  }
}

/** The runners' output directories; an interrupted kpipe exits with commands out, and they go with it. */
const outputDirs = {
  live: new Set<string>(),
  hooked: false,
  make(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-output-'));
    if (!this.hooked) process.once('exit', () => this.live.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    this.hooked = true;
    this.live.add(dir);
    return dir;
  },
  remove(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
    this.live.delete(dir);
  },
};

/** Reads a command's output file (head and tail when it is long) and removes it. */
function takeOutput(file: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    fs.unlinkSync(file);
    const size = fs.fstatSync(fd).size;
    if (size === 0) return '';
    const capped = new CappedOutput(OUTPUT_LIMIT);
    if (size <= OUTPUT_LIMIT) {
      const b = Buffer.alloc(size);
      fs.readSync(fd, b, 0, size, 0);
      capped.add(b);
    } else {
      // Only the head and the tail are kept: read those, not the middle of a huge log.
      const half = OUTPUT_LIMIT / 2;
      const head = Buffer.alloc(half);
      fs.readSync(fd, head, 0, half, 0);
      const tail = Buffer.alloc(half);
      fs.readSync(fd, tail, 0, half, size - half);
      capped.add(head);
      capped.skip(size - 2 * half);
      capped.add(tail);
    }
    return capped.text();
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The runner `kpipe run` uses: the compiled helper, unless `KPIPE_SPAWN=perl` asks for the Perl one or
 * `KPIPE_SPAWN=node` for Node's own spawn.
 */
export function defaultRunner(notes?: ProcessNotes): CommandRunner {
  const how = process.env.KPIPE_SPAWN;
  return how === 'node' ? new SpawnRunner(notes) : new SpawnHelperRunner(notes, { helper: how === 'perl' ? 'perl' : 'c' });
}
