// What a run prints while it runs. In a terminal: an ora spinner with `[done/total]` and the steps
// running now, tool output printed above it. Elsewhere (CI, a pipe, NO_COLOR, TERM=dumb): kbuild's
// quiet lines, one per command (`  LD      vmlinux`). `-v` prints each full command like `make V=1`;
// `-q` prints no progress at all. Tool output (warnings) is printed in every mode, whole, after its
// command ends, so parallel commands never interleave within a line.
import type { Writable } from 'node:stream';
import type { Ora } from 'ora';
import type { Command, Step } from '../planning/step.js';
import { quietLine, stepLabel } from '../planning/step.js';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

export interface Progress {
  start(total: number): void;
  /** A command is about to run; `display` is its shell-quoted command line for `-v`. */
  command(step: Step, command: Command, display: string): void;
  /** Output a finished command produced. */
  output(text: string): void;
  stepStarted(step: Step): void;
  /** Counted for `[done/total]` whether the step ran or was up to date. */
  stepDone(step: Step): void;
  /** Steps counted done are to be decided again (a failed prediction, core/running/speculation.ts). */
  stepsAgain(count: number): void;
  /** A line that is not about one step (waiting for a lock, ...). */
  note(text: string): void;
  finish(summary: string, ok: boolean): void;
}

export interface ProgressOptions {
  out: Writable;
  verbosity: Verbosity;
  /** Force the spinner on or off; by default on when `out` is a terminal that can take it. */
  interactive?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Async because ora (and its dependencies) load only when a spinner is shown: a third of startup. */
export async function createProgress(opts: ProgressOptions): Promise<Progress> {
  const env = opts.env ?? process.env;
  const tty = opts.out as { isTTY?: boolean; columns?: number };
  // A terminal reporting no width (a bare pty) makes ora's redraw arithmetic loop: use lines there.
  const interactive =
    opts.interactive ?? (tty.isTTY === true && (tty.columns ?? 0) > 0 && env.NO_COLOR === undefined && !env.CI && env.TERM !== 'dumb');
  if (opts.verbosity === 'quiet') return new LineProgress(opts.out, 'quiet');
  if (!interactive) return new LineProgress(opts.out, opts.verbosity);
  const { default: ora } = await import('ora');
  return new SpinnerProgress(ora({ stream: opts.out as NodeJS.WritableStream, discardStdin: false, isEnabled: true }), opts.out, opts.verbosity);
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** kbuild's quiet lines (or `-v` command lines), one per command, as the commands start. */
export class LineProgress implements Progress {
  constructor(
    private readonly out: Writable,
    private readonly verbosity: Verbosity,
  ) {}
  start(): void {}
  command(_step: Step, command: Command, display: string): void {
    if (this.verbosity === 'verbose') this.out.write(`${display}\n`);
    else if (this.verbosity === 'normal' && command.label) this.out.write(`${quietLine(command.label)}\n`);
  }
  output(text: string): void {
    if (text !== '') this.out.write(ensureNewline(text));
  }
  stepStarted(): void {}
  stepDone(): void {}
  stepsAgain(): void {}
  note(text: string): void {
    if (this.verbosity !== 'quiet') this.out.write(ensureNewline(text));
  }
  finish(): void {}
}

/** The terminal view: one spinner line, re-rendered at most every 80 ms. */
export class SpinnerProgress implements Progress {
  private total = 0;
  private done = 0;
  private readonly running = new Map<Step, string>();
  private lastRender = 0;

  constructor(
    private readonly spinner: Ora,
    private readonly out: Writable,
    private readonly verbosity: Verbosity,
  ) {}
  start(total: number): void {
    this.total = total;
    this.spinner.start(this.text());
  }
  command(step: Step, command: Command, display: string): void {
    if (command.label) this.running.set(step, `${command.label.tag} ${command.label.target}`);
    if (this.verbosity === 'verbose') this.out.write(`${display}\n`);
    this.update(true);
  }
  output(text: string): void {
    if (text !== '') this.out.write(ensureNewline(text)); // ora clears and redraws around it
  }
  stepStarted(step: Step): void {
    const label = stepLabel(step);
    this.running.set(step, `${label.tag} ${label.target}`);
    this.update(true);
  }
  stepDone(step: Step): void {
    this.done++;
    this.running.delete(step);
    this.update(false);
  }
  stepsAgain(count: number): void {
    this.done = Math.max(0, this.done - count);
  }
  note(text: string): void {
    this.out.write(ensureNewline(text));
  }
  finish(summary: string, ok: boolean): void {
    this.spinner.text = summary;
    if (ok) this.spinner.succeed(summary);
    else this.spinner.fail(summary);
  }
  private update(now: boolean): void {
    const t = Date.now();
    if (!now && t - this.lastRender < 80) return;
    this.lastRender = t;
    this.spinner.text = this.text();
  }
  private text(): string {
    const names = [...this.running.values()];
    const shown = names.slice(0, 3).join(', ');
    const more = names.length > 3 ? ` (+${names.length - 3} more)` : '';
    return `[${this.done}/${this.total}] ${shown}${more}`;
  }
}
