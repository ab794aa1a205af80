#!/usr/bin/env node
// The CLI lives in core/cli; this shim only points at the compiled output.
import { main } from '../dist/core/cli/main.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
