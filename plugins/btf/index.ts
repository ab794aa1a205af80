// btf: BPF type information (CONFIG_DEBUG_INFO_BTF, DEBUG_INFO_BTF_MODULES).
//   - in a vmlinux link stage: pahole -J on the first temporary link that keeps debug info, `.BTF`
//     extracted into an ET_REL object that every later link carries, and resolve_btfids on the
//     final image;
//   - in a modules stage: `pahole --btf_base` and `resolve_btfids -b` on each .ko, against vmlinux's BTF
//     object alone (DESIGN.md section 4: byte-identical to basing it on vmlinux), so module BTF never
//     waits for the kallsyms passes, and reruns only when that BTF's content changes. External
//     modules (`M=DIR`) are based on `--btf-base FILE`, else on the tree's vmlinux as kbuild does,
//     else get no BTF (one message for the run); modules.btf-base records which base it was.
import fs from 'node:fs';
import path from 'node:path';
import type { KpipePlugin, PluginContext, StepSpec } from '../../core/plugin-api.js';
import { AFTER_LINK_ORDER, ARTIFACTS, LINK_OBJECT_ORDER, LINK_READER_ORDER } from '../../core/plugin-api.js';
import { BTF_BASE_RECORD } from '../../core/elf/btf-base.js';
import { builtin, continued, exec, extmodPrefix, treeTool } from '../kbuild.js';
import { BASE_RECORD_BUILTIN, registerBaseRecordBuiltin } from './base-record.js';
import { DETACHED_BUILTIN, registerDetachedBuiltin, type DetachedPlan } from './detached.js';

