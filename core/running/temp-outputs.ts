// Principle 1: a step writes every output under a temporary name in the output's own directory and
// renames it into place only after all its commands succeeded. This file is the one place that knows
// the temporary names and which words of a command refer to an output:
//   - an argv word equal to an output path (`vmlinux`, `./vmlinux`, `/abs/objtree/vmlinux`),
//   - an argv word ending in `=` + an output path (`-Map=vmlinux.map`, `.BTF=x.bin`),
//   - an exec command's `stdout` and `inPlace` fields, and a builtin's paths (through resolve()).
import path from 'node:path';
import { absolutePath } from '../paths.js';
import { canonicalFast as canonicalPath } from '../canonical-fast.js';

/** Temporary names start with this; the original name follows, so tools still see its extension. */
export const TEMP_PREFIX = '.kpipe-tmp-';

/**
 * `dir/.kpipe-tmp-TAG.base` for the canonical output `dir/base`. TAG is unique per run: a tool left
 * running by a killed kpipe can never write into the temporary of a later run.
 */
export function tempPath(canonicalOutput: string, tag: string): string {
  const slash = canonicalOutput.lastIndexOf('/');
  const dir = canonicalOutput.slice(0, slash + 1);
  return `${dir}${TEMP_PREFIX}${tag}.${canonicalOutput.slice(slash + 1)}`;
}

/** The output name a directory entry is a temporary of (any run), or undefined: for stray clean-up. */
export function tempBase(entry: string): string | undefined {
  if (!entry.startsWith(TEMP_PREFIX)) return undefined;
  const dot = entry.indexOf('.', TEMP_PREFIX.length);
  if (dot < 0 || dot === entry.length - 1 || !/^[0-9a-z]+$/.test(entry.slice(TEMP_PREFIX.length, dot))) return undefined;
  return entry.slice(dot + 1);
}

export interface OutputRef {
  /** The part of the word kept as is (`-Map=`), empty for a whole-word reference. */
  head: string;
  /** The canonical output the rest of the word names. */
  output: string;
}

/**
 * Which output, if any, an argv word names. `cwd` is the absolute directory the command runs in:
 * relative words are relative to it, while outputs are canonical (relative to objtree).
 */
export function outputReferencedBy(
  word: string,
  outputs: ReadonlySet<string>,
  basenames: readonly string[],
  cwd: string,
  objtree: string,
): OutputRef | undefined {
  if (!basenames.some((b) => word.endsWith(b))) return undefined;
  const canon = (p: string) => (cwd === objtree ? canonicalPath(p, objtree) : canonicalPath(path.resolve(cwd, p), objtree));
  if (outputs.has(canon(word))) return { head: '', output: canon(word) };
  for (let k = word.indexOf('='); k >= 0; k = word.indexOf('=', k + 1)) {
    const tail = word.slice(k + 1);
    if (tail !== '' && outputs.has(canon(tail))) return { head: word.slice(0, k + 1), output: canon(tail) };
  }
  return undefined;
}

/** Redirects one step's outputs to temporaries; built per run of the step. */
export class TempOutputs {
  readonly outputs: ReadonlySet<string>;
  private readonly basenames: string[];
  /** canonical output -> canonical temporary */
  readonly temps = new Map<string, string>();

  constructor(
    outputs: readonly string[],
    private readonly objtree: string,
    tag: string,
  ) {
    this.outputs = new Set(outputs);
    this.basenames = [...new Set(outputs.map((o) => path.basename(o)))];
    for (const o of outputs) this.temps.set(o, tempPath(o, tag));
  }

  /** Absolute path of the temporary standing for canonical output `output`. */
  tempAbsolute(output: string): string {
    return absolutePath(this.temps.get(output)!, this.objtree);
  }

  /** The argv with every reference to an output pointing at its temporary. */
  substitute(argv: readonly string[], cwd: string): string[] {
    return argv.map((word) => {
      const ref = outputReferencedBy(word, this.outputs, this.basenames, cwd, this.objtree);
      if (!ref) return word;
      const temp = this.temps.get(ref.output)!;
      const spelled = cwd === this.objtree && !path.isAbsolute(word.slice(ref.head.length)) ? temp : absolutePath(temp, this.objtree);
      return ref.head + spelled;
    });
  }

  /** Temp-aware absolute path for any path (relative to objtree): what builtins read and write. */
  resolve(p: string): string {
    const c = canonicalPath(p, this.objtree);
    return this.temps.has(c) ? this.tempAbsolute(c) : absolutePath(c, this.objtree);
  }
}
