// kbuild's records kpipe reads: modules.order (below), and how it made a file: `dir/.name.cmd`,
// written by if_changed and fixdep. Its
// `savedcmd_`/`cmd_` line is the command, its `deps_` list every file the command read (the compiler's
// depfile with each CONFIG_ option as `$(wildcard include/config/X)`). kpipe reads these records where
// kbuild, not kpipe, knows what a command depends on: `kpipe clean` removes the record with the
// file, the step cache keys a kbuild compile by its recorded dependencies, and the hand-off (plugin
// kbuild-mtime) compares mtimes against them as make would.
import fs from 'node:fs';

/** kbuild's record of how TARGET was made: `dir/.name.cmd` (Kbuild.include's `dot-target`). */
export function kbuildRecordOf(target: string): string {
  const slash = target.lastIndexOf('/');
  return `${target.slice(0, slash + 1)}.${target.slice(slash + 1)}.cmd`;
}

/** A `.cmd` record, read: what kbuild made, with which command, from which files. */
export interface KbuildRecord {
  /** The `savedcmd_TARGET` (`cmd_TARGET` before 6.2, and in tools/' own records; absolute there). */
  target: string;
  command: string;
  /** `source_TARGET` (a compiled file's source), when recorded. */
  source?: string;
  /** The `deps_` list in order, `$(wildcard FILE)` unwrapped: FILE may be absent, and make minds only its mtime. */
  deps: string[];
  /** Which of `deps` were `$(wildcard ...)` (fixdep's CONFIG_ option files). */
  wildcards: Set<string>;
}

/** A record's text, read; undefined when it names no command (not a kbuild record). */
export function parseKbuildRecord(text: string): KbuildRecord | undefined {
  const head = /^(?:saved)?cmd_(\S+) :=[ ]?(.*)$/m.exec(text);
  if (!head) return undefined;
  const record: KbuildRecord = { target: head[1]!, command: head[2]!, deps: [], wildcards: new Set() };
  const source = /^source_\S+ := (.*)$/m.exec(text);
  if (source) record.source = source[1]!.trim();
  const m = /^deps_\S+ := \\\n((?:.*\\\n)*)/m.exec(text);
  for (const line of m ? m[1]!.split('\\\n') : []) {
    const entry = line.trim();
    if (entry === '') continue;
    const wildcard = /^\$\(wildcard (.+)\)$/.exec(entry)?.[1];
    record.deps.push(wildcard ?? entry);
    if (wildcard !== undefined) record.wildcards.add(wildcard);
  }
  return record;
}

/** The `deps_TARGET := \\ FILE \\ $(wildcard FILE) ...` list of a record's text, in order (none if absent). */
export function recordedDepsOf(text: string): string[] {
  return parseKbuildRecord(text)?.deps ?? [];
}

/** The dependencies recorded in a `.cmd` file (none if it cannot be read). */
export function recordedDeps(cmdFile: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(cmdFile, 'utf8');
  } catch {
    return [];
  }
  return recordedDepsOf(text);
}

/**
 * The objects of a modules.order text, in order: `dir/x.o` from 6.2; before that (Linux 6.1) the
 * file names the `.ko` files, whose objects have the same names in `.o`.
 */
export function modulesOrderObjects(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l.endsWith('.o') || l.endsWith('.ko')).map((l) => l.replace(/\.ko$/, '.o'));
}
