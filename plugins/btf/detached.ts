// The `btf-detached` builtin: scripts/gen-btf.sh (Linux 7.x), where pahole writes the BTF to a file of
// its own (`--btf_encode_detached`), resolve_btfids reads it and writes the final `.BTF` and the
// `.BTF_ids` data beside the ELF, and objcopy puts them where they belong:
//   vmlinux: `.BTF` into an object of its own (an empty C file compiled, `--add-section .BTF=`, only
//            that section kept, ET_REL), linked into the later links; `.BTF_ids` is kept for the
//            final image's `resolve_btfids --patch_btfids`;
//   module:  `.BTF` (and `.BTF.base`, `.BTF_ids` when resolve_btfids wrote them) into the .ko itself.
// A builtin because resolve_btfids names its outputs after the ELF it reads (`ELF.BTF`, `ELF.BTF_ids`)
// and which of them it writes depends on the ELF: the builtin points the tool at a name whose derived
// files are the step's temporaries, and looks at what was written, as gen-btf.sh's `[ -f ]` does.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { getBuiltin, registerBuiltin, type BuiltinContext } from '../../core/running/builtins.js';

export const DETACHED_BUILTIN = 'btf-detached';

export interface DetachedPlan {
  mode: 'vmlinux' | 'module';
  /** The ELF the BTF is for: `.tmp_vmlinux1` (only read), or the .ko being made (edited). */
  elf: string;
  /** `PAHOLE -J PAHOLE_FLAGS [--btf_base BASE]`. */
  pahole: string[];
  /** `RESOLVE_BTFIDS RESOLVE_BTFIDS_FLAGS [--btf_base BASE]`. */
  resolveBtfids: string[];
  objcopy: string[];
  /** vmlinux: `CC CLANG_FLAGS KBUILD_CPPFLAGS KBUILD_CFLAGS -fno-lto -c -x c`, the object and the ids file to write. */
  cc?: string[];
  object?: string;
  ids?: string;
}

export function registerDetachedBuiltin(): void {
  registerBuiltin(DETACHED_BUILTIN, detached);
}

async function detached(args: string[], ctx: BuiltinContext): Promise<void> {
  const plan = JSON.parse(args[0] ?? '{}') as DetachedPlan;
  const run = (argv: string[], stdin?: string) => spawnTool(argv, ctx, stdin);
  if (plan.mode === 'module') {
    // The .ko is the step's temporary: every derived name is a temporary name too.
    const ko = ctx.resolve(plan.elf);
    const derived = (suffix: string) => `${ko}${suffix}`;
    try {
      await run([...plan.pahole, `--btf_encode_detached=${derived('.BTF.1')}`, ko]);
      await run([...plan.resolveBtfids, '--btf', derived('.BTF.1'), ko]);
      await run([...plan.objcopy, '--add-section', `.BTF=${derived('.BTF')}`, ko]);
      if (fs.existsSync(derived('.BTF.base'))) await run([...plan.objcopy, '--add-section', `.BTF.base=${derived('.BTF.base')}`, ko]);
      if (fs.existsSync(derived('.BTF_ids'))) await run([...plan.resolveBtfids.slice(0, 1), '--patch_btfids', derived('.BTF_ids'), ko]);
    } finally {
      for (const s of ['.BTF.1', '.BTF', '.BTF.base', '.BTF_ids']) fs.rmSync(derived(s), { force: true });
    }
    return;
  }
  const ids = ctx.resolve(plan.ids!);
  const object = ctx.resolve(plan.object!);
  if (!ids.endsWith('.BTF_ids')) throw new Error(`${DETACHED_BUILTIN}: the ids file must end in .BTF_ids, not ${plan.ids}`);
  // resolve_btfids writes ELF.BTF_ids: an ELF name that is the ids temporary less its suffix (a
  // symlink to the temporary link) makes it write the step's temporary, never the output itself.
  // Run in place (ninja, `kpipe builtin`), that name is the ELF itself: no symlink, or it would
  // replace the ELF with a link to itself.
  const alias = ids.slice(0, -'.BTF_ids'.length);
  const elf = path.resolve(ctx.objtree, plan.elf);
  const inPlace = alias === elf;
  if (!inPlace) {
    fs.rmSync(alias, { force: true });
    fs.symlinkSync(elf, alias);
  }
  try {
    await run([...plan.pahole, `--btf_encode_detached=${alias}.BTF.1`, alias]);
    await run([...plan.resolveBtfids, '--btf', `${alias}.BTF.1`, alias]);
    // gen-btf.sh: echo "" | $(CC) ... -c -x c -o OBJECT -
    await run([...plan.cc!, '-o', object, '-'], '\n');
    await run([...plan.objcopy, '--add-section', `.BTF=${alias}.BTF`, '--set-section-flags', '.BTF=alloc,readonly', object]);
    await run([...plan.objcopy, '--only-section=.BTF', '--strip-all', object]);
    await getBuiltin('elf-set-type-rel')!([object], { objtree: ctx.objtree, resolve: (p) => path.resolve(ctx.objtree, p) });
  } finally {
    for (const f of [...(inPlace ? [] : [alias]), `${alias}.BTF.1`, `${alias}.BTF`]) fs.rmSync(f, { force: true });
  }
}

function spawnTool(argv: string[], ctx: BuiltinContext, stdin?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: ctx.objtree,
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
      ...(ctx.env ? { env: ctx.env } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited ${code}:\n${stderr.trim()}`))));
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}
