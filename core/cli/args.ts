// Command-line parsing, kbuild-flavoured: `-C DIR` or `O=DIR` for the output tree, `-j N`, `V=1`
// (same as -v), and `VAR=value` words (ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu-) passed on to every
// make call, as kbuild takes them.
import { parseArgs } from 'node:util';
import { error, KpipeError } from '../diagnostic.js';
import type { CacheFlags } from '../cache/cache-config.js';
import { suggest } from '../suggest.js';

export interface CliArgs {
  command: string;
  /** Words after the command that are not options or assignments (targets, builtin args). */
  positionals: string[];
  objtree?: string;
  profile?: string;
  sets: string[];
  pipeline?: string;
  skip: string[];
  format: 'text' | 'json' | 'dot' | 'svg';
  why: boolean;
  verbose: boolean;
  quiet: boolean;
  jobs?: number;
  keepGoing: boolean;
  /** run: `--step-timeout SECONDS`. */
  stepTimeout?: number;
  output?: string;
  /** install, verify-modules: the install root (kbuild's INSTALL_MOD_PATH). */
  modPath?: string;
  /** verify-modules: the vmlinux whose .module_hashes to check against (default DIR/vmlinux). */
  vmlinux?: string;
  /** clean: remove the compile phase's outputs too. */
  compile: boolean;
  /** run, explain: the BTF module BTF is based on when the plan has none (external modules). */
  btfBase?: string;
  help: boolean;
  version: boolean;
  /** `VAR=value` words from the command line, for the environment of make and the tools. */
  assignments: Record<string, string>;
  /** run, explain --why, cache: the step cache options (core/cache/cache-config.ts). */
  cache: CacheFlags;
}

