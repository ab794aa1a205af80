// One tool of the install (sign-file, xz, depmod), run as Makefile.modinst runs it: an argv, in the
// output tree (kbuild's install runs there: `scripts/sign-file ... certs/signing_key.x509` are
// relative to it), never through a shell.
import { spawn } from 'node:child_process';

export interface ToolResult {
  ok: boolean;
  /** Standard output and standard error, as they came; on failure, why it did not start or its status. */
  output: string;
}

export function runTool(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, output: e.code === 'ENOENT' ? `${argv[0]}: command not found` : `${argv[0]}: ${e.message}` }));
    child.on('close', (code, signal) => resolve({ ok: code === 0, output: code === 0 ? output : `${output}${output.endsWith('\n') || output === '' ? '' : '\n'}${argv[0]} ${signal ? `killed by ${signal}` : `exited with status ${code}`}` }));
  });
}
