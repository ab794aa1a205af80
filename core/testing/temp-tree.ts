// `runInTempTree` (exported as `kpipe/testing`): plan a pipeline with a plugin author's plugins and run
// the steps in a fresh temporary directory holding only the files the test gives, with kpipe's real
// executor (temporaries renamed into place, the state in .kpipe/, early cutoff) and no kernel or make.
// Run it again after changing a file to see what reruns, and why.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runSteps } from '../running/executor.js';
import { lastRunPath, type RunLog, type RunLogStep } from '../running/run-log.js';
import type { Diagnostic } from '../diagnostic.js';
import { planPipeline, type PlanOptions, type PlannedPipeline } from './plan-pipeline.js';

export interface TempTreeOptions extends Omit<PlanOptions, 'dir'> {
  /** The tree's files before the run, by path relative to it: the stand-ins the steps read. */
  files?: Record<string, string | Uint8Array>;
}

export interface TempRun {
  /** 'ok', 'failed' or 'interrupted'; 'plan-failed' when the plan had errors (see diagnostics). */
  status: 'ok' | 'failed' | 'interrupted' | 'plan-failed';
  diagnostics: Diagnostic[];
  /** Every step with whether it ran and why (.kpipe/last-run.json). */
  steps: RunLogStep[];
  /** What kpipe printed (quiet lines, tool output). */
  output: string;
  plan: PlannedPipeline;
}

export interface TempTree {
  /** The directory (absolute): the output tree. */
  readonly dir: string;
  /** Plans again (files may have changed) and runs; `only` limits it to these targets. */
  run(only?: string[]): Promise<TempRun>;
  /** Whether the last run ran the step with this id, or any step of the plugin with this name. */
  ran(stepOrPlugin: string): boolean;
  read(file: string): string;
  write(file: string, content: string | Uint8Array): void;
  exists(file: string): boolean;
  /** Removes the directory. */
  remove(): void;
}

export async function runInTempTree(opts: TempTreeOptions): Promise<{ tree: TempTree; result: TempRun }> {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-tree-')));
  const abs = (file: string) => path.join(dir, file);
  const write = (file: string, content: string | Uint8Array) => {
    fs.mkdirSync(path.dirname(abs(file)), { recursive: true });
    fs.writeFileSync(abs(file), content);
  };
  for (const [file, content] of Object.entries(opts.files ?? {})) write(file, content);
  let last: TempRun | undefined;
  const tree: TempTree = {
    dir,
    async run(only) {
      last = await planAndRun({ ...opts, dir }, only);
      return last;
    },
    ran(stepOrPlugin) {
      return (last?.steps ?? []).some((s) => s.ran && (s.id === stepOrPlugin || s.plugin === stepOrPlugin));
    },
    read: (file) => fs.readFileSync(abs(file), 'utf8'),
    write,
    exists: (file) => fs.existsSync(abs(file)),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
  return { tree, result: await tree.run() };
}

async function planAndRun(opts: PlanOptions & { dir: string }, only: string[] | undefined): Promise<TempRun> {
  const plan = await planPipeline(opts);
  if (!plan.graph) return { status: 'plan-failed', diagnostics: plan.diagnostics, steps: [], output: '', plan };
  let output = '';
  const out = new Writable({
    write(chunk, _enc, cb) {
      output += String(chunk);
      cb();
    },
  });
  const result = await runSteps(plan.graph, {
    objtree: opts.dir, jobs: 2, keepGoing: false, verbosity: 'normal', out, interactive: false, lock: 'fail',
    ...(only ? { targets: only } : {}),
  });
  let log: RunLog | undefined = result.log;
  if (!log && fs.existsSync(lastRunPath(opts.dir))) log = JSON.parse(fs.readFileSync(lastRunPath(opts.dir), 'utf8')) as RunLog;
  return { status: result.status, diagnostics: [...plan.diagnostics, ...result.diagnostics], steps: log?.steps ?? [], output, plan };
}
