// `kpipe install` (kbuild's modules_install) and `kpipe verify-modules`: module hashes on the install
// side (DESIGN.md section 5). install copies each module of modules.order to
// DIR2/lib/modules/<release>/kernel/<dir>/<x>.ko, strips it when INSTALL_MOD_STRIP is set, then does
// what the tree's config asks as Makefile.modinst does (core/install): under MODULE_HASHES appends its
// Merkle proof as a module signature, else signs it under MODULE_SIG_ALL; compresses it per
// MODULE_COMPRESS_*; installs modules.order, the builtin lists and the build link (in-tree), and
// ends with depmod when the tree has a System.map. verify-modules checks every installed
// module against the root in a vmlinux's .module_hashes section. With `M=DIR` it installs DIR's
// external modules to .../updates/ (INSTALL_MOD_DIR) as kbuild does, and writes no modules.order.
// Either way it checks the BTF the modules were based on (modules.btf-base) against the vmlinux they
// are installed for, and warns when they differ (seed 003).
import { modulesOrderObjects } from '../state/kbuild-record.js';
import fs from 'node:fs';
import path from 'node:path';
import type { CliArgs } from './args.js';
import type { Session } from '../loading/session.js';
import { error, KpipeError } from '../diagnostic.js';
import { readElfSection } from '../elf/elf-section.js';
import { BTF_BASE_RECORD, btfDigest, parseRecord } from '../elf/btf-base.js';
import {
  buildTree, parseSectionContent, proofFor, rootFromProof, sha256, stripCommand, stripInPlace, SECTION_NAME,
} from '../../plugins/module-hashes/merkle.js';
import { encodeSignature, parseSignature } from '../../plugins/module-hashes/signature.js';
import { modinstPolicy, readModinst, type Signing } from '../install/modinst-policy.js';
import { runTool } from '../install/run-tool.js';
import { depmod } from '../install/depmod.js';
import { releaseOfTree } from '../planning/kernel-version.js';

/** kbuild's INSTALL_MOD_DIR: `kernel` for in-tree modules; for external ones `updates` unless set. */
function installModDir(session: Session): string {
  return session.extmod ? session.make.env.INSTALL_MOD_DIR || 'updates' : 'kernel';
}

interface InstallLayout {
  objtree: string;
  release: string;
  /** DIR2/lib/modules/<release>, as the user wrote DIR2 (for the quiet lines). */
  shownRoot: string;
  /** The same, absolute. */
  root: string;
}

function layout(session: Session, args: CliArgs, command: string): InstallLayout {
  if (!session.objtree) throw new KpipeError([error('usage', `kpipe ${command} needs an output tree: -C DIR (or O=DIR)`)]);
  if (args.modPath === undefined) throw new KpipeError([error('usage', `kpipe ${command} needs --mod-path DIR2 (kbuild's INSTALL_MOD_PATH)`)]);
  const releaseFile = path.join(session.objtree, 'include/config/kernel.release');
  if (!fs.existsSync(releaseFile)) throw new KpipeError([error('no-kernel-release', `no ${releaseFile}`, { hint: 'build the tree first (kbuild writes it in prepare)' })]);
  const release = releaseOfTree(session.objtree)?.value ?? '';
  if (release === '' || release.includes('/')) throw new KpipeError([error('no-kernel-release', `${releaseFile} does not hold a usable release ('${release}')`)]);
  const shownRoot = path.join(args.modPath, 'lib', 'modules', release);
  return { objtree: session.objtree, release, shownRoot, root: path.resolve(process.cwd(), shownRoot) };
}

/** The lines of a modules.order text, in order (an installed one names `kernel/dir/x.ko`). */
function orderEntries(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}

