// sysmap: System.map, the symbol map of the final image (`nm -n` filtered by scripts/mksysmap).
import type { KpipePlugin } from '../../core/plugin-api.js';
import { AFTER_LINK_ORDER, ARTIFACTS } from '../../core/plugin-api.js';
import { mksysmap } from '../kbuild.js';

export const sysmapPlugin: KpipePlugin = {
  name: 'sysmap',
  description: 'System.map from the linked image',
  apply(hooks, ctx) {
    hooks.afterLink.for(ctx.stage).tap({ name: ctx.name, stage: AFTER_LINK_ORDER.SYMBOL_MAP }, (image) => {
      const map = mksysmap(ctx, image.path, 'System.map');
      map.commands.forEach((command, i) => {
        const extraInputs = i === 1 ? map.script : [];
        image.produce(ctx.name, command, i === 1 ? ['System.map'] : [], extraInputs, i === 0 ? [map.scratch] : []);
      });
      ctx.artifacts.publish(ARTIFACTS.systemMap, 'System.map');
    });
  },
};
