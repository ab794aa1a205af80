// The long fuzz run of BENCHMARKS.md: node dist/test/fuzz/run-dsl.js [COUNT=10000] [SEED=1]
// Prints the inputs, how many planned cleanly, errors by kind, the longest and mean time per input,
// and every broken promise; exits 1 if there was one.
import { fuzzPipelines } from './dsl-fuzz.js';

const count = Number(process.argv[2] ?? 10000);
const seed = Number(process.argv[3] ?? 1);
const stats = fuzzPipelines({ seed, count });
console.log(`inputs: ${stats.inputs} (seed ${seed}), planned cleanly: ${stats.clean}`);
console.log('errors by kind:');
for (const [code, n] of Object.entries(stats.errorsByCode).sort((a, b) => b[1] - a[1])) console.log(`  ${code.padEnd(22)} ${n}`);
console.log(`max time per input: ${stats.maxMs.toFixed(1)} ms (${stats.slowest}); mean ${(stats.totalMs / stats.inputs).toFixed(2)} ms`);
console.log(`the 10 slowest timed again (fastest of 5 each), worst: ${stats.retimedMaxMs.toFixed(1)} ms`);
console.log(`violations: ${stats.violations.length}`);
for (const v of stats.violations.slice(0, 20)) console.log(`  ${v}`);
process.exitCode = stats.violations.length > 0 ? 1 : 0;