export async function installCommand(session: Session, args: CliArgs): Promise<number> {
  const where = layout(session, args, 'install');
  const objtree = where.objtree;
  const moduleDir = session.extmod ?? objtree;
  const orderFile = path.join(moduleDir, 'modules.order');
  if (!fs.existsSync(orderFile)) throw new KpipeError([error('no-modules-order', `no ${orderFile}`, { hint: 'build the modules first (kpipe run)' })], 1);
  const objects = modulesOrderObjects(fs.readFileSync(orderFile, 'utf8'));
  const env = session.make.env;
  const strip = stripCommand(env.INSTALL_MOD_STRIP, session.toolchain, env);
  // vmlinux's root covers the in-tree modules only: an external module has no place in it.
  const hashes = session.kconfig.isEnabled('MODULE_HASHES') && !session.extmod;
  const installDir = installModDir(session);
  const quiet = args.quiet;
  const say = (line: string): void => void (quiet || process.stdout.write(`${line}\n`));
  const warn = (line: string): void => void process.stderr.write(`kpipe install: warning: ${line}\n`);
  const t = session.toolchain;
  const policy = modinstPolicy(session.kconfig, objtree, readModinst(objtree, session.srctree), { KGZIP: t.words('KGZIP'), XZ: t.words('XZ'), ZSTD: t.words('ZSTD') });
  const suffix = policy.compression?.suffix ?? '';
  // Under MODULE_HASHES the proof takes the signature's place: vmlinux vouches for its own modules.
  const signing = hashes ? undefined : usableSigning(policy.signing, objtree, !!session.extmod, warn);

  // Every module goes to a temporary name beside its destination first: the leaves are the hashes of
  // the installed bytes (after the strip), and the proofs need every leaf.
  const entries = objects.map((object) => {
    const ko = path.relative(moduleDir, path.resolve(moduleDir, object.replace(/\.o$/, '.ko')));
    const relative = path.posix.join(installDir, ko);
    const dest = path.join(where.root, relative);
    return { source: path.join(moduleDir, ko), relative, dest, tmp: `${dest}.${process.pid}.kpipe-tmp`, leaf: Buffer.alloc(0) as Buffer };
  });
  const missing = entries.filter((e) => !fs.existsSync(e.source));
  if (missing.length > 0) {
    throw new KpipeError(missing.map((e) => error('missing-module', `${path.relative(process.cwd(), e.source) || e.source} is listed in modules.order but does not exist`, { hint: 'build the modules first (kpipe run)' })), 1);
  }
  // Makefile.modinst: "remove the old directory and symlink" before an in-tree install.
  if (!session.extmod) {
    await fs.promises.rm(path.join(where.root, 'kernel'), { recursive: true, force: true });
    await fs.promises.rm(path.join(where.root, 'build'), { force: true });
  }
  try {
    for (const e of entries) {
      await fs.promises.mkdir(path.dirname(e.dest), { recursive: true });
      await fs.promises.copyFile(e.source, e.tmp);
      if (strip) await stripInPlace(e.tmp, strip, env);

      if (hashes) e.leaf = sha256(await fs.promises.readFile(e.tmp));
    }
    if (hashes) {
      const tree = buildTree(entries.map((e) => e.leaf));
      for (const [i, e] of entries.entries()) await fs.promises.appendFile(e.tmp, encodeSignature(proofFor(tree, i)));
      warnIfVmlinuxDisagrees(objtree, tree.root, tree.depth);
    }
    for (const e of entries) {
      const lines = [`  INSTALL ${path.join(where.shownRoot, e.relative)}`];
      if (signing) {
        lines.push(`  SIGN    ${path.join(where.shownRoot, e.relative)}`);
        const signed = await runTool([signing.tool, signing.hash, signing.key, signing.cert, e.tmp], objtree, env);
        // kbuild: "Don't stop modules_install even if we can't sign external modules."
        if (!signed.ok && !session.extmod) throw new KpipeError([error('sign-failed', `scripts/sign-file failed on ${e.relative}`, { hint: signed.output.trim() })], 1);
        if (!signed.ok) warn(`could not sign ${e.relative}: ${signed.output.trim()}`);
      }
      if (policy.compression) {
        const c = policy.compression;
        lines.push(`  ${c.tag.padEnd(7)} ${path.join(where.shownRoot, e.relative)}${suffix}`);
        const packed = await runTool([...c.argv, e.tmp], objtree, env);
        if (!packed.ok) throw new KpipeError([error('compress-failed', `${c.argv[0]} failed on ${e.relative}`, { hint: packed.output.trim() })], 1);
        await fs.promises.rename(`${e.tmp}${suffix}`, `${e.dest}${suffix}`);
      } else {
        await fs.promises.rename(e.tmp, e.dest);
      }
      for (const l of lines) say(l);
    }
  } finally {
    for (const e of entries) {
      await fs.promises.rm(e.tmp, { force: true });
      if (suffix) await fs.promises.rm(`${e.tmp}${suffix}`, { force: true });
    }
  }
  warnIfBtfBaseDiffers(moduleDir, args.vmlinux !== undefined ? path.resolve(process.cwd(), args.vmlinux) : path.join(objtree, 'vmlinux'));
  // kbuild writes modules.order, the builtin lists and the build link for the tree's own modules only.
  if (!session.extmod) await installTreeFiles(session, where, entries.map((e) => e.relative), say, warn);
  if (session.kconfig.isEnabled('MODULES')) {
    const outcome = await depmod(objtree, where.release, path.resolve(process.cwd(), args.modPath ?? ''), env);
    if (!outcome.ran) warn(`not running depmod: ${outcome.why}`);
    else {
      say(`  DEPMOD  ${where.shownRoot}`);
      if (!outcome.result.ok) throw new KpipeError([error('depmod-failed', `depmod failed for ${where.shownRoot}`, { hint: outcome.result.output.trim() })], 1);
      if (outcome.result.output.trim() !== '') process.stderr.write(outcome.result.output);
    }
  }
  return 0;
}

