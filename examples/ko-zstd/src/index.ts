// ko-zstd: a zstd-compressed copy of every .ko (`crypto/crc8.ko.zst` beside `crypto/crc8.ko`), the
// files `make modules_install` installs under CONFIG_MODULE_COMPRESS_ZSTD. A plugin package written
// outside kpipe: it depends on kpipe as a peer and imports nothing but 'kpipe' (README "Writing a
// plugin package"). One step per module, so one rebuilt .ko recompresses one file.
import type { KpipeHooks, KpipePlugin, PluginContext } from 'kpipe';
import { ARTIFACTS, error, KpipeError } from 'kpipe';

export default class KoZstdPlugin implements KpipePlugin {
  readonly name = 'ko-zstd';
  readonly description = 'a zstd-compressed copy of every .ko (FILE.ko.zst)';
  readonly options = {
    level: { description: 'zstd compression level, 1-19 (kbuild uses its default, 3)', default: 3 },
    zstd: { description: 'the zstd program', default: 'zstd' },
  };

  apply(hooks: KpipeHooks, ctx: PluginContext): void {
    const level = ctx.options.level;
    if (typeof level !== 'number' || !Number.isInteger(level) || level < 1 || level > 19) {
      throw new KpipeError([error('ko-zstd-level', `option 'level' must be a whole number from 1 to 19, not ${String(level)}`, { hint: `use ${ctx.name}(level = 19)` })]);
    }
    const zstd = String(ctx.options.zstd);
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      const modules = ctx.artifacts.list('module');
      if (modules.length === 0 && ctx.kconfig.isEnabled('MODULES')) {
        ctx.warn(`stage '${ctx.stage}' sees no module: order it after them ('${ctx.stage}: modules')`);
      }
      for (const module of modules) {
        const ko = module.path;
        const zst = `${ko}.zst`;
        builder.addStep(ctx.name, {
          // Step ids are unique in the whole plan: prefix them with the stage.
          id: `${ctx.stage}:${zst}`,
          commands: [{
            label: { tag: 'ZSTD', target: zst },
            plugin: ctx.name,
            // No shell: `-c` writes to standard output, which kpipe puts in the step's temporary file.
            action: { kind: 'exec', argv: [zstd, '-q', `-${level}`, '-c', ko], stdout: zst },
          }],
          inputs: [ko],
          outputs: [zst],
        });
        ctx.artifacts.publish(`${ARTIFACTS.module(ko)}.zst`, zst);
      }
    });
  }
}
