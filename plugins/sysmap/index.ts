// sysmap: System.map, the symbol map of the final image (`nm -n` filtered by scripts/mksysmap).
import type { KpipePlugin } from '../../core/plugin-api.js';
import { AFTER_LINK_ORDER, ARTIFACTS } from '../../core/plugin-api.js';
import { MKSYSMAP_OPTION, mksysmap } from '../kbuild.js';

export const sysmapPlugin: KpipePlugin = {
  name: 'sysmap',
  description: 'System.map from the linked image',
  options: { mksysmap: MKSYSMAP_OPTION },
  apply(hooks, ctx) {
    hooks.afterLink.for(ctx.stage).tap({ name: ctx.name, stage: AFTER_LINK_ORDER.SYMBOL_MAP }, (image) => {
      const map = mksysmap(ctx, image.path, 'System.map');
      const last = map.commands.length - 1;
      map.commands.forEach((command, i) => {
        image.produce(ctx.name, command, i === last ? ['System.map'] : [], i === last ? map.script : [], i === 0 ? map.scratch : []);
      });
      ctx.artifacts.publish(ARTIFACTS.systemMap, 'System.map');
    });
  },
};
