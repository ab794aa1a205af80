// artifact-manifest: the kind of plugin a distribution writes for its reproducibility checks. One step
// writes the SHA-256 of every artifact the build ships (vmlinux, System.map, each .ko, the arch's
// post-link outputs such as vmlinux.relocs) in `sha256sum -c` format, so a second build on another
// machine is checked with `sha256sum -c artifacts.sha256` and a difference names its file.
//
// It imports nothing but the public API ('kpipe'), names no other plugin, and finds the artifacts the
// way plugins meet: by what other stages published (`ctx.artifacts.list()`), which the pipeline lets
// it read only when its stage is ordered after theirs. The step declares every artifact as an input
// and the manifest as its output, so kpipe reruns it exactly when an artifact's content changed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { error, KpipeError, type BuiltinFunction, type KpipeHooks, type KpipePlugin, type PluginContext, type PublishedArtifact } from 'kpipe';

/** Builtin names are global: prefixed with the plugin's name. */
export const WRITE_MANIFEST = 'artifact-manifest.write';

/** `artifact-manifest.write OUTPUT FILE...`: OUTPUT gets `<sha256>  <FILE>` for each FILE, in order. */
export const writeManifest: BuiltinFunction = async (args, ctx) => {
  const [output, ...files] = args;
  if (output === undefined) throw new Error(`${WRITE_MANIFEST}: expected OUTPUT FILE..., got no arguments`);
  const lines = await Promise.all(files.map(async (file) => `${await sha256(ctx.resolve(file))}  ${file}\n`));
  // ctx.resolve(output) is the step's temporary output: kpipe renames it into place when this returns.
  await fs.promises.writeFile(ctx.resolve(output), lines.join(''));
};

async function sha256(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A class plugin (an object literal with the same members works as well). */
export default class ArtifactManifestPlugin implements KpipePlugin {
  readonly name = 'artifact-manifest';
  readonly description = 'the SHA-256 of every artifact the build ships, in `sha256sum -c` format';
  readonly options = {
    output: { description: 'the manifest, relative to the output tree', default: 'artifacts.sha256' },
    exclude: { description: 'artifact names to leave out, comma-separated', default: 'vmlinux.unstripped' },
  };
  readonly builtins = { [WRITE_MANIFEST]: writeManifest };

  apply(hooks: KpipeHooks, ctx: PluginContext): void {
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      const output = stringOption(ctx, 'output');
      const files = shippedFiles(ctx.artifacts.list(), stringOption(ctx, 'exclude'));
      checkModulesVisible(ctx, files);
      builder.addStep(ctx.name, {
        commands: [{
          label: { tag: 'SHA256', target: output },
          plugin: ctx.name,
          action: { kind: 'builtin', name: WRITE_MANIFEST, args: [output, ...files] },
          note: `${files.length} artifacts of the stages before '${ctx.stage}'`,
        }],
        inputs: files,
        outputs: [output],
      });
    });
  }
}

/**
 * The files of the published artifacts, sorted (a manifest must not depend on planning order), less
 * the excluded names and kbuild's temporaries (`.tmp_*`: the BTF object of the first temporary link).
 */
export function shippedFiles(artifacts: readonly PublishedArtifact[], exclude: string): string[] {
  const excluded = new Set(exclude.split(',').map((s) => s.trim()).filter((s) => s.length > 0));
  const files = artifacts
    .filter((a) => !excluded.has(a.name) && !path.basename(a.path).startsWith('.tmp_'))
    .map((a) => a.path);
  return [...new Set(files)].sort();
}

function stringOption(ctx: PluginContext, name: 'output' | 'exclude'): string {
  const value = ctx.options[name];
  if (typeof value !== 'string') {
    throw new KpipeError([error('artifact-manifest-option', `option '${name}' must be a string, not ${typeof value}`, { hint: `use ${ctx.name}(${name} = "...")` })]);
  }
  return value;
}

/**
 * With CONFIG_MODULES the .ko files belong in the manifest; none visible usually means the stage is
 * not ordered after the modules. A warning, not an error: a MODULES=y tree may build no module at all.
 */
function checkModulesVisible(ctx: PluginContext, files: readonly string[]): void {
  if (!ctx.kconfig.isEnabled('MODULES') || files.some((f) => f.endsWith('.ko'))) return;
  ctx.warn(`${ctx.kconfig.describe('MODULES')}, but stage '${ctx.stage}' sees no module: is it ordered after them ('${ctx.stage}: modules')?`);
}