const OPTIONS = {
  directory: { type: 'string', short: 'C' },
  profile: { type: 'string' },
  set: { type: 'string', multiple: true },
  pipeline: { type: 'string' },
  skip: { type: 'string', multiple: true },
  format: { type: 'string' },
  why: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  quiet: { type: 'boolean', short: 'q' },
  jobs: { type: 'string', short: 'j' },
  'keep-going': { type: 'boolean', short: 'k' },
  'step-timeout': { type: 'string' },
  output: { type: 'string', short: 'o' },
  'mod-path': { type: 'string' },
  vmlinux: { type: 'string' },
  'btf-base': { type: 'string' },
  cache: { type: 'boolean' },
  'no-cache': { type: 'boolean' },
  'cache-dir': { type: 'string' },
  'cache-max-size': { type: 'string' },
  'remote-cache': { type: 'string' },
  'remote-cache-mode': { type: 'string' },
  'remote-header': { type: 'string', multiple: true },
  compile: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

export function parseCli(argv: readonly string[]): CliArgs {
  // `kpipe builtin NAME ARGS...` passes its arguments through untouched (ninja calls it).
  if (argv[0] === 'builtin') {
    return { command: 'builtin', positionals: argv.slice(1), sets: [], skip: [], format: 'text', why: false, verbose: false, quiet: false, keepGoing: false, compile: false, help: false, version: false, assignments: {}, cache: {} };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new KpipeError([optionError(e as Error & { code?: string })]);
  }
  const v = parsed.values;
  const assignments: Record<string, string> = {};
  const positionals: string[] = [];
  for (const word of parsed.positionals) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(word);
    if (m) assignments[m[1]!] = m[2]!;
    else positionals.push(word);
  }
  const command = positionals.shift() ?? (v.version ? 'version' : 'help');
  const format = v.format ?? 'text';
  if (format !== 'text' && format !== 'json' && format !== 'dot' && format !== 'svg') {
    throw new KpipeError([error('usage', `--format must be text, json or dot (graph: dot or svg), not '${format}'`)]);
  }
  let jobs: number | undefined;
  if (v.jobs !== undefined) {
    jobs = Number(v.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new KpipeError([error('usage', `-j expects a positive number, not '${v.jobs}'`)]);
  }
  let stepTimeout: number | undefined;
  if (v['step-timeout'] !== undefined) {
    stepTimeout = Number(v['step-timeout']);
    if (!(stepTimeout > 0) || !Number.isFinite(stepTimeout)) throw new KpipeError([error('usage', `--step-timeout expects a positive number of seconds, not '${v['step-timeout']}'`)]);
  }
  const objtree = v.directory ?? assignments.O;
  delete assignments.O;
  const verbose = v.verbose === true || assignments.V === '1';
  delete assignments.V;
  const args: CliArgs = {
    command,
    positionals,
    sets: v.set ?? [],
    skip: v.skip ?? [],
    format,
    why: v.why === true,
    verbose,
    quiet: v.quiet === true,
    keepGoing: v['keep-going'] === true,
    compile: v.compile === true,
    help: v.help === true || command === 'help',
    version: v.version === true || command === 'version',
    assignments,
    cache: cacheFlags(v),
  };
  if (objtree !== undefined) args.objtree = objtree;
  if (v.profile !== undefined) args.profile = v.profile;
  if (v.pipeline !== undefined) args.pipeline = v.pipeline;
  if (jobs !== undefined) args.jobs = jobs;
  if (stepTimeout !== undefined) args.stepTimeout = stepTimeout;
  if (v.output !== undefined) args.output = v.output;
  if (v['mod-path'] !== undefined) args.modPath = v['mod-path'];
  if (v.vmlinux !== undefined) args.vmlinux = v.vmlinux;
  if (v['btf-base'] !== undefined) args.btfBase = v['btf-base'];
  return args;
}

function cacheFlags(v: { cache?: boolean; 'no-cache'?: boolean; 'cache-dir'?: string; 'cache-max-size'?: string; 'remote-cache'?: string; 'remote-cache-mode'?: string; 'remote-header'?: string[] }): CacheFlags {
  if (v.cache && v['no-cache']) throw new KpipeError([error('usage', '--cache and --no-cache contradict each other')]);
  const flags: CacheFlags = {};
  if (v.cache) flags.cache = true;
  if (v['no-cache']) flags.cache = false;
  if (v['cache-dir'] !== undefined) flags.cacheDir = v['cache-dir'];
  if (v['cache-max-size'] !== undefined) flags.cacheMaxSize = v['cache-max-size'];
  if (v['remote-cache'] !== undefined) flags.remoteCache = v['remote-cache'];
  if (v['remote-cache-mode'] !== undefined) flags.remoteCacheMode = v['remote-cache-mode'];
  if (v['remote-header'] !== undefined) flags.remoteHeaders = v['remote-header'];
  return flags;
}

/** Node's parseArgs messages in kpipe's words: the option as typed, and "did you mean" for a misspelling. */
function optionError(e: Error & { code?: string }): ReturnType<typeof error> {
  const spellings = Object.entries(OPTIONS).flatMap(([name, o]) => [`--${name}`, ...('short' in o ? [`-${o.short}`] : [])]);
  const unknown = /^Unknown option '([^']+)'/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== undefined) {
    const guess = unknown.startsWith('--') ? suggest(unknown, spellings.filter((w) => w.startsWith('--'))) : undefined;
    return error('usage', `unknown option ${unknown}`, { hint: `${guess ? `did you mean ${guess}? ` : ''}see \`kpipe --help\`; a target starting with '-' goes after '--'` });
  }
  const m = /^Option '((?:-\w, )?--([\w-]+))/.exec(e.message);
  const option = m?.[1];
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined) {
    const takesValue = (OPTIONS as Record<string, { type: string }>)[m![2]!]?.type === 'string';
    return error('usage', takesValue ? `option ${option} needs a value` : `option ${option} takes no value`, { hint: 'see `kpipe --help`' });
  }
  return error('usage', e.message.replace(/^TypeError \[[A-Z_]+\]: /, ''), { hint: 'see `kpipe --help`' });
}

