// `kernels 6.1 6.12 7.2`: the kernel lines a pipeline describes. kbuild's final link changes between
// releases, and a pipeline written for some lines cannot know what another one does, so a tree of a
// version no `kernels` statement names is refused before anything is read from it or written to it,
// with the versions the pipeline does describe and what to do instead. A pipeline without a `kernels`
// statement (an org's own, written for its one tree) takes any version.
import path from 'node:path';
import type { KernelsDecl, Statement } from '../../dsl/ast.js';
import { error, type Diagnostic } from '../diagnostic.js';
import type { Kconfig } from './kconfig.js';
import { KERNELVERSION, onLine } from './kernel-version.js';
import { evaluate, exprToString } from './condition.js';

/** Every version the pipeline's `kernels` statements name, in order, with the statements. */
export function describedKernels(statements: readonly Statement[]): { versions: string[]; statements: KernelsDecl[] } {
  const decls = statements.filter((s): s is KernelsDecl => s.kind === 'kernels');
  return { versions: [...new Set(decls.flatMap((d) => d.versions.map((v) => v.text)))], statements: decls };
}

/**
 * The one error for a tree whose version the pipeline does not describe; undefined when it does (or
 * cannot tell). The `kernels` statements without a `when` name the lines described at all (any one
 * of them will do); each `kernels ... when EXPR` whose condition holds names the lines described in
 * that case (`kernels 6.1 6.12 when KBUILD_EXTMOD`), and the tree must be on one of those too.
 */
export function refuseUndescribedKernel(statements: readonly Statement[], kconfig: Kconfig, pipelineFile: string): Diagnostic | undefined {
  const { versions, statements: decls } = describedKernels(statements.filter((s) => s.kind !== 'kernels' || s.when === undefined));
  const version = kconfig.get(KERNELVERSION);
  if (version === undefined) return undefined;
  const origin = kconfig.origin(KERNELVERSION)?.where;
  if (decls.length > 0 && !versions.some((line) => onLine(version, line))) {
    const related = decls.slice(1).map((d) => ({ message: 'more kernel lines are named here', range: d.range }));
    return error('unsupported-kernel', `Linux ${version} is not a kernel line ${path.basename(pipelineFile)} describes (it describes ${versions.join(', ')})`, {
      range: decls[0]!.range,
      ...(related.length > 0 ? { related } : {}),
      hint: `the version is from ${origin ?? 'the tree'}. kbuild's final link differs between releases: ` +
        `write a pipeline for ${version} (start from a copy of ${pipelineFile}, check each step against the tree's ` +
        `scripts/link-vmlinux.sh and add ${version.split('.').slice(0, 2).join('.')} to its 'kernels' line) and pass it with ` +
        `--pipeline FILE, or put it in the output tree as kbuild.pipeline`,
    });
  }
  for (const decl of statements) {
    if (decl.kind !== 'kernels' || decl.when === undefined) continue;
    const condition = evaluate(decl.when, kconfig);
    if (!condition.value || decl.versions.some((v) => onLine(version, v.text))) continue;
    const lines = decl.versions.map((v) => v.text).join(', ');
    return error('unsupported-kernel', `Linux ${version} is not a kernel line ${path.basename(pipelineFile)} describes when ${exprToString(decl.when)} (${condition.because.join(', ')}): it describes ${lines} then`, {
      range: decl.range,
      hint: `the version is from ${origin ?? 'the tree'}. The comment above that line says what is missing; a pipeline of your own that describes it can be passed with --pipeline FILE`,
    });
  }
  return undefined;
}
