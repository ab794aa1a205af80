// Stands in for `kpipe builtin NAME ARGS...` (the CLI's subcommand) in the ninja export test, so the
// test does not depend on the CLI: `node kpipe-builtin.js builtin NAME ARGS...`, run in the objtree.
import { runBuiltinStandalone } from '../../core/running/builtins.js';

const [sub, name, ...args] = process.argv.slice(2);
if (sub !== 'builtin' || name === undefined) {
  process.stderr.write('usage: kpipe-builtin.js builtin NAME ARGS...\n');
  process.exit(2);
}
const { status, message } = await runBuiltinStandalone(name, args, process.cwd());
if (message) process.stderr.write(`${message}\n`);
process.exitCode = status;
