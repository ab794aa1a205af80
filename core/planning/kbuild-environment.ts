// The environment as kbuild sees it: what make is given, less the variables a shell or terminal
// changes that kbuild never reads. Two runs with the same kbuild environment give make the same
// inputs from the environment; any other difference (KCFLAGS, LLVM, PATH, KBUILD_BUILD_TIMESTAMP, ...)
// may change what it builds. Used by the toolchain cache (core/planning/toolchain.ts) and by the check
// that a delegated step is current without asking make (core/state/kbuild-inputs.ts), as is the
// lookup of a tool on that environment's PATH (both watch the compiler's executable).
import fs from 'node:fs';
import path from 'node:path';

/** Shell and session variables that differ between two terminals but that kbuild never reads. */
const VOLATILE = new Set(['_', 'PWD', 'OLDPWD', 'SHLVL', 'TERM', 'COLUMNS', 'LINES', 'SSH_CLIENT', 'SSH_CONNECTION', 'SSH_TTY', 'SSH_AUTH_SOCK', 'TMUX', 'TMUX_PANE', 'STY', 'WINDOW', 'WINDOWID', 'DISPLAY']);

/** The variables that count, sorted by name. */
export function kbuildEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(env).sort()) {
    const v = env[k];
    if (v !== undefined && !VOLATILE.has(k)) out[k] = v;
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
