// SIGINT and SIGTERM as an AbortSignal for runSteps: the first signal asks the run to stop its
// children and remove its temporaries; the run then returns and the CLI exits 130 (SIGINT) or 143
// (SIGTERM), the shell's 128 + signal number. A second signal while cleaning up exits at once.

export interface Interruption {
  signal: AbortSignal;
  /** Removes the handlers (call when the run is over). */
  dispose(): void;
}

export const EXIT_CODE_FOR_SIGNAL: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export function interruptOnSignals(signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']): Interruption {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT_CODE_FOR_SIGNAL[sig] ?? 1);
    controller.abort(sig);
  };
  for (const s of signals) process.on(s, handler);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of signals) process.off(s, handler);
    },
  };
}
