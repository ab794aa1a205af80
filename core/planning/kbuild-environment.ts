// The environment as kbuild sees it: what make is given, less the variables a shell or terminal
// changes that kbuild never reads. Two runs with the same kbuild environment give make the same
// inputs from the environment; any other difference (KCFLAGS, LLVM, PATH, KBUILD_BUILD_TIMESTAMP, ...)
// may change what it builds. Used by the toolchain cache (core/planning/toolchain.ts) and by the check
// that a delegated step is current without asking make (core/state/kbuild-inputs.ts), as is the
// lookup of a tool on that environment's PATH (both watch the compiler's executable).
import fs from 'node:fs';
import path from 'node:path';

/**
 * Shell, terminal, session and desktop variables that differ between two terminals (a new tmux pane,
 * an editor's built-in terminal, an ssh login) but that kbuild never reads: none of these names
 * occurs in the Makefiles, Kbuild files, Kconfig or build scripts of 6.1, 6.12 or 7.2. Left in,
 * each would make a new terminal's first no-op read the toolchain through make again and relink
 * vmlinux (the delegated commands' environment changed). Any other variable still counts: a
 * Makefile may read any name from the environment.
 */
const VOLATILE = new Set([
  '_', 'PWD', 'OLDPWD', 'SHLVL', 'TERM', 'COLUMNS', 'LINES', 'COLORTERM', 'VTE_VERSION', 'TERMINAL_EMULATOR',
  'SSH_CLIENT', 'SSH_CONNECTION', 'SSH_TTY', 'SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'SSH_ASKPASS', 'GIT_ASKPASS', 'GPG_TTY',
  'TMUX', 'TMUX_PANE', 'STY', 'WINDOW', 'WINDOWID', 'DISPLAY', 'WAYLAND_DISPLAY', 'XAUTHORITY', 'DBUS_SESSION_BUS_ADDRESS',
  'XDG_VTNR', 'XDG_SEAT', 'INVOCATION_ID', 'JOURNAL_STREAM', 'MANAGERPID', 'SYSTEMD_EXEC_PID',
  'HISTFILE', 'HISTSIZE', 'HISTFILESIZE', 'HISTCONTROL', 'PROMPT_COMMAND', 'LS_COLORS', 'LESSOPEN', 'LESSCLOSE',
]);
/** The same, by family: each terminal or editor sets several, some per window. */
const VOLATILE_PREFIXES = ['TERM_', 'LC_TERMINAL', 'XDG_SESSION_', 'VSCODE_', 'KONSOLE_', 'GNOME_TERMINAL_', 'ITERM_', 'KITTY_', 'ALACRITTY_', 'WEZTERM_', 'WT_', 'ZELLIJ'];

const isVolatile = (name: string) => VOLATILE.has(name) || VOLATILE_PREFIXES.some((p) => name.startsWith(p));

/** The variables that count, sorted by name. */
export function kbuildEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(env).sort()) {
    const v = env[k];
    if (v !== undefined && !isVolatile(k)) out[k] = v;
  }
  return out;
}

/**
 * The file make's shell runs for a tool word (`gcc`, `x86_64-linux-gnu-ld`, `./scripts/x`): the first
 * PATH entry holding it, or the word itself, from `cwd`, when it has a slash. Undefined when none.
 */
export function findExecutable(word: string, searchPath: string, cwd: string): string | undefined {
  const candidates = word.includes('/') ? [path.resolve(cwd, word)] : searchPath.split(':').filter((d) => d !== '').map((d) => path.resolve(d, word));
  return candidates.find((c) => fs.statSync(c, { throwIfNoEntry: false })?.isFile());
}
