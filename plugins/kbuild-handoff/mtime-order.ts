// kbuild-mtime: the last word of the hand-off. kpipe decides by content, make by modification time:
// when kpipe proves a target current although a prerequisite was rewritten with the same bytes (early
// cutoff: a .mod.o kbuild recompiled, a vmlinux relinked identically while the modules kept their
// BTF), the target is older than that prerequisite and make would redo it (relink vmlinux, or run
// pahole a second time on a .ko that already has BTF). This step runs after every image is in place,
// reads kbuild's own prerequisites of each (its rule's, plus the `deps_` its .cmd file lists), and
// moves a target's mtime just past its newest prerequisite when, and only when, it is older. It never
// creates or rewrites a file, and it runs last, after kpipe has proven every target by content.
import fs from 'node:fs';
import path from 'node:path';
import type { KpipePlugin } from '../../core/plugin-api.js';
import { ARTIFACTS } from '../../core/plugin-api.js';
import { registerBuiltin, type BuiltinFunction } from '../../core/running/builtins.js';
import { recordedDeps } from '../../core/state/kbuild-record.js';
import { imageFlow } from './records.js';
import { builtin, continued, dotCmdFile, moduleLinkerScript, moduleObjects, moduleObjectsOf, vmlinuxPrerequisites } from '../kbuild.js';

export const MTIME_BUILTIN = 'kbuild-mtime-order';

export const kbuildMtimePlugin: KpipePlugin = {
  name: 'kbuild-mtime',
  description: "make's view of kpipe's images: each no older than what kbuild would make it from",
  options: {
    image_flow: { description: 'as kbuild-cmd\'s: "link" (vmlinux is the link, before 6.15) or "unstripped" (vmlinux.unstripped is, and vmlinux, modules.builtin.modinfo and modules.builtin are made from it)', default: 'link' },
  },
  apply(hooks, ctx) {
    registerMtimeBuiltin();
    const flow = imageFlow(ctx);
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      const image = ctx.artifacts.lookup(ARTIFACTS.image);
      const groups: string[][] = [];
      if (!('why' in image) && flow === 'link') groups.push([image.path, ...vmlinuxPrerequisites(ctx)]);
      if (!('why' in image) && flow === 'unstripped') {
        // Makefile.vmlinux (6.15 on), in make's order: each target after what it is made from.
        const unstripped = ctx.artifacts.lookup(ARTIFACTS.unstrippedImage);
        if (!('why' in unstripped)) {
          groups.push([unstripped.path, ...vmlinuxPrerequisites(ctx, flow)], [image.path, unstripped.path]);
          for (const [file, from] of [['modules.builtin.modinfo', unstripped.path], ['modules.builtin', 'modules.builtin.modinfo']] as const) {
            if (!('why' in ctx.artifacts.lookup(file))) groups.push([file, from]);
          }
        }
      }
      // modules.order's objects (before 6.2 it names the .ko files: moduleObjects reads both).
      const objects = ctx.kconfig.isEnabled('MODULES') && ctx.readFile('modules.order') !== undefined ? moduleObjects(ctx) : [];
      const lds = moduleLinkerScript(ctx);
      // Makefile.modfinal: `%.ko: ... $(and $(CONFIG_DEBUG_INFO_BTF_MODULES),$(KBUILD_BUILTIN),vmlinux)`.
      const vmlinux = ctx.kconfig.isEnabled('DEBUG_INFO_BTF_MODULES') && !('why' in image) ? [image.path] : [];
      for (const object of objects) {
        groups.push([object.replace(/\.o$/, '.ko'), ...moduleObjectsOf(object), lds, ...vmlinux]);
      }
      if (groups.length === 0) return;
      builder.addStep(ctx.name, {
        id: `${ctx.stage}:mtime-order`,
        // No quiet line, as kbuild prints none for it: the step changes no file's content.
        commands: [continued(builtin(ctx.name, 'MTIME', `${groups.length} kbuild targets`, MTIME_BUILTIN, groups.flatMap(([target, ...prerequisites]) => [`${target}:`, ...prerequisites]), 'make decides by mtime: no image older than its prerequisites'))],
        // The images only: what they were made from was made before them (and a file kbuild's rule
        // names but that does not exist is make's business, not this step's).
        inputs: groups.map(([target]) => target!),
        outputs: [],
        // kbuild's rule, not kpipe's record, decides whether there is anything to do: run every time.
        delegated: true,
      });
    });
  },
};

export function registerMtimeBuiltin(): void {
  registerBuiltin(MTIME_BUILTIN, mtimeOrder);
}

/** `kbuild-mtime-order TARGET: PREREQ... TARGET: PREREQ...`, targets in order (vmlinux before the modules). */
const mtimeOrder: BuiltinFunction = async (args, ctx) => {
  const groups: { target: string; prerequisites: string[] }[] = [];
  for (const a of args) {
    if (a.endsWith(':')) groups.push({ target: a.slice(0, -1), prerequisites: [] });
    else if (groups.length === 0) throw new Error(`${MTIME_BUILTIN}: expected TARGET: first, got ${a}`);
    else groups.at(-1)!.prerequisites.push(a);
  }
  for (const { target, prerequisites } of groups) {
    const file = ctx.resolve(target);
    const own = fs.statSync(file, { bigint: true }).mtimeNs;
    let newest = 0n;
    for (const p of [...prerequisites, ...recordedDeps(ctx.resolve(dotCmdFile(target)))]) {
      if (p === '') continue;
      const st = fs.statSync(path.resolve(ctx.objtree, p), { bigint: true, throwIfNoEntry: false });
      if (st && st.mtimeNs > newest) newest = st.mtimeNs;
    }
    if (newest <= own) continue;
    // utimes takes seconds as a double (about 0.25 us of precision today): step 10 us past, never short.
    const seconds = Number(newest / 1000n) / 1e6 + 10e-6;
    const atime = fs.statSync(file).atime;
    fs.utimesSync(file, atime, seconds);
  }
};