/**
 * The signing Makefile.modinst would do, if it can be done: without the key or the certificate an
 * external module is installed unsigned with one clear line (kbuild runs sign-file `|| true` and
 * prints OpenSSL's error per module); an in-tree install stops, as kbuild's does.
 */
function usableSigning(signing: Signing | undefined, objtree: string, extmod: boolean, warn: (line: string) => void): Signing | undefined {
  if (!signing) return undefined;
  const absent = [
    ...(signing.keyFile !== undefined && !fs.existsSync(signing.keyFile) ? [`key ${signing.keyFile} (CONFIG_MODULE_SIG_KEY)`] : []),
    ...(!fs.existsSync(path.join(objtree, signing.cert)) ? [`certificate ${path.join(objtree, signing.cert)}`] : []),
    ...(!fs.existsSync(signing.tool) ? [`${signing.tool}`] : []),
  ];
  if (absent.length === 0) return signing;
  const why = `CONFIG_MODULE_SIG_ALL asks to sign the modules, but there is no ${absent.join(' and no ')}`;
  if (!extmod) throw new KpipeError([error('no-signing-key', why, { hint: 'kbuild makes the key when it builds the kernel; give the tree its key, or install with a config without MODULE_SIG_ALL' })], 1);
  warn(`not signing the modules: ${why} (a distribution keeps its key to itself); they are installed unsigned, and a kernel with CONFIG_MODULE_SIG_FORCE will refuse them`);
  return undefined;
}

/** Makefile.modinst's files for an in-tree install: modules.order, the builtin lists, the build link. */
async function installTreeFiles(session: Session, where: InstallLayout, relatives: string[], say: (line: string) => void, warn: (line: string) => void): Promise<void> {
  await fs.promises.mkdir(where.root, { recursive: true });
  const put = async (name: string, content: Buffer | string): Promise<void> => {
    const file = path.join(where.root, name);
    await fs.promises.writeFile(`${file}.${process.pid}.kpipe-tmp`, content);
    await fs.promises.rename(`${file}.${process.pid}.kpipe-tmp`, file);
    say(`  INSTALL ${path.join(where.shownRoot, name)}`);
  };
  // `sed 's:^\(.*\)\.o$:kernel/\1.ko:'`: the names without the compression suffix.
  await put('modules.order', relatives.map((r) => `${r}\n`).join(''));
  const builtin = ['modules.builtin', 'modules.builtin.modinfo', ...(session.kconfig.isEnabled('BUILTIN_MODULE_RANGES') ? ['modules.builtin.ranges'] : [])];
  for (const name of builtin) {
    let content: Buffer;
    try {
      content = await fs.promises.readFile(path.join(where.objtree, name));
    } catch {
      // kbuild stops here ("No rule to make target"); the modules are installed by now, so say it and go on.
      warn(`${path.join(where.objtree, name)} does not exist (kbuild's compile phase writes it): not installed`);
      continue;
    }
    await put(name, content);
  }
  // `ln -s $(CURDIR)`: make's CURDIR is the tree's real path.
  await fs.promises.symlink(fs.realpathSync(where.objtree), path.join(where.root, 'build'));
  say(`  SYMLINK ${path.join(where.shownRoot, 'build')}`);
}

/**
 * Seed 003: module BTF made against one kernel's BTF and installed for another is garbage to the
 * kernel. Compares the base recorded when the modules were built with the BTF of `vmlinux`.
 */