export const btfPlugin: KpipePlugin = {
  name: 'btf',
  description: 'BTF for vmlinux (pahole -J, resolve_btfids) and for modules (split BTF)',
  apply(hooks, ctx) {
    const detached = ctx.options.detached === true;
    if (detached) registerDetachedBuiltin();
    let ids: string | undefined;
    hooks.beforeLinks.for(ctx.stage).tap(ctx.name, (session) => {
      const separate = ctx.options.separate_link === true;
      session.requestTemporaryLink({
        plugin: ctx.name,
        debugInfo: 'required',
        purpose: 'BTF',
        order: LINK_READER_ORDER.TYPES,
        ...(separate ? { name: '.tmp_vmlinux.btf' } : {}),
        onLinked(image, s) {
          const object = separate ? '.btf.vmlinux.bin.o' : `${image.path}.btf.o`;
          if (detached) {
            ids = `${image.path}.BTF_ids`;
            s.builder.addStep(ctx.name, detachedVmlinuxStep(ctx, image.path, object, ids));
          } else {
            s.builder.addStep(ctx.name, inPlaceVmlinuxStep(ctx, image.path, object));
          }
          s.setLinkObject('btf', object, LINK_OBJECT_ORDER.TYPES);
          ctx.artifacts.publish(ARTIFACTS.vmlinuxBtf, object);
        },
      });
    });

    hooks.afterLink.for(ctx.stage).tap({ name: ctx.name, stage: AFTER_LINK_ORDER.FIXUP }, (image) => {
      const tool = ctx.toolchain.value('RESOLVE_BTFIDS');
      // gen-btf.sh resolved the ids on the temporary link: the image only gets them patched in.
      const argv = ids !== undefined ? [treeTool(tool), '--patch_btfids', ids, image.path] : [treeTool(tool), image.path];
      image.edit(ctx.name, { label: { tag: 'BTFIDS', target: image.path }, action: { kind: 'exec', argv } }, ids !== undefined ? [tool, ids] : [tool]);
    });

    let announced = false;
    let basedOn: string | undefined;
    hooks.moduleLinked.for(ctx.stage).tap(ctx.name, (module) => {
      const base = baseBtf(ctx);
      if ('why' in base) {
        // seed 003: one message for the whole run, not one per module.
        if (!announced) ctx.warn(`skipping BTF for modules: ${base.why}`);
        announced = true;
        return;
      }
      basedOn = base.path;
      const tool = ctx.toolchain.value('RESOLVE_BTFIDS');
      if (detached) {
        // gen-btf.sh --btf_base BASE X.ko: detached BTF, resolve_btfids, objcopy into the .ko.
        const plan: DetachedPlan = {
          mode: 'module',
          elf: module.path,
          pahole: [...ctx.toolchain.words('PAHOLE'), '-J', ...paholeFlags(ctx), '--btf_base', base.path],
          resolveBtfids: [treeTool(tool), ...ctx.toolchain.words('RESOLVE_BTFIDS_FLAGS'), '--btf_base', base.path],
          objcopy: ctx.toolchain.words('OBJCOPY'),
        };
        module.edit(ctx.name, builtin(ctx.name, 'BTF [M]', module.path, DETACHED_BUILTIN, [JSON.stringify(plan)], 'gen-btf.sh: detached BTF, embedded'), [base.path, tool]);
        return;
      }
      const pahole = [...ctx.toolchain.words('PAHOLE'), '-J', ...paholeFlags(ctx), ...ctx.toolchain.words('MODULE_PAHOLE_FLAGS'), '--btf_base', base.path, module.path];
      module.edit(ctx.name, { label: { tag: 'BTF [M]', target: module.path }, action: { kind: 'exec', argv: pahole, env: llvmObjcopy(ctx) } }, [base.path]);
      module.edit(ctx.name, { action: { kind: 'exec', argv: [treeTool(tool), '-b', base.path, module.path] } }, [tool]);
    });

    // After modfinal's stage tap (the pipeline lists it first): record the base the modules got.
    hooks.stage.for(ctx.stage).tap(ctx.name, (builder) => {
      if (basedOn === undefined) return;
      registerBaseRecordBuiltin();
      const record = `${extmodPrefix(ctx)}${BTF_BASE_RECORD}`;
      builder.addStep(ctx.name, {
        commands: [builtin(ctx.name, 'BTFBASE', record, BASE_RECORD_BUILTIN, [record, basedOn], 'which BTF the modules\' BTF is based on')],
        inputs: [basedOn],
        outputs: [record],
      });
    });
  },
  options: {
    base: { description: 'the BTF modules are based on when no stage publishes one (e.g. /sys/kernel/btf/vmlinux); `kpipe run --btf-base FILE` sets it' },
    separate_link: { description: "vmlinux's BTF from a link of its own, .tmp_vmlinux.btf, into .btf.vmlinux.bin.o (link-vmlinux.sh before 6.11)", default: false },
    detached: { description: "scripts/gen-btf.sh's flow: pahole --btf_encode_detached, resolve_btfids --btf, objcopy --add-section (7.x)", default: false },
    reproducible: { description: "drop pahole's -j where it makes BTF differ run to run (pahole < 1.27; from 1.27 add --btf_features=+reproducible_build)", default: true },
  },
};

/**
 * Why the links after the BTF need not wait for pahole: an edit of a function's body, the everyday
 * one, changes no type, so the BTF comes out byte-identical (and the modules' BTF stays put).
 */
const UNCHANGED_TYPES = 'most edits change no type: the later links start on the last BTF while pahole runs';

/** link-vmlinux.sh's gen_btf (before 7.0): pahole -J on a copy of the link, `.BTF` extracted into an ET_REL object. */
function inPlaceVmlinuxStep(ctx: PluginContext, image: string, object: string): StepSpec {
  const scratch = `${image}.btf.tmp`;
  return {
    commands: [
      // pahole -J edits its input: give it a copy, never the link output others read.
      builtin(ctx.name, 'BTF', object, 'copy', [image, scratch], `BTF from the DWARF of ${image}`),
      continued(exec(ctx.name, 'BTF', object, [...ctx.toolchain.words('PAHOLE'), '-J', ...paholeFlags(ctx), scratch], { env: llvmObjcopy(ctx) })),
      // SHF_ALLOC: .BTF is part of the image; --strip-all: __start_BTF/__stop_BTF come from the linker script.
      continued(exec(ctx.name, 'BTF', object, [...ctx.toolchain.words('OBJCOPY'), '--only-section=.BTF', '--set-section-flags', '.BTF=alloc,readonly', '--strip-all', scratch, object], { quietOnSuccess: true })),
      // GNU ld 2.35+ and lld refuse an ET_EXEC input.
      continued(builtin(ctx.name, 'BTF', object, 'elf-set-type-rel', [object])),
    ],
    inputs: [image],
    outputs: [object],
    scratch: [scratch],
    likelyUnchanged: UNCHANGED_TYPES,
  };
}

