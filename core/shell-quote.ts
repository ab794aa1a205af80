// Commands are argv arrays and are never run through a shell (principle 4). They are shown as shell
// text only for people (`-v`, failure reports) and for the ninja export, so the quoting must be exact
// POSIX sh: what is printed can be pasted back into a terminal.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One word for a POSIX shell: unchanged when safe, else single-quoted with `'\''` for quotes. */
export function shellQuote(word: string, alwaysQuote = false): string {
  if (!alwaysQuote && word !== '' && SAFE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command line; a first word containing `=` is quoted so sh does not take it for an assignment. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map((word, i) => shellQuote(word, i === 0 && word.includes('='))).join(' ');
}
