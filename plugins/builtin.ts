// The plugins shipped with kpipe, by the name kbuild.pipeline uses for them.
import type { KpipePlugin } from '../core/plugin-api.js';
import { linkPlugin } from './link/index.js';
import { kallsymsPlugin } from './kallsyms/index.js';
import { btfPlugin } from './btf/index.js';
import { sysmapPlugin } from './sysmap/index.js';
import { sorttablePlugin } from './sorttable/index.js';
import { objcopyPlugin } from './objcopy/index.js';
import { modfinalPlugin } from './modfinal/index.js';
import { x86Plugin } from './arch/x86/index.js';
import { riscvPlugin } from './arch/riscv/index.js';
import { powerpcPlugin } from './arch/powerpc/index.js';
import { mipsPlugin } from './arch/mips/index.js';
import { s390Plugin } from './arch/s390/index.js';
import { kbuildCompilePlugin } from './kbuild-compile/index.js';
import { registerExtraPassBuiltin } from './kallsyms/extra-pass.js';
import { moduleHashesPlugin, registerModuleHashesBuiltin } from './module-hashes/index.js';
import { registerBaseRecordBuiltin } from './btf/base-record.js';
import { registerDetachedBuiltin } from './btf/detached.js';
import { modulesBuiltinPlugin, registerModulesBuiltinBuiltins } from './modules-builtin/index.js';
import { kbuildCmdPlugin, registerFixdepBuiltin } from './kbuild-handoff/records.js';
import { kbuildMtimePlugin, registerMtimeBuiltin } from './kbuild-handoff/mtime-order.js';
import { kbuildImagePlugin } from './kbuild-image/index.js';

export const BUILTIN_PLUGINS: readonly KpipePlugin[] = [
  kbuildCompilePlugin,
  linkPlugin,
  kallsymsPlugin,
  btfPlugin,
  sysmapPlugin,
  sorttablePlugin,
  objcopyPlugin,
  modfinalPlugin,
  x86Plugin,
  riscvPlugin,
  powerpcPlugin,
  mipsPlugin,
  s390Plugin,
  moduleHashesPlugin,
  kbuildCmdPlugin,
  kbuildMtimePlugin,
  kbuildImagePlugin,
  modulesBuiltinPlugin,
];

/** Builtins the plugins bring, for `kpipe builtin NAME` outside a plan (the ninja export calls it). */
export function registerPluginBuiltins(): void {
  registerExtraPassBuiltin();
  registerModuleHashesBuiltin();
  registerBaseRecordBuiltin();
  registerDetachedBuiltin();
  registerModulesBuiltinBuiltins();
  registerMtimeBuiltin();
  registerFixdepBuiltin();
}
