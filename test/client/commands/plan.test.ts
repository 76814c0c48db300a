// `promoflow plan`: exit codes 0/10/2, the table grouped by phase, --json, --inventory, and errors without stacks.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { runPlanCommand } from '../../../src/client/commands/plan';

const A = `sha256:${'a'.repeat(64)}`;
const dir = mkdtempSync(path.join(tmpdir(), 'promoflow-plan-'));
const file = path.join(dir, 'promotion.yaml');
writeFileSync(file, `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: sample}
source: {registry: "127.0.0.1:5000/staging"}
destinations:
  - {name: prod, registry: "127.0.0.1:5001/prod", canonical: true}
  - {name: mirror-eu, registry: "127.0.0.1:5002/mirror"}
phases:
  - {name: production, destinations: [prod]}
  - {name: mirrors, destinations: [mirror-eu], soak: 30s}
images:
  - name: sample
    dmap: {"${A}": ["v1.0.0"]}
`);
async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runPlanCommand(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}
const inv = (repos: object) => {
  const f = path.join(dir, `inv-${Math.random()}.json`);
  writeFileSync(f, JSON.stringify({ repos }));
  return f;
};

test('changes planned: exit 10, a table per phase with counts', async () => {
  const r = await run(file);
  assert.equal(r.code, 10);
  assert.match(r.out, /^Plan sample: 2 edges: 2 copy, 0 tag-only/);
  assert.match(r.out, /Phase 1\/2 production \[prod\] soak 0s, gates verify\n.*\n {2}KIND {2}IMAGE {3}DIGEST .*\n {2}copy {2}sample {2}sha256:aaaaaaaaaaaa… +prod +v1\.0\.0/);
  assert.match(r.out, /Phase 2\/2 mirrors \[mirror-eu\] soak 30s/);
});

test('nothing to do: exit 0; --json is machine-readable', async () => {
  const full = inv({ '127.0.0.1:5001/prod/sample': { tags: { 'v1.0.0': A } }, '127.0.0.1:5002/mirror/sample': { tags: { 'v1.0.0': A } } });
  assert.equal((await run(file, '--inventory', full)).code, 0);
  const j = await run('-f', file, '--json', '--inventory', full);
  const parsed = JSON.parse(j.out) as { counts: { noop: number }; phases: unknown[] };
  assert.equal(parsed.counts.noop, 2);
  assert.equal(parsed.phases.length, 2);
});

test('invalid input: exit 2 with located errors, never a stack trace; refused edges also exit 2', async () => {
  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, 'apiVersion: promoflow.dev/v1alpha1\nkind: Promotion\n');
  const r = await run(bad);
  assert.equal(r.code, 2);
  assert.match(r.err, /bad\.yaml:1:1: metadata: is required/);
  assert.doesNotMatch(r.err, /\n\s+at /);
  assert.equal((await run()).code, 2);
  assert.equal((await run(file, '--nope')).code, 2);
  assert.equal((await run(file, '--inventory', path.join(dir, 'absent.json'))).code, 2);
  const moved = inv({ '127.0.0.1:5001/prod/sample': { tags: { 'v1.0.0': `sha256:${'b'.repeat(64)}` } } });
  const m = await run(file, '--inventory', moved);
  assert.equal(m.code, 2);
  assert.match(m.out, /tag move refused/);
  assert.equal((await run(file, '--inventory', moved, '--skip-invalid')).code, 10);
});
