// The worker thread of core/running/kbuild-keeps.ts: makes the keeps it is given, answers, exits.
import { parentPort, workerData } from 'node:worker_threads';
import { keepAll, type KeepJob } from './kbuild-keeps.js';

parentPort!.postMessage(keepAll(workerData as KeepJob[]));
