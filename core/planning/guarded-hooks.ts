// The hooks object as a plugin sees it. TypeScript catches `hooks.afterObjCopy`; plain JavaScript
// would get `Cannot read properties of undefined (reading 'for')`, which names neither the hook nor
// the fix. Reading a name that is not a hook throws kpipe's own error with the closest hook instead,
// reported (planner.ts) with the plugin, the hook it was in and its `use` line.
import { error, KpipeError } from '../diagnostic.js';
import type { KpipeHooks } from '../hooks.js';
import { suggest } from '../suggest.js';

/** Names generic code probes on any object (await, JSON, inspection): never a misspelt hook. */
const PROBES = new Set(['then', 'toJSON', 'inspect', 'asymmetricMatch', 'nodeType', '$$typeof', '@@iterator']);

export function guardHooks(hooks: KpipeHooks): KpipeHooks {
  const names = Object.keys(hooks);
  return new Proxy(hooks, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && !(prop in target) && !PROBES.has(prop)) {
        const guess = suggest(prop, names);
        throw new KpipeError([error('unknown-hook', `hooks.${prop} is not a hook`, {
          hint: `${guess !== undefined ? `did you mean hooks.${guess}? ` : ''}the hooks are: ${names.join(', ')} (core/hooks.ts)`,
        })]);
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}
