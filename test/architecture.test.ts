// The folder rules of src/, checked over the real import graph. Read ALLOWED as the architecture: each folder may
// import only the folders listed for it (the table is acyclic, so folders form no cycles), only through the other
// folder's index, and the folders that workflow code bundles (PURE) import no Node built-in and only types from
// folders outside PURE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';

const ALLOWED: Record<string, string[]> = {
  model: [],
  oci: ['model'],
  signing: ['model', 'oci'],
  manifest: ['model'],
  plan: ['model', 'manifest'],
  state: [],
  contract: ['model', 'manifest', 'plan', 'state'],
  inventory: ['model', 'oci', 'manifest', 'plan'],
  activities: ['model', 'oci', 'signing', 'manifest', 'plan', 'inventory', 'contract', 'state', 'version'],
  workflows: ['model', 'manifest', 'plan', 'contract'],
  worker: ['activities', 'contract', 'state'],
  dev: ['model', 'oci', 'contract'],
  client: ['model', 'oci', 'signing', 'manifest', 'plan', 'inventory', 'contract', 'state', 'activities', 'workflows', 'worker', 'dev', 'version'],
  testing: ['model', 'oci', 'signing', 'manifest', 'plan', 'inventory', 'contract', 'state', 'activities', 'workflows', 'worker', 'dev'],
  version: [],
};
const PURE = new Set(['model', 'plan', 'contract', 'workflows']);

/** src-relative path (posix) → its folder: `oci/copy.ts` → oci, `version.ts` → version. */
const folderOf = (path: string): string => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path.replace(/\.ts$/, ''));

/** Every rule a set of files (src-relative path → source text) breaks, one line each. */
export function violations(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [path, text] of files) {
    const from = folderOf(path);
    if (!(from in ALLOWED)) out.push(`${path}: folder ${from} is not in the folder rules`);
    for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)) {
      const [, , typeOnly, spec] = m as unknown as [string, string, string | undefined, string];
      if (spec.startsWith('node:') && PURE.has(from) && !typeOnly) out.push(`${path}: ${from} is bundled into workflow code and may not import ${spec}`);
      if (!spec.startsWith('.')) continue;
      const target = posix.normalize(posix.join(posix.dirname(path), spec));
      const to = folderOf(target);
      if (to === from) continue;
      if (!(ALLOWED[from] ?? []).includes(to)) out.push(`${path}: ${from} may not import ${to} ('${spec}')`);
      else if (PURE.has(from) && !PURE.has(to) && !typeOnly) out.push(`${path}: ${from} is bundled into workflow code and may import only types from ${to} ('${spec}')`);
      else if (target !== to) out.push(`${path}: imports ${to} past its index ('${spec}'); import '${posix.relative(posix.dirname(path), to).replace(/^(?!\.)/, './')}'`);
    }
  }
  return out;
}

/** A cycle in the table itself, as `a -> b -> a`, or undefined. */
export function tableCycle(table: Record<string, string[]>): string | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const visit = (n: string, path: string[]): string | undefined => {
    if (state.get(n) === 'open') return [...path, n].join(' -> ');
    if (state.get(n) === 'done') return undefined;
    state.set(n, 'open');
    for (const m of table[n] ?? []) {
      const c = visit(m, [...path, n]);
      if (c) return c;
    }
    state.set(n, 'done');
    return undefined;
  };
  for (const n of Object.keys(table)) {
    const c = visit(n, []);
    if (c) return c;
  }
  return undefined;
}

function sources(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const n of readdirSync(dir)) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.ts')) files.set(relative(root, p).split('\\').join('/'), readFileSync(p, 'utf8'));
    }
  };
  walk(root);
  return files;
}

test('src/ keeps the folder rules', () => {
  const src = join(__dirname, '..', 'src');
  assert.deepEqual(violations(sources(src)), []);
});

test('the folder table has no cycle', () => {
  assert.equal(tableCycle(ALLOWED), undefined);
  assert.equal(tableCycle({ a: ['b'], b: ['a'] }), 'a -> b -> a');
});

test('a forbidden arrow, an import past an index, and, in code bundled into workflows, a Node built-in or a value from impure code are each reported', () => {
  const bad = new Map([
    ['oci/client.ts', "import { createActivities } from '../activities';"],
    ['activities/copy.ts', "import { mapLimit } from '../oci/limits';"],
    ['model/digest.ts', "import { createHash } from 'node:crypto';"],
    ['workflows/run.ts', "import type { Activities } from '../activities';\nimport type { Stats } from 'node:fs';"],
    ['signing/verify.ts', "export { x } from '../oci';\nimport { y } from './local';"],
    ['plan/plan.ts', "import type { Spec } from '../manifest';\nimport { loadSpec } from '../manifest';"],
  ]);
  assert.deepEqual(violations(bad), [
    "oci/client.ts: oci may not import activities ('../activities')",
    "activities/copy.ts: imports oci past its index ('../oci/limits'); import '../oci'",
    'model/digest.ts: model is bundled into workflow code and may not import node:crypto',
    "workflows/run.ts: workflows may not import activities ('../activities')",
    "plan/plan.ts: plan is bundled into workflow code and may import only types from manifest ('../manifest')",
  ]);
});