export const HELP = `kpipe: the Linux kernel's final link as a declarative pipeline

usage: kpipe COMMAND [options] [VAR=value ...] [TARGET ...]

commands:
  explain        show the stages, plugins and steps of the final link, and why
  run            run the steps in an output tree (incremental, parallel)
  clean          remove what the link wrote (every output kpipe's steps ever wrote, kbuild's
                 .cmd records of the delegated ones) and .kpipe/; keeps the compile phase's
                 outputs unless --compile. With M=DIR: what make M=DIR clean removes, too
  export ninja   write the step graph as a build.ninja
  plugins        list the loaded plugins, where each came from, the hooks it taps
  graph          draw the stages and steps: SVG with Graphviz's dot, else DOT
  builtin NAME   run one of kpipe's in-process commands (used by the ninja export)
  install        install the modules as kbuild's modules_install does under the tree's
                 config (strip, sign, compress, depmod): --mod-path DIR2; with their Merkle
                 proofs appended when MODULE_HASHES
  verify-modules check installed modules against the .module_hashes root of a vmlinux
  cache stats    what the step cache holds; cache prune: evict the least recently used

options:
  -C DIR, O=DIR       the kernel output tree (kbuild's O=)
  --profile NAME      plan against a Kconfig profile from configs/ instead of a tree
  --set SYM=VALUE     override a Kconfig symbol (repeatable), e.g. --set MODULE_HASHES=y
  --pipeline FILE     the pipeline file (default: DIR/kbuild.pipeline, else kpipe's own;
                      clean, plugins, graph: the one the tree's last run used)
  --skip STAGE        leave a stage out (repeatable): --skip compile links a tree you compiled
  --format FMT        explain: text (default), json or dot; graph: svg (default) or dot
  --why               explain: say whether and why each step would run now
  -j N                run: parallel jobs (default: the number of cores)
  -k, --keep-going    run: keep running independent steps after a failure
  --step-timeout S    run: fail a step still running after S seconds (its processes are killed)
  --cache             run: restore steps from the local step cache, store what ran
                      (default ~/.cache/kpipe/steps; also "cache" in kpipe.config)
  --no-cache          run: use no step cache, whatever the config file says
  --cache-dir DIR     the local step cache's directory (implies --cache)
  --cache-max-size N  its bound, e.g. 20G (default 10G); cache prune: prune down to N
  --remote-cache URL  a Bazel HTTP remote cache (/ac/, /cas/ below URL): bazel-remote,
                      nginx WebDAV, ...
  --remote-cache-mode read-only|read-write   (default read-only: CI writes, developers read)
  --remote-header 'Name: value'              sent to the remote cache (repeatable)
  -v, V=1             print full commands, like make V=1
  -q                  print nothing but errors
  -o FILE             export: the output file (default: DIR/build.ninja); graph: the picture's
                      file (default: standard output)
  --mod-path DIR2     install, verify-modules: the install root (kbuild's INSTALL_MOD_PATH);
                      modules go to DIR2/lib/modules/<kernel.release>/
  --vmlinux FILE      verify-modules: the vmlinux holding the root (default: DIR/vmlinux);
                      install: the vmlinux the modules are for (checks their BTF base)
  --compile           clean: also the compile phase's outputs (vmlinux.a, vmlinux.o,
                      modules.order, Module.symvers, .vmlinux.export.c, scripts/module.lds)
  --btf-base FILE     base module BTF on FILE when the plan makes no vmlinux BTF (M=),
                      e.g. /sys/kernel/btf/vmlinux; default for M=: DIR/vmlinux if present
  INSTALL_MOD_STRIP=1|OPTS  install: strip modules (1: --strip-debug), as kbuild does
  M=DIR               build the external modules in DIR against the tree (kbuild's M=);
                      kpipe's state then lives in DIR/.kpipe, the tree is only read
  ARCH=.. CROSS_COMPILE=.. LLVM=..   passed to every make call, as kbuild takes them

exit status: 0 success, 1 a step or tool failed, 2 bad usage or bad input
`;
