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
import type { KpipePlugin, PluginContext } from '../../core/plugin-api.js';
import { AFTER_LINK_ORDER, ARTIFACTS, LINK_OBJECT_ORDER, LINK_READER_ORDER } from '../../core/plugin-api.js';
import { BTF_BASE_RECORD } from '../../core/elf/btf-base.js';
import { builtin, continued, exec, extmodPrefix, treeTool } from '../kbuild.js';
import { BASE_RECORD_BUILTIN, registerBaseRecordBuiltin } from './base-record.js';

export const btfPlugin: KpipePlugin = {
  name: 'btf',
  description: 'BTF for vmlinux (pahole -J, resolve_btfids) and for modules (split BTF)',
  apply(hooks, ctx) {
    hooks.beforeLinks.for(ctx.stage).tap(ctx.name, (session) => {
      session.requestTemporaryLink({
        plugin: ctx.name,
        debugInfo: 'required',
        purpose: 'BTF',
        order: LINK_READER_ORDER.TYPES,
        onLinked(image, s) {
          const object = `${image.path}.btf.o`;
          const scratch = `${image.path}.btf.tmp`;
          s.builder.addStep(ctx.name, {
            commands: [
              // pahole -J edits its input: give it a copy, never the link output others read.
              builtin(ctx.name, 'BTF', object, 'copy', [image.path, scratch], `BTF from the DWARF of ${image.path}`),
              continued(exec(ctx.name, 'BTF', object, [...ctx.toolchain.words('PAHOLE'), '-J', ...ctx.toolchain.words('PAHOLE_FLAGS'), scratch], { env: llvmObjcopy(ctx) })),
              // SHF_ALLOC: .BTF is part of the image; --strip-all: __start_BTF/__stop_BTF come from the linker script.
              continued(exec(ctx.name, 'BTF', object, [...ctx.toolchain.words('OBJCOPY'), '--only-section=.BTF', '--set-section-flags', '.BTF=alloc,readonly', '--strip-all', scratch, object], { quietOnSuccess: true })),
              // GNU ld 2.35+ and lld refuse an ET_EXEC input.
              continued(builtin(ctx.name, 'BTF', object, 'elf-set-type-rel', [object])),
            ],
            inputs: [image.path],
            outputs: [object],
            scratch: [scratch],
          });
          s.setLinkObject('btf', object, LINK_OBJECT_ORDER.TYPES);
          ctx.artifacts.publish(ARTIFACTS.vmlinuxBtf, object);
        },
      });
    });

    hooks.afterLink.for(ctx.stage).tap({ name: ctx.name, stage: AFTER_LINK_ORDER.FIXUP }, (image) => {
      const tool = ctx.toolchain.value('RESOLVE_BTFIDS');
      image.edit(ctx.name, { label: { tag: 'BTFIDS', target: image.path }, action: { kind: 'exec', argv: [treeTool(tool), image.path] } }, [tool]);
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
      const pahole = [...ctx.toolchain.words('PAHOLE'), '-J', ...ctx.toolchain.words('PAHOLE_FLAGS'), ...ctx.toolchain.words('MODULE_PAHOLE_FLAGS'), '--btf_base', base.path, module.path];
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
  },
};

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
