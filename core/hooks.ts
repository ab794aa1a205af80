// Every hook a plugin may tap, in one object: this file is kpipe's plugin API at a glance (webpack's
// Compiler.hooks). The hook's class says what a tap may do:
//   SyncHook            side effects in order (add steps, request links);
//   SyncWaterfallHook   transform a value and return it (link objects, objcopy flags);
//   SyncBailHook        answer or veto (the first non-undefined return wins).
// Hooks keyed by stage are HookMaps: a plugin taps `hooks.x.for(context.stage)` for its own stage,
// so a plugin used in two stages behaves by stage, and two stages never see each other's taps.
// Tap options: `{ name: context.name, stage: AFTER_LINK_ORDER.X }` orders taps by named position.
import tapable from 'tapable';
import type { Step } from './planning/step.js';
import type { ImageBuilder, LinkSession, LinkSpec, ObjcopySpec, StageBuilder } from './plugin-api.js';

const { SyncHook, SyncWaterfallHook, SyncBailHook, HookMap } = tapable;

export function createHooks() {
  return Object.freeze({
    // ── planning a stage ──────────────────────────────────────────────────────────────────────
    /** Contribute steps to a stage. Called once per stage, stages in build order. */
    stage: new HookMap((_stage: string) => new SyncHook<[StageBuilder]>(['builder'])),

    // ── the vmlinux link (a stage whose plugin starts a link session: `link`) ──────────────────
    /** Before the first link: request temporary links, add pass-0 objects (kallsyms). */
    beforeLinks: new HookMap((_stage: string) => new SyncHook<[LinkSession]>(['session'])),
    /** The objects and flags of every link, temporary and final. Return the spec. */
    linkSpec: new HookMap((_stage: string) => new SyncWaterfallHook<[LinkSpec]>(['spec'])),
    /** The final link is planned: edit the image in place or read it (BTFIDS, System.map, SORTTAB, arch). */
    afterLink: new HookMap((_stage: string) => new SyncHook<[ImageBuilder]>(['image'])),

    // ── vmlinux.unstripped -> vmlinux ─────────────────────────────────────────────────────────
    /** The objcopy that makes vmlinux: add flags (module hashes, relocation strip). Return the spec. */
    objcopy: new HookMap((_stage: string) => new SyncWaterfallHook<[ObjcopySpec]>(['spec'])),
    /** vmlinux is planned: read or edit it (post-link passes of newer kernels, manifests). */
    afterObjcopy: new HookMap((_stage: string) => new SyncHook<[ImageBuilder]>(['image'])),

    // ── modules ───────────────────────────────────────────────────────────────────────────────
    /** One module's `ld -r` is planned: edit the .ko in place (BTF [M]) before it is renamed. */
    moduleLinked: new HookMap((_stage: string) => new SyncHook<[ImageBuilder]>(['module'])),

    // ── the whole plan ────────────────────────────────────────────────────────────────────────
    /** Every stage is planned: inspect or veto. Return a message to reject the plan. */
    validatePlan: new SyncBailHook<[readonly Step[]], string | undefined>(['steps']),
  });
}

export type KpipeHooks = ReturnType<typeof createHooks>;

/** Hook names, for error messages ("plugin btf failed in hook afterLink"). */
export type HookName = keyof KpipeHooks;
