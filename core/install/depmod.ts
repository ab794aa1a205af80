// The end of `make modules_install` (CONFIG_MODULES): scripts/depmod.sh's rule, the same in 6.1, 6.12
// and 7.2. depmod checks the modules' symbol versions against the tree's System.map, so a tree without
// one (a headers package ships none) gets no depmod, and says so, as kbuild does.
import fs from 'node:fs';
import path from 'node:path';
import { runTool, type ToolResult } from './run-tool.js';

export type DepmodOutcome = { ran: true; result: ToolResult } | { ran: false; why: string };

/** `$DEPMOD -ae -F System.map [-b INSTALL_MOD_PATH] RELEASE` in the tree, or why not. */
export async function depmod(objtree: string, release: string, installModPath: string, env: NodeJS.ProcessEnv): Promise<DepmodOutcome> {
  const systemMap = path.join(objtree, 'System.map');
  try {
    fs.accessSync(systemMap, fs.constants.R_OK);
  } catch {
    return { ran: false, why: `${objtree} has no System.map, which depmod needs to check the modules' symbols (kbuild's depmod.sh skips it too); run depmod ${release} where the modules are installed for that kernel` };
  }
  const program = env.DEPMOD || 'depmod';
  // depmod.sh's "legacy behavior": depmod in /sbin, /sbin not in PATH.
  const withSbin = { ...env, PATH: `${env.PATH ?? ''}:/sbin` };
  const argv = [program, '-ae', '-F', 'System.map', ...(installModPath !== '' ? ['-b', installModPath] : []), release];
  const result = await runTool(argv, objtree, withSbin);
  if (!result.ok && /command not found/.test(result.output)) return { ran: false, why: `${program} is not installed (Debian's kmod package has it)` };
  return { ran: true, result };
}
