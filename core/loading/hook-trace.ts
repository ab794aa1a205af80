// Who tapped which hook, and who is running now. Every tap is attributed to the plugin that was
// running when it was registered (being applied, or inside one of its own taps), not to the name it
// passed to tap(): a plugin may tap as 'ArtifactManifestPlugin' the way webpack plugins do, and
// `kpipe plugins` and its error messages must still name it as the pipeline does. The tap's function
// is wrapped to set the cursor while it runs and to restore it when it returns, so an exception
// after a nested hook call (modfinal, after btf's moduleLinked tap) still names the right plugin.
import type { KpipeHooks, HookName } from '../hooks.js';

/** Where planning is: which plugin runs, in which hook. Read by the planner when something throws. */
export interface Cursor {
  plugin?: string;
  hook?: string;
}

interface TapLike {
  name: string;
  fn: (...args: unknown[]) => unknown;
}

interface Interceptable {
  intercept(interceptor: unknown): void;
}

/** Per plugin, the hooks (names from core/hooks.ts) it tapped. Filled in while plugins apply. */
export type TapRecord = Map<string, Set<HookName>>;

export function traceHooks(hooks: KpipeHooks, cursor: Cursor): TapRecord {
  const taps: TapRecord = new Map();
  for (const [hookName, hook] of Object.entries(hooks) as [HookName, KpipeHooks[HookName]][]) {
    const interceptor = (label: string) => ({
      register: (tap: TapLike): TapLike => {
        const owner = cursor.plugin && cursor.plugin !== '?' ? cursor.plugin : tap.name;
        if (!taps.has(owner)) taps.set(owner, new Set());
        taps.get(owner)!.add(hookName);
        const fn = tap.fn;
        return {
          ...tap,
          fn: (...args: unknown[]) => {
            const before = { ...cursor };
            cursor.plugin = owner;
            cursor.hook = label;
            const result = fn(...args);
            // Not in a finally: when the tap throws, the cursor must still name it for the report.
            cursor.plugin = before.plugin;
            cursor.hook = before.hook;
            return result;
          },
        };
      },
    });
    if ('for' in hook) {
      (hook as unknown as Interceptable).intercept({
        // tapable hands each hook the map creates to `factory(key, hook)` before anyone taps it.
        factory: (key: unknown, created: Interceptable) => {
          created.intercept(interceptor(`${hookName}.for('${String(key)}')`));
          return created;
        },
      });
    } else {
      (hook as unknown as Interceptable).intercept(interceptor(hookName));
    }
  }
  return taps;
}
