// Runs the executor in its own process, the way the CLI will: for tests that kill it (`kill -9`) or
// interrupt it (SIGINT, SIGTERM). Usage: node driver.js SPEC.json, where SPEC holds the objtree, the
// steps and run options. Prints the RunResult as JSON and exits with its exit code.
import fs from 'node:fs';
import path from 'node:path';
import { buildStepGraph } from '../../core/planning/step-graph.js';
import { runSteps } from '../../core/running/executor.js';
import { interruptOnSignals } from '../../core/running/interrupt.js';
import type { Step } from '../../core/planning/step.js';

const spec = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as { objtree: string; steps: Step[]; opts?: Record<string, unknown> };
const { graph, diagnostics } = buildStepGraph(spec.steps, { objtree: spec.objtree, isSource: (p) => fs.existsSync(path.resolve(spec.objtree, p)) });
if (diagnostics.length > 0) {
  console.error(diagnostics.map((d) => d.message).join('\n'));
  process.exit(2);
}
const interruption = interruptOnSignals();
const result = await runSteps(graph, {
  objtree: spec.objtree,
  jobs: 2,
  keepGoing: false,
  verbosity: 'quiet',
  interactive: false,
  signal: interruption.signal,
  out: process.stderr,
  ...spec.opts,
});
interruption.dispose();
process.stdout.write(JSON.stringify({ status: result.status, exitCode: result.exitCode, diagnostics: result.diagnostics }));
process.exitCode = result.exitCode;