function warnIfBtfBaseDiffers(moduleDir: string, vmlinux: string): void {
  let text: string;
  try {
    text = fs.readFileSync(path.join(moduleDir, BTF_BASE_RECORD), 'utf8');
  } catch {
    return; // the modules have no BTF (or were not built by kpipe): nothing to compare
  }
  const warn = (why: string): void => void process.stderr.write(`kpipe install: warning: ${why}\n`);
  const record = parseRecord(text);
  if (!record) return warn(`${path.join(moduleDir, BTF_BASE_RECORD)} is not a BTF base record; the modules' BTF base is unknown`);
  let installedFor: string | undefined;
  try {
    installedFor = btfDigest(vmlinux);
  } catch (e) {
    return warn(`cannot read ${vmlinux} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}) to check the modules' BTF base ${record.base}; give the vmlinux they are for with --vmlinux FILE`);
  }
  if (installedFor === record.sha256) return;
  warn(`the modules' BTF was made against ${record.base} (BTF sha256 ${record.sha256.slice(0, 16)}...), but ${vmlinux} ${installedFor ? `has other BTF (sha256 ${installedFor.slice(0, 16)}...)` : 'has no BTF'}: the kernel will reject or misread their BTF; rebuild them against it (--btf-base)`);
}

/** The installed modules would not verify against the tree's vmlinux: say so (a stale vmlinux, or a different strip). */
function warnIfVmlinuxDisagrees(objtree: string, root: Buffer, depth: number): void {
  const vmlinux = path.join(objtree, 'vmlinux');
  let content: Buffer | undefined;
  try {
    content = readElfSection(fs.readFileSync(vmlinux), SECTION_NAME);
  } catch {
    return;
  }
  if (!content) return;
  try {
    const section = parseSectionContent(content);
    if (section.depth === depth && section.root.equals(root)) return;
  } catch {
    // A malformed section disagrees too.
  }
  process.stderr.write(`kpipe install: warning: ${vmlinux}'s ${SECTION_NAME} does not match the modules just installed (rebuild vmlinux with the same INSTALL_MOD_STRIP)\n`);
}

export async function verifyModulesCommand(session: Session, args: CliArgs): Promise<number> {
  const where = layout(session, args, 'verify-modules');
  const vmlinux = args.vmlinux !== undefined ? path.resolve(process.cwd(), args.vmlinux) : path.join(where.objtree, 'vmlinux');
  let image: Buffer;
  try {
    image = fs.readFileSync(vmlinux);
  } catch (e) {
    throw new KpipeError([error('no-vmlinux', `cannot read ${vmlinux}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)], 1);
  }
  let section: { root: Buffer; depth: number };
  try {
    const content = readElfSection(image, SECTION_NAME);
    if (!content) throw new Error(`it has no ${SECTION_NAME} section (was it built with MODULE_HASHES?)`);
    section = parseSectionContent(content);
  } catch (e) {
    throw new KpipeError([error('no-module-hashes', `${vmlinux}: ${(e as Error).message}`)], 1);
  }
  const orderFile = path.join(where.root, 'modules.order');
  let installed: string[];
  try {
    installed = orderEntries(fs.readFileSync(orderFile, 'utf8'));
  } catch {
    throw new KpipeError([error('no-modules-order', `no ${orderFile}`, { hint: 'install the modules first (kpipe install)' })], 1);
  }
  // Nothing verified is not a pass (6.1's .ko-named modules.order once made install write none).
  if (installed.length === 0) {
    throw new KpipeError([error('no-modules', `${orderFile} lists no module: nothing to verify against ${vmlinux}`, { hint: 'install the modules first (kpipe install)' })], 1);
  }
  let failed = 0;
  for (const relative of installed) {
    const shown = path.join(where.shownRoot, relative);
    const why = verifyOne(path.join(where.root, relative), section);
    if (why !== undefined) {
      failed++;
      process.stdout.write(`  FAIL    ${shown}: ${why}\n`);
    }
  }
  if (failed > 0) {
    process.stdout.write(`${failed} of ${installed.length} modules failed verification against ${vmlinux}\n`);
    return 1;
  }
  process.stdout.write(`${installed.length} modules verified against ${vmlinux}\n`);
  return 0;
}

/** Undefined when the module verifies; otherwise why not. */
function verifyOne(file: string, section: { root: Buffer; depth: number }): string | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    return `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  try {
    const signature = parseSignature(bytes);
    const { root, depth, position } = rootFromProof(sha256(signature.content), signature.proof);
    if (depth !== section.depth) return `its proof has ${depth} levels, vmlinux's tree has depth ${section.depth}`;
    if (position >= 2 ** depth) return `its position ${position} is outside a tree of depth ${depth}`;
    if (!root.equals(section.root)) return `its hash does not lead to vmlinux's root (position ${position}): the module was modified or belongs to another build`;
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
