// Which kind of tree kpipe was pointed at, told when something in it is missing (issue 16, point 1).
// External modules are built against two kinds of tree: one the user configured and compiled (kbuild's
// `make modules_prepare` makes what they need), and a distribution's headers package
// (/usr/src/linux-headers-*), which ships what they need already and belongs to the package manager:
// `make modules_prepare` there rewrites its Makefile, deletes include/generated/autoconf.h and fails,
// so advice for one kind is damage for the other. dpkg -S says whether a package owns the tree.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type TreeKind =
  /** Installed by the package manager (`dpkg -S DIR/Makefile` names the package). */
  | { kind: 'package'; package: string }
  /** A tree the user configured (an O= tree, or the source tree itself). */
  | { kind: 'build' }
  /** Neither: no package owns it and it does not look like a kbuild tree. */
  | { kind: 'unknown' };

/** `dpkg -S FILE`'s package, or undefined when no package owns FILE (or there is no dpkg). */
export function owningPackage(file: string): string | undefined {
  const r = spawnSync('dpkg', ['-S', file], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  // "pkg: /path"; diversions print "diversion by X from: /path" lines first.
  const line = r.stdout.split('\n').find((l) => l.length > 0 && !l.startsWith('diversion by '));
  const m = line === undefined ? null : /^([^:\s]+(?::[a-z0-9]+)?(?:, [^:\s]+)*): /.exec(line);
  return m ? m[1]!.split(', ')[0] : undefined;
}

export function treeKind(objtree: string, owner: (file: string) => string | undefined = owningPackage): TreeKind {
  let real = objtree;
  try {
    real = fs.realpathSync(objtree); // /lib/modules/R/build is a link; dpkg knows the path it installed
  } catch {
    // A tree that is not there: describe it as given.
  }
  const pkg = owner(path.join(real, 'Makefile'));
  if (pkg !== undefined) return { kind: 'package', package: pkg };
  const looksBuilt = ['source', 'Kconfig', '.config', 'include/config/auto.conf'].some((f) => fs.existsSync(path.join(real, f)));
  return looksBuilt ? { kind: 'build' } : { kind: 'unknown' };
}

/**
 * What to tell the user when `missing` (a file of the tree) is not there: which kind of tree this is
 * and what restores it, never a command that writes into a tree a package owns.
 */
export function missingInTree(objtree: string, missing: string, kind: TreeKind = treeKind(objtree)): string {
  switch (kind.kind) {
    case 'package':
      return `${objtree} is the headers tree of the package ${kind.package} (dpkg -S), which ships what external modules need; ` +
        `do not run make modules_prepare there: it writes into the package's files. \`dpkg -V ${kind.package}\` lists what changed in it, ` +
        `\`apt-get install --reinstall ${kind.package}\` restores it`;
    case 'build':
      return `${objtree} is a kernel tree you configured: \`make -C ${objtree} modules_prepare\` makes ${missing} and what else external modules need`;
    case 'unknown':
      return `${objtree} is neither a kernel tree kbuild configured nor one a package installed (dpkg -S knows no owner): ` +
        'give the output tree of a kernel build (-C DIR), or a headers package\'s tree (/usr/src/linux-headers-RELEASE)';
  }
}

/** For an error about a tree: a line saying a package owns it and how to restore it; '' otherwise. */
export function packageTreeNote(objtree: string): string {
  const kind = treeKind(objtree);
  return kind.kind === 'package' ? `\n${missingInTree(objtree, '', kind)}` : '';
}
