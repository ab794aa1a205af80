// module-hashes: CONFIG_MODULE_HASHES (DESIGN.md section 5). In the stage that makes vmlinux, one step
// hashes every .ko of modules.order (as it will be installed) into a Merkle tree and writes the root and
// depth to .tmp_module_hashes.bin; the objcopy that turns vmlinux.unstripped into vmlinux puts that file
// into the `.module_hashes` section (updates it when the linker script already has one, adds it
// otherwise). `kpipe install` appends each module's proof; `kpipe verify-modules` checks them.
import fs from 'node:fs';
import type { KpipePlugin, PluginContext } from '../../core/plugin-api.js';
import { registerBuiltin, type BuiltinFunction } from '../../core/running/builtins.js';
import { builtin, moduleObjects } from '../kbuild.js';
import { buildTree, moduleLeaf, sectionContent, stripCommand, SECTION_NAME } from './merkle.js';

export const HASHES_FILE = '.tmp_module_hashes.bin';
export const BUILTIN_NAME = 'module-hashes';

/**
 * `module-hashes OUTPUT STRIP KO...`: OUTPUT gets the 36 bytes of `.module_hashes` for the modules
 * KO... in this order. STRIP is '' (hash the files as they are) or the strip command the install
 * will run (`x86_64-linux-gnu-strip --strip-debug`), applied to a temporary copy of each module first.
 */
const moduleHashesBuiltin: BuiltinFunction = async (args, ctx) => {
  if (args.length < 2) throw new Error(`${BUILTIN_NAME}: expected OUTPUT STRIP_OPTIONS KO..., got ${args.length} argument(s)`);
  const [output, strip, ...modules] = args as [string, string, ...string[]];
  const options = strip.trim() === '' ? undefined : strip.split(/\s+/).filter((w) => w.length > 0);
  const leaves: Buffer[] = new Array(modules.length);
  // Bounded parallelism: hashing is I/O plus one strip process per module when stripping.
  let next = 0;
  const worker = async () => {
    while (next < modules.length) {
      const i = next++;
      leaves[i] = await moduleLeaf(ctx.resolve(modules[i]!), options, ctx.env, ctx.signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, Math.max(1, modules.length)) }, worker));
  await fs.promises.writeFile(ctx.resolve(output), sectionContent(buildTree(leaves)));
};

export function registerModuleHashesBuiltin(): void {
  registerBuiltin(BUILTIN_NAME, moduleHashesBuiltin);
}

export const moduleHashesPlugin: KpipePlugin = {
  name: 'module-hashes',
  description: 'the Merkle root of the modules in vmlinux\'s .module_hashes section (MODULE_HASHES)',
  apply(hooks, ctx) {
    registerModuleHashesBuiltin();
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      const modules = moduleObjects(ctx).map((o) => o.replace(/\.o$/, '.ko'));
      const strip = stripCommand(installModStrip(ctx), ctx.toolchain, ctx.make.env);
      const note = strip ? `hashes of the modules as installed (stripped: ${strip.join(' ')})` : 'hashes of the modules as installed';
      builder.addStep(ctx.name, {
        commands: [builtin(ctx.name, 'HASHES', HASHES_FILE, BUILTIN_NAME, [HASHES_FILE, strip ? strip.join(' ') : '', ...modules], note)],
        inputs: modules,
        outputs: [HASHES_FILE],
      });
    });
    hooks.objcopy.for(ctx.stage).tap(ctx.name, (spec) => {
      const lds = ctx.toolchain.kind === 'tree' ? ctx.toolchain.value('KBUILD_LDS') : '';
      const script = lds ? ctx.readFile(lds.replace(/^\.\//, '')) : undefined;
      const update = script !== undefined && script.includes(SECTION_NAME);
      const flags = update
        ? [`--update-section`, `${SECTION_NAME}=${HASHES_FILE}`]
        : [`--add-section`, `${SECTION_NAME}=${HASHES_FILE}`, '--set-section-flags', `${SECTION_NAME}=readonly`];
      return { ...spec, flags: [...spec.flags, ...flags], inputs: [...spec.inputs, HASHES_FILE] };
    });
  },
};

/** INSTALL_MOD_STRIP as given to kpipe (command line or environment), else as the tree's make has it. */
function installModStrip(ctx: PluginContext): string | undefined {
  const fromEnv = ctx.make.env.INSTALL_MOD_STRIP;
  if (fromEnv !== undefined) return fromEnv;
  return ctx.toolchain.kind === 'tree' ? ctx.toolchain.value('INSTALL_MOD_STRIP') || undefined : undefined;
}
