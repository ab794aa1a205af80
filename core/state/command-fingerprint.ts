// What a step's record keeps about its commands besides their identity hash, so that `why: command
// changed` can say what changed: which word of which argv, which environment variable, which builtin
// argument (issue 17). One short hash per word and per variable (FNV-1a, 32 bits: enough to find the
// difference, never used to decide; the decision stays on commandIdentity's sha256 in up-to-date.ts),
// and environment names in clear, so the record stays small while the current step supplies the text.
//
// The fingerprint is lines: `c exec` or `c builtin` per command, followed by `a H H ...` (argv or
// builtin words), `e NAME H` (its environment), `o H` (stdout), `p H` (in place), `s` (runs in the
// source tree); then `E NAME H` for the environment of the run and `S H` for the source tree.
import type { Step } from '../planning/step.js';
import { stepLabel } from '../planning/step.js';

export interface FingerprintOptions {
  env?: Record<string, string>;
  srctree?: string;
}

export function commandFingerprint(step: Step, opts: FingerprintOptions = {}): string {
  const lines: string[] = [];
  let usesSrctree = false;
  for (const { action: a } of step.commands) {
    if (a.kind === 'exec') {
      lines.push('c exec', `a ${a.argv.map(h).join(' ')}`);
      for (const k of Object.keys(a.env ?? {}).sort()) lines.push(`e ${encodeURIComponent(k)} ${h(a.env![k]!)}`);
      if (a.stdout !== undefined) lines.push(`o ${h(a.stdout)}`);
      if (a.inPlace !== undefined) lines.push(`p ${h(a.inPlace)}`);
      if (a.cwd === 'srctree') {
        lines.push('s');
        usesSrctree = true;
      }
    } else {
      lines.push('c builtin', `a ${[a.name, ...a.args].map(h).join(' ')}`);
    }
  }
  for (const k of Object.keys(opts.env ?? {}).sort()) lines.push(`E ${encodeURIComponent(k)} ${h(opts.env![k]!)}`);
  if (usesSrctree) lines.push(`S ${h(opts.srctree ?? '')}`);
  return lines.join('\n');
}

interface Parsed {
  commands: { kind: string; words: string[]; env: Map<string, string>; other: string[] }[];
  env: Map<string, string>;
  srctree?: string;
}

function parse(fingerprint: string): Parsed {
  const out: Parsed = { commands: [], env: new Map() };
  for (const line of fingerprint.split('\n')) {
    const [tag, ...rest] = line.split(' ');
    const current = out.commands.at(-1);
    if (tag === 'c') out.commands.push({ kind: rest[0] ?? '', words: [], env: new Map(), other: [] });
    else if (tag === 'a' && current) current.words = rest.filter((w) => w !== '');
    else if (tag === 'e' && current) current.env.set(decodeURIComponent(rest[0] ?? ''), rest[1] ?? '');
    else if ((tag === 'o' || tag === 'p' || tag === 's') && current) current.other.push(line);
    else if (tag === 'E') out.env.set(decodeURIComponent(rest[0] ?? ''), rest[1] ?? '');
    else if (tag === 'S') out.srctree = rest[0] ?? '';
  }
  return out;
}

/**
 * What differs between the step as it is now and the fingerprint of its last run, in words: the
 * first difference found, and how many more there are. Undefined when nothing the fingerprint sees
 * differs (a record from before fingerprints, or a change in what the identity alone covers).
 */
export function describeCommandChange(step: Step, opts: FingerprintOptions, previous: string): string | undefined {
  const was = parse(previous);
  const now = parse(commandFingerprint(step, opts));
  const found: string[] = [];
  if (was.commands.length !== now.commands.length) {
    found.push(`it has ${now.commands.length} command(s), ${was.commands.length} before`);
  } else {
    now.commands.forEach((c, i) => {
      const before = was.commands[i]!;
      const command = step.commands[i]!;
      const a = command.action;
      const text = a.kind === 'exec' ? a.argv : [a.name, ...a.args];
      const whose = `${a.kind === 'exec' ? `the argv of ${base(a.argv[0] ?? '')}` : `builtin ${a.name}'s arguments`} (${labelOf(step, i)})`;
      if (c.kind !== before.kind) found.push(`${labelOf(step, i)} is now ${c.kind === 'exec' ? 'a program' : 'a builtin'}`);
      else {
        const word = wordChange(before.words, c.words, text);
        if (word) found.push(`${word} in ${whose}`);
      }
      found.push(...envChanges(before.env, c.env, a.kind === 'exec' ? a.env ?? {} : {}).map((e) => `${e} for ${labelOf(step, i)}`));
      if (c.other.join() !== before.other.join()) found.push(`the redirection or working directory of ${labelOf(step, i)} changed`);
    });
  }
  found.push(...envChanges(was.env, now.env, opts.env ?? {}));
  if (was.srctree !== undefined && now.srctree !== undefined && was.srctree !== now.srctree) found.push(`the source tree moved (now ${opts.srctree})`);
  if (found.length === 0) return undefined;
  return found.length === 1 ? found[0] : `${found[0]} (and ${found.length - 1} more difference${found.length > 2 ? 's' : ''})`;
}

/** The first differing word, as a person reads it: word numbers from 1, argv[0] being word 1. */
function wordChange(was: string[], now: string[], text: readonly string[]): string | undefined {
  let p = 0;
  while (p < was.length && p < now.length && was[p] === now[p]) p++;
  if (p === was.length && p === now.length) return undefined;
  let s = 0;
  while (s < was.length - p && s < now.length - p && was[was.length - 1 - s] === now[now.length - 1 - s]) s++;
  const added = now.length - p - s;
  const removed = was.length - p - s;
  if (removed === 0) return `${plural(added, 'word')} ${text.slice(p, p + added).map(show).join(' ')} added at word ${p + 1}`;
  if (added === 0) return `${plural(removed, 'word')} removed at word ${p + 1}${p > 0 ? `, after ${show(text[p - 1]!)}` : ''}`;
  return `word ${p + 1} is now ${show(text[p]!)}${added + removed > 2 ? ` (${removed} word(s) replaced by ${added})` : ''}`;
}

function envChanges(was: Map<string, string>, now: Map<string, string>, values: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of now) {
    if (!was.has(k)) out.push(`environment variable ${k} is now set (${show(values[k] ?? '')})`);
    else if (was.get(k) !== v) out.push(`environment variable ${k} changed (now ${show(values[k] ?? '')})`);
  }
  for (const k of was.keys()) if (!now.has(k)) out.push(`environment variable ${k} is no longer set`);
  return out;
}

function labelOf(step: Step, i: number): string {
  for (let k = i; k >= 0; k--) {
    const l = step.commands[k]!.label;
    if (l) return `${l.tag} ${l.target}${k === i ? '' : ', continued'}`;
  }
  const l = stepLabel(step);
  return `${l.tag} ${l.target}`;
}

function base(program: string): string {
  return program.slice(program.lastIndexOf('/') + 1);
}

function plural(n: number, word: string): string {
  return n === 1 ? `1 ${word}` : `${n} ${word}s`;
}

function show(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return `'${shown}'`;
}

/** FNV-1a, 32 bits, as 8 hex digits. */
function h(text: string): string {
  let x = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    x ^= text.charCodeAt(i);
    x = Math.imul(x, 0x01000193);
  }
  return (x >>> 0).toString(16).padStart(8, '0');
}