/** scripts/gen-btf.sh IMAGE (7.x): the BTF object and the `.BTF_ids` data the final image is patched with. */
function detachedVmlinuxStep(ctx: PluginContext, image: string, object: string, ids: string): StepSpec {
  const t = ctx.toolchain;
  const tool = t.value('RESOLVE_BTFIDS');
  const plan: DetachedPlan = {
    mode: 'vmlinux',
    elf: image,
    pahole: [...t.words('PAHOLE'), '-J', ...paholeFlags(ctx)],
    resolveBtfids: [treeTool(tool), ...t.words('RESOLVE_BTFIDS_FLAGS')],
    objcopy: t.words('OBJCOPY'),
    cc: [...t.words('CC'), ...t.words('CLANG_FLAGS'), ...t.words('KBUILD_CPPFLAGS'), ...t.words('KBUILD_CFLAGS'), '-fno-lto', '-c', '-x', 'c'],
    object,
    ids,
  };
  return {
    commands: [builtin(ctx.name, 'BTF', image, DETACHED_BUILTIN, [JSON.stringify(plan)], `gen-btf.sh: BTF from the DWARF of ${image}, detached`)],
    inputs: [image, tool],
    outputs: [object, ids],
    likelyUnchanged: UNCHANGED_TYPES,
    scratch: [`${image}.BTF.1`, `${image}.BTF`],
  };
}

/**
 * PAHOLE_FLAGS as the tree gives them, made deterministic: pahole's `-j` (1.22 on) encodes types in the
 * order its threads finish, so two links of one tree differ in `.BTF` (6.1 passes `-j` with pahole 1.24
 * whatever the environment; 6.12 and 7.2 only without KBUILD_BUILD_TIMESTAMP). Before 1.27 kpipe drops
 * `-j`; from 1.27 it keeps it with `--btf_features=+reproducible_build`, which orders the output.
 */
export function paholeFlags(ctx: PluginContext): string[] {
  const words = ctx.toolchain.words('PAHOLE_FLAGS');
  if (ctx.options.reproducible === false) return words;
  const jobs = (w: string) => /^-j[0-9]*$/.test(w) || /^--jobs(=[0-9]+)?$/.test(w);
  const version = Number(ctx.kconfig.get('PAHOLE_VERSION') ?? 'NaN');
  if (!(version >= 127)) return words.filter((w) => !jobs(w));
  if (words.some(jobs) && !words.some((w) => w.includes('reproducible_build'))) return [...words, '--btf_features=+reproducible_build'];
  return words;
}

function llvmObjcopy(ctx: PluginContext): Record<string, string> {
  return { LLVM_OBJCOPY: ctx.toolchain.value('OBJCOPY') };
}

/**
 * vmlinux's BTF from an earlier stage, else the `base` option (`--btf-base`), else, for external
 * modules, the tree's vmlinux as Makefile.modfinal takes it (seed 003).
 */
function baseBtf(ctx: PluginContext): { path: string } | { why: string } {
  const published = ctx.artifacts.lookup(ARTIFACTS.vmlinuxBtf);
  if (!('why' in published)) return { path: published.path };
  if (typeof ctx.options.base === 'string') return { path: ctx.options.base };
  if (ctx.make.extmod && ctx.objtree && fs.existsSync(path.join(ctx.objtree, 'vmlinux'))) return { path: 'vmlinux' };
  const why = ctx.make.extmod ? `${ctx.objtree ?? 'the tree'} has no vmlinux` : published.why;
  return { why: `${why}; give a base with \`--btf-base FILE\` (e.g. /sys/kernel/btf/vmlinux of the kernel they are for)` };
}
