// The `kallsyms-extra-pass` builtin: link-vmlinux.sh's step 3, decided when it can be decided, at run
// time. Pass 3 is needed when pass 2's table differs from pass 1's: in size, or in the symbols `nm -n`
// lists (sizes alone can stay equal while symbols shift). Comparisons happen in-process.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { registerBuiltin, type BuiltinContext } from '../../core/running/builtins.js';
import type { Command } from '../../core/planning/step.js';

export const EXTRA_PASS_BUILTIN = 'kallsyms-extra-pass';

interface ExtraPassPlan {
  force: boolean;
  previous: string;
  current: string;
  currentSyms: string;
  nm: string[];
  /** link, nm, sed, kallsyms, as: the commands of one pass over `.tmp_vmlinux3`. */
  commands: Command[];
  outputs: { object: string; syms: string };
}

export function registerExtraPassBuiltin(): void {
  registerBuiltin(EXTRA_PASS_BUILTIN, extraPass);
}

async function extraPass(args: string[], ctx: BuiltinContext): Promise<void> {
  const plan = JSON.parse(args[0] ?? '{}') as ExtraPassPlan;
  const at = (p: string) => path.resolve(ctx.objtree, p);
  const needed = plan.force
    || fs.statSync(at(plan.previous)).size !== fs.statSync(at(plan.current)).size
    || (await capture([...plan.nm, '-n', plan.previous], ctx.objtree, ctx.signal)) !== (await capture([...plan.nm, '-n', plan.current], ctx.objtree, ctx.signal));
  if (!needed) {
    // Pass 2 is final: its table and map stand in for pass 3's, byte for byte.
    fs.copyFileSync(at(plan.current), ctx.resolve(plan.outputs.object));
    fs.copyFileSync(at(plan.currentSyms), ctx.resolve(plan.outputs.syms));
    return;
  }
  const outputs = new Set([plan.outputs.object, plan.outputs.syms]);
  const swap = (word: string) => (outputs.has(word) ? ctx.resolve(word) : word);
  for (const command of plan.commands) {
    if (command.action.kind !== 'exec') continue;
    const argv = command.action.argv.map(swap);
    const stdout = command.action.stdout ? swap(command.action.stdout) : undefined;
    // A command's own variables (NM for 6.1's shell mksysmap) over the run's environment.
    const env = command.action.env ? { ...(ctx.env ?? process.env), ...command.action.env } : ctx.env;
    await run(argv, ctx.objtree, stdout, ctx.signal, env);
  }
}

function capture(argv: string[], cwd: string, signal: AbortSignal | undefined, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    // The run's abort signal stops the tool on Ctrl-C, like every command the executor spawns.
    const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}), ...(env ? { env } : {}) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString('latin1')) : reject(new Error(`${argv.join(' ')} failed:\n${Buffer.concat(err).toString()}`))));
  });
}

async function run(argv: string[], cwd: string, stdout: string | undefined, signal: AbortSignal | undefined, env?: NodeJS.ProcessEnv): Promise<void> {
  const text = await capture(argv, cwd, signal, env);
  if (stdout) fs.writeFileSync(path.resolve(cwd, stdout), text, 'latin1');
}
