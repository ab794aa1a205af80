// How much the per-step command fingerprints (core/state/command-fingerprint.ts) add to the state, and
// what computing them costs, on the synthetic distribution-scale plan: node bench/synthetic/fingerprint-size.mjs
import { syntheticSteps } from '../../dist/bench/synthetic/generate.js';
import { commandFingerprint } from '../../dist/core/state/command-fingerprint.js';
import { commandIdentity } from '../../dist/core/state/up-to-date.js';
const steps = syntheticSteps('/tmp/x', 5500);
let fp = 0, rec = 0;
const t0 = performance.now();
for (const s of steps) fp += commandFingerprint(s, { env: { ARCH: 'x86_64' } }).length;
const t1 = performance.now();
for (const s of steps) rec += JSON.stringify([s.id, commandIdentity(s, {}), s.inputs, s.outputs]).length;
console.log(steps.length, 'steps; fingerprints', fp, 'chars; records (without hashes)', rec, 'chars; fingerprint time', (t1 - t0).toFixed(0), 'ms');
