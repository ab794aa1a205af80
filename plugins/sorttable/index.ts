// sorttable: sorts the exception and other tables of the image at build time
// (CONFIG_BUILDTIME_TABLE_SORT), as link-vmlinux.sh's `sorttable`: `nm -S` then scripts/sorttable.
import type { KpipePlugin } from '../../core/plugin-api.js';
import { AFTER_LINK_ORDER } from '../../core/plugin-api.js';
import { exec, treeTool, continued } from '../kbuild.js';

export const sorttablePlugin: KpipePlugin = {
  name: 'sorttable',
  description: 'build-time sorting of the image tables',
  apply(hooks, ctx) {
    hooks.afterLink.for(ctx.stage).tap({ name: ctx.name, stage: AFTER_LINK_ORDER.TABLES }, (image) => {
      const nmSort = '.tmp_vmlinux.nm-sort';
      image.produce(ctx.name, exec(ctx.name, 'SORTTAB', image.path, [...ctx.toolchain.words('NM'), '-S', image.path], { stdout: nmSort }), [], [], [nmSort]);
      image.edit(ctx.name, continued(exec(ctx.name, 'SORTTAB', image.path, [treeTool('scripts/sorttable'), '-s', nmSort, image.path])), ['scripts/sorttable']);
    });
  },
};
