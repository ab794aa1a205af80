// `node --import dist/test/helpers/module-log.js ...`: appends the URL of every ES module the process
// loads to the file $KPIPE_MODULE_LOG, one a line. The start-up tests read it to check that a command
// loads only what it needs (no parser on a cached pipeline, no cosmiconfig without a config file).
import { register } from 'node:module';

register('./module-log-hooks.js', import.meta.url, { data: { file: process.env.KPIPE_MODULE_LOG } });
