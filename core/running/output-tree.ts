// A plugin may declare outputs (and scratch files) only inside the output tree (issue 6): the executor
// renames temporaries over them, `kpipe clean` removes them and kbuild writes delegated ones in place,
// so one that resolves elsewhere (`../x`, `/etc/x`, or a directory that is a symlink out of the tree)
// would let a plan write or delete files kpipe does not own. This is the one place that decides it;
// the step graph reports what it finds, naming the plugin that declared the path.
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../diagnostic.js';
import { error } from '../diagnostic.js';
import { isInsideTree } from '../paths.js';
import type { Step } from '../planning/step.js';

/**
 * Every declared output or scratch file of `steps` (canonical paths) that is not inside `objtree` or
 * one of `extraRoots` (absolute: the external module directory of `M=DIR`, which kpipe owns instead).
 */
export function outputsOutsideTree(steps: readonly Step[], objtree: string, extraRoots: readonly string[] = []): Diagnostic[] {
  const resolver = new TreeResolver(objtree);
  const extra = extraRoots.map((r) => path.resolve(r)).map((root) => ({ root, resolver: new TreeResolver(root) }));
  const out: Diagnostic[] = [];
  const check = (step: Step, kind: string, p: string) => {
    const home = isInsideTree(p) ? undefined : extra.find((e) => p.startsWith(`${e.root}/`));
    const where = home ? home.resolver.escapes(p.slice(home.root.length + 1)) : !isInsideTree(p) ? 'outside the output tree' : resolver.escapes(p);
    if (where === undefined) return;
    out.push(
      error('output-outside-tree', `plugin ${step.plugin} declares ${kind} ${p} (step ${step.id}), which is ${where} ${objtree}`, {
        plugin: step.plugin,
        hint: 'a plugin writes only inside the output tree; declare a path relative to it',
      }),
    );
  };
  for (const step of steps) {
    for (const p of step.outputs) check(step, 'output', p);
    for (const p of step.scratch ?? []) check(step, 'scratch file', p);
  }
  return out;
}

/** Follows symlinks of paths inside a tree that exists; a tree that does not (explain --profile) has none. */
class TreeResolver {
  private readonly realRoot: string | undefined;
  /** Canonical directory -> where it really is (its missing tail appended to its deepest existing ancestor). */
  private readonly dirs = new Map<string, string>();

  constructor(private readonly objtree: string) {
    try {
      this.realRoot = fs.realpathSync(objtree);
    } catch {
      this.realRoot = undefined;
    }
  }

  /** Undefined when `p` (canonical, lexically inside) stays inside; else why it does not. */
  escapes(p: string): string | undefined {
    if (this.realRoot === undefined) return undefined;
    const slash = p.lastIndexOf('/');
    const dir = this.realDir(slash < 0 ? '' : p.slice(0, slash));
    if (!this.inside(dir, true)) return `in a directory that resolves through a symlink to ${dir}, outside the output tree`;
    // The output itself may be a symlink: kbuild (delegated steps) and ninja would write through it.
    const name = p.slice(slash + 1);
    if (!this.symlinksIn(dir).has(name)) return undefined;
    const target = path.resolve(dir, fs.readlinkSync(path.join(dir, name)));
    if (!this.inside(this.realFile(target), false)) return `a symlink to ${target}, outside the output tree`;
    return undefined;
  }

  private readonly links = new Map<string, Set<string>>();
  /**
   * The names of the symlinks in a directory: one readdir per directory instead of one lstat per
   * output (11,000 module outputs live in a few hundred directories).
   */
  private symlinksIn(realDir: string): Set<string> {
    let names = this.links.get(realDir);
    if (names) return names;
    names = new Set();
    try {
      for (const e of fs.readdirSync(realDir, { withFileTypes: true })) if (e.isSymbolicLink()) names.add(e.name);
    } catch {
      // not there yet: nothing in it is a symlink
    }
    this.links.set(realDir, names);
    return names;
  }

  private inside(real: string, rootAllowed: boolean): boolean {
    const root = this.realRoot!;
    return (rootAllowed && real === root) || real.startsWith(root === '/' ? '/' : `${root}/`);
  }

  private realDir(canonicalDir: string): string {
    let real = this.dirs.get(canonicalDir);
    if (real !== undefined) return real;
    const abs = canonicalDir === '' ? this.objtree : path.join(this.objtree, canonicalDir);
    try {
      real = fs.realpathSync(abs);
    } catch {
      const slash = canonicalDir.lastIndexOf('/');
      real = canonicalDir === '' ? this.realRoot! : path.join(this.realDir(slash < 0 ? '' : canonicalDir.slice(0, slash)), canonicalDir.slice(slash + 1));
    }
    this.dirs.set(canonicalDir, real);
    return real;
  }

  /** A symlink's target as it really is (a dangling one: its directory resolved). */
  private realFile(target: string): string {
    try {
      return fs.realpathSync(target);
    } catch {
      try {
        return path.join(fs.realpathSync(path.dirname(target)), path.basename(target));
      } catch {
        return target;
      }
    }
  }
}
