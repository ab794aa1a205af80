// The edge: parse the command line, open a session, run the command, and turn every KpipeError into
// formatted diagnostics and an exit status (0 ok, 1 a step or tool failed, 2 bad usage or input).
// Nothing below this file prints a diagnostic or exits the process.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCli, HELP, type CliArgs } from './args.js';
import { formatDiagnostics } from './format-diagnostic.js';
import { KpipeError, error, hasErrors, type Diagnostic } from '../diagnostic.js';
import { checkBtfBase } from './btf-base-option.js';
import { suggest } from '../suggest.js';
import { openSession, PACKAGE_ROOT, type Session } from '../loading/session.js';
import { subgraphFor } from '../planning/step-graph.js';
import { printWarnings, sessionOptions, targetsOf } from './session-options.js';

// Each command's own modules are imported when it runs: `explain` never loads the executor, `run`
// never the install or graph code (module loading was most of kpipe's start-up, issue 13).
const runCommands = () => import('./run-commands.js');

const COMMANDS = ['explain', 'run', 'clean', 'export', 'plugins', 'graph', 'builtin', 'install', 'verify-modules', 'cache'];

export async function main(argv: readonly string[]): Promise<number> {
  const color = process.stderr.isTTY === true && !process.env.NO_COLOR;
  try {
    const args = parseCli(argv);
    if (args.version) {
      const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
      process.stdout.write(`kpipe ${pkg.version}\n`);
      return 0;
    }
    if (args.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (args.command === 'builtin') return await (await runCommands()).builtinCommand(args.positionals, process.cwd());
    // A misspelt command is the first thing to report, before any file is read.
    if (!COMMANDS.includes(args.command)) {
      const guess = suggest(args.command, COMMANDS);
      const list = 'commands: explain, run, clean, export ninja, plugins, graph, builtin, install, verify-modules, cache';
      throw new KpipeError([error('usage', `unknown command '${args.command}'`, { hint: guess ? `did you mean '${guess}'? ${list}` : list })]);
    }
    if (args.command === 'export' && args.positionals[0] !== 'ninja') {
      throw new KpipeError([error('usage', `kpipe export supports 'ninja', not '${args.positionals[0] ?? ''}'`)]);
    }
    // The step cache lives outside any tree: `kpipe cache` plans nothing.
    if (args.command === 'cache') return await (await import('./cache-command.js')).cacheCommand(args);
    // Before the plan, let alone the compile: a bad base would otherwise fail only at module BTF.
    if (args.btfBase !== undefined && (args.command === 'run' || args.command === 'explain')) {
      const found = checkBtfBase(path.resolve(process.cwd(), args.btfBase), args.objtree !== undefined ? path.resolve(process.cwd(), args.objtree) : undefined);
      if (hasErrors(found)) throw new KpipeError(found);
      if (found.length > 0) process.stderr.write(formatDiagnostics(found, new Map(), { color, cwd: process.cwd() }));
    }
    // These read a tree's plan after the fact: plan it as the tree's last run did, unless told otherwise.
    const lastRun = args.command === 'clean' || args.command === 'plugins' || args.command === 'graph';
    const session = await openSession({ ...sessionOptions(args), lastRun });
    if (session.fromLastRun && !args.quiet) process.stderr.write(`kpipe ${args.command}: as the tree's last run: ${session.fromLastRun}\n`);
    // install and verify-modules read what a run made; the plan's warnings are about running it.
    // Printed here once, on stderr, for every command (explain's text no longer repeats them).
    if (args.command !== 'install' && args.command !== 'verify-modules') printWarnings(session.warnings, session);
    switch (args.command) {
      case 'explain':
        return await explain(session, args);
      case 'plugins':
        return (await import('./plugins-command.js')).pluginsCommand(session, process.cwd());
      case 'graph':
        return (await import('./graph-command.js')).graphCommand(session, args);
      case 'run':
        return await (await runCommands()).runCommand(session, args);
      case 'clean':
        return await (await runCommands()).cleanCommand(session, args);
      case 'export':
        return (await runCommands()).exportNinjaCommand(session, args);
      case 'install':
        return await (await import('./install-commands.js')).installCommand(session, args);
      case 'verify-modules':
        return await (await import('./install-commands.js')).verifyModulesCommand(session, args);
      default:
        throw new Error(`command '${args.command}' passed the check above but has no case`);
    }
  } catch (e) {
    if (e instanceof KpipeError) {
      process.stderr.write(formatDiagnostics(e.diagnostics, e.sources, { color, cwd: process.cwd() }));
      return e.exitCode;
    }
    // Not a user mistake: a bug in kpipe. Say so, with the trace that helps fix it.
    process.stderr.write(`kpipe: internal error (please report): ${(e as Error).stack ?? String(e)}\n`);
    return 70;
  }
}


async function explain(session: Session, args: CliArgs): Promise<number> {
  if (args.format === 'svg') throw new KpipeError([error('usage', 'kpipe explain has no --format svg', { hint: 'kpipe graph draws the plan as SVG' })]);
  let steps = session.stepGraph.steps;
  if (args.positionals.length > 0) {
    const sub = subgraphFor(session.stepGraph, targetsOf(session, args.positionals));
    if (sub.diagnostics.length > 0) throw new KpipeError(sub.diagnostics);
    steps = sub.graph.steps;
  }
  const why = args.why ? await (await runCommands()).whyMap(session, args) : undefined;
  const { explainDot, explainJson, explainText } = await import('../reports/explain.js');
  const opts = { verbose: args.verbose, steps, cwd: process.cwd(), ...(why ? { why } : {}) };
  const text = args.format === 'json' ? explainJson(session, opts) : args.format === 'dot' ? explainDot(session, opts) : explainText(session, opts);
  process.stdout.write(text);
  return 0;
}

export const CORES = os.availableParallelism();
