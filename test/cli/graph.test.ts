// `kpipe graph`: the DOT of `explain --format dot` (checked structurally: balanced, one cluster per
// stage, every step a node, every edge between declared nodes) and its SVG through Graphviz's dot;
// without dot, DOT and one line on stderr. scripts/install-deps.sh installs graphviz for CI.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertExit, assertUserError, kpipe, parseJson, removeTempDirs, show, tempDir } from './helpers.js';

test.after(removeTempDirs);

const HAVE_DOT = !spawnSync('dot', ['-V']).error;

interface ParsedDot {
  clusters: string[];
  /** Node id -> label. */
  nodes: Map<string, string>;
  edges: [string, string][];
}

/**
 * A small reader for the DOT kpipe writes: strings are skipped while braces are counted (a brace in
 * a label must not count), so "balanced" means the graph's own structure.
 */
function parseDot(text: string): ParsedDot {
  assert.match(text, /^digraph \w+ \{\n/);
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      assert.ok(depth >= 0, `a '}' without its '{' at offset ${i}`);
    }
  }
  assert.not.ok(inString, 'an unterminated string');
  assert.is(depth, 0, 'braces are balanced');
  assert.ok(text.trimEnd().endsWith('}'), 'the graph is closed');
  const clusters = [...text.matchAll(/subgraph "cluster_([^"]+)" \{/g)].map((m) => m[1]!);
  const nodes = new Map([...text.matchAll(/^ +(\w+) \[(?:[^\n]*?, )?label=("(?:[^"\\]|\\.)*")/gm)].map((m) => [m[1]!, JSON.parse(m[2]!) as string]));
  const edges = [...text.matchAll(/^ +(\w+) -> (\w+)/gm)].map((m) => [m[1]!, m[2]!] as [string, string]);
  return { clusters, nodes, edges };
}

test('graph --format dot: balanced, a cluster per stage, every step a node, edges between declared nodes', () => {
  const r = kpipe(['graph', '--profile', 'x86_64-reference-hashes', '--format', 'dot']);
  assertExit(r, 0);
  assert.is(r.stderr, '');
  const dot = parseDot(r.stdout);
  const plan = parseJson(kpipe(['explain', '--profile', 'x86_64-reference-hashes', '--format', 'json']));
  assert.equal(dot.clusters, plan.stages.map((s) => s.name), 'one cluster per stage, in build order');
  const labels = [...dot.nodes.values()];
  for (const step of plan.steps) {
    const first = step.commands.find((c) => c.label)?.label ?? step.id;
    assert.ok(first && labels.some((l) => l.split('\n').includes(first)), `a node for step ${step.id} (${first})`);
  }
  for (const stage of plan.stages) assert.ok(labels.includes(stage.name), `a node for stage ${stage.name}`);
  assert.is(dot.nodes.size, plan.steps.length + plan.stages.length, 'a node per step and per stage, nothing else');
  assert.ok(dot.edges.length > plan.steps.length / 2, `file edges are drawn (${dot.edges.length})`);
  for (const [from, to] of dot.edges) assert.ok(dot.nodes.has(from) && dot.nodes.has(to), `edge ${from} -> ${to} between declared nodes`);
  // The MODULE_HASHES ordering (vmlinux after modules) is an active, dashed edge between stage nodes.
  const id = (label: string) => [...dot.nodes].find(([, l]) => l === label)![0];
  assert.ok(r.stdout.includes(`  ${id('modules')} -> ${id('vmlinux')} [style=dashed, label="when MODULE_HASHES"`), r.stdout);
});

test('graph TARGET: only the steps that target needs', () => {
  const all = parseDot(kpipe(['graph', '--profile', 'x86_64-reference', '--format', 'dot']).stdout);
  const r = kpipe(['graph', '--profile', 'x86_64-reference', '--format', 'dot', '.tmp_vmlinux1']);
  assertExit(r, 0);
  const sub = parseDot(r.stdout);
  assert.ok(sub.nodes.size < all.nodes.size, `${sub.nodes.size} < ${all.nodes.size}`);
  // The first link compiles init/version-timestamp.o itself: one node, both lines.
  assert.ok([...sub.nodes.values()].some((l) => l.split('\n').includes('LD      .tmp_vmlinux1')));
  assert.not.ok([...sub.nodes.values()].some((l) => l.includes('[M]')), 'no module step');
});

test(`graph -o FILE.svg: ${HAVE_DOT ? 'SVG drawn by dot' : 'dot is missing: DOT in FILE.dot and one line why'}`, () => {
  const dir = tempDir('graph');
  const r = kpipe(['graph', '--profile', 'x86_64-reference', '-o', 'plan.svg'], { cwd: dir });
  assertExit(r, 0);
  if (HAVE_DOT) {
    const svg = fs.readFileSync(path.join(dir, 'plan.svg'), 'utf8');
    // dot puts an XML prolog, a doctype and comments before the element itself.
    assert.match(svg.replace(/^(?:<\?xml[^>]*>|<!DOCTYPE[^>]*>|<!--[\s\S]*?-->|\s)*/, ''), /^<svg[\s>]/);
    assert.ok(svg.includes('<title>cluster_modules</title>') && svg.includes('.tmp_vmlinux1.btf.o'), 'the stages and steps are drawn');
    assert.is(r.stderr, '');
  } else {
    parseDot(fs.readFileSync(path.join(dir, 'plan.dot'), 'utf8'));
    assert.match(r.stderr, /^kpipe graph: Graphviz `dot` is not installed/);
  }
});

test('graph without dot on PATH: DOT on stdout, and exactly one line on stderr saying why', () => {
  const r = kpipe(['graph', '--profile', 'x86_64-reference'], { env: { PATH: '/nonexistent' } });
  assertExit(r, 0);
  assert.is(r.stderr, 'kpipe graph: Graphviz `dot` is not installed (Debian: apt-get install graphviz); writing DOT instead of SVG\n', show(r));
  parseDot(r.stdout);
});

test('graph --format json and explain --format svg are usage errors', () => {
  assertUserError(kpipe(['graph', '--profile', 'x86_64-reference', '--format', 'json']));
  const r = kpipe(['explain', '--profile', 'x86_64-reference', '--format', 'svg']);
  assertUserError(r);
  assert.ok(r.stderr.includes('kpipe graph draws the plan as SVG'), r.stderr);
});

test.run();
