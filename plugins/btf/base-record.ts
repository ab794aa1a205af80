// `btf-base-record OUTPUT BASE`: writes modules.btf-base, the identity of the BTF the modules' split
// BTF is made from (core/elf/btf-base.ts). A step of its own, with BASE as input, so it is rewritten
// exactly when the base changes, and `kpipe install` can tell modules built against another kernel.
import fs from 'node:fs';
import { registerBuiltin, type BuiltinFunction } from '../../core/running/builtins.js';
import { btfDigest, formatRecord } from '../../core/elf/btf-base.js';

export const BASE_RECORD_BUILTIN = 'btf-base-record';

const baseRecord: BuiltinFunction = async (args, ctx) => {
  if (args.length !== 2) throw new Error(`${BASE_RECORD_BUILTIN}: expected OUTPUT BASE, got ${args.length} argument(s)`);
  const [output, base] = args as [string, string];
  const sha256 = btfDigest(ctx.resolve(base));
  if (sha256 === undefined) throw new Error(`${base} has no .BTF section: it cannot be the base of module BTF`);
  await fs.promises.writeFile(ctx.resolve(output), formatRecord({ sha256, base: ctx.resolve(base) }));
};

export function registerBaseRecordBuiltin(): void {
  registerBuiltin(BASE_RECORD_BUILTIN, baseRecord);
}
