// sorttable: sorts the exception and other tables of the image at build time
// (CONFIG_BUILDTIME_TABLE_SORT), as link-vmlinux.sh's `sorttable`: `nm -S` then scripts/sorttable.
import type { KpipePlugin } from '../../core/plugin-api.js';
import { AFTER_LINK_ORDER } from '../../core/plugin-api.js';
import { exec, treeTool, continued } from '../kbuild.js';

export const sorttablePlugin: KpipePlugin = {
  name: 'sorttable',
  description: 'build-time sorting of the image tables',
  options: {
    nm_sort: { description: 'give sorttable the image\'s `nm -S` (-s FILE); false: plain `scripts/sorttable vmlinux` (6.1)', default: true },
  },
  apply(hooks, ctx) {
    hooks.afterLink.for(ctx.stage).tap({ name: ctx.name, stage: AFTER_LINK_ORDER.TABLES }, (image) => {
      if (ctx.options.nm_sort === false) {
        image.edit(ctx.name, exec(ctx.name, 'SORTTAB', image.path, [treeTool('scripts/sorttable'), image.path]), ['scripts/sorttable']);
        return;
      }
      const nmSort = '.tmp_vmlinux.nm-sort';
      image.produce(ctx.name, exec(ctx.name, 'SORTTAB', image.path, [...ctx.toolchain.words('NM'), '-S', image.path], { stdout: nmSort }), [], [], [nmSort]);
      image.edit(ctx.name, continued(exec(ctx.name, 'SORTTAB', image.path, [treeTool('scripts/sorttable'), '-s', nmSort, image.path])), ['scripts/sorttable']);
    });
  },
};
