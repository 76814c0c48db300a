// `promoflow plan`: exit codes 0/10/1/2, the bounded summary (phases, then the first N edges), --json lines,
// --inventory, lost digests (skipped, or failing with --strict-lost), and errors without stacks; the whole
// registry.k8s.io corpus through its overlay.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
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

test('changes planned: exit 10, counts per phase, then the edges', async () => {
  const r = await run(file);
  assert.equal(r.code, 10);
  assert.match(r.out, /^Plan sample: 2 edges: 2 copy, 0 tag-only/);
  assert.match(r.out, /Phase 1\/2 production \[prod\] soak 0s, gates verify\n {2}1 edges: 1 copy/);
  assert.match(r.out, /Phase 2\/2 mirrors \[mirror-eu\] soak 30s/);
  assert.match(r.out, /Edges with work or problems:\n {2}PHASE +KIND +IMAGE +DIGEST .*\n {2}production +copy +sample +sha256:aaaaaaaaaaaa… +prod +v1\.0\.0\n {2}mirrors +copy/);
});

test('a plan of any size prints a bounded summary; --json streams one line per edge', async () => {
  const digests = Array.from({ length: 3000 }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`);
  const big = path.join(dir, 'big.yaml');
  writeFileSync(big, `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: big}
source: {registry: "127.0.0.1:5000/staging"}
destinations:
${Array.from({ length: 50 }, (_, i) => `  - {name: d${i}, registry: "127.0.0.1:5001/d${i}"}`).join('\n')}
images:
  - name: app
    dmap:
${digests.map((d, i) => `      "${d}": ["v${i}"]`).join('\n')}
`);
  const text = await run(big, '--limit', '5');
  assert.equal(text.code, 10);
  assert.match(text.out, /^Plan big: 150000 edges: 150000 copy/);
  assert.match(text.out, /First 5 of 150000 edges with work or problems:/);
  assert.match(text.out, /… 149995 more \(--limit N shows more, --json lists every edge\)/);
  assert.match(text.out, /DESTINATION +CHANGES +REFUSED +LOST\n(?: {2}d\d+ +3000 +0 +0\n){5} {2}… 45 more/);
  assert.ok(text.out.split('\n').length < 40, 'a page, not the plan');
  const json = await run(big, '--json');
  const lines = json.out.trimEnd().split('\n');
  assert.equal(lines.length, 1 + 150000);
  const header = JSON.parse(lines[0]!) as { type: string; counts: { copy: number }; phases: Array<{ edges?: unknown }> };
  assert.deepEqual([header.type, header.counts.copy, header.phases[0]!.edges], ['plan', 150000, undefined]);
  const last = JSON.parse(lines.at(-1)!) as { type: string; destination: string; tags: string[] };
  assert.deepEqual([last.type, last.destination, last.tags], ['edge', 'd49', ['v2999']]);
  assert.equal((await run(big, '--limit', 'x')).code, 2);
});

test('a lost digest is reported and skipped (exit 0 when nothing else is to do); --strict-lost exits 1', async () => {
  const lost = inv({ '127.0.0.1:5000/staging/sample': { digests: [] }, '127.0.0.1:5001/prod/sample': {}, '127.0.0.1:5002/mirror/sample': {} });
  const r = await run(file, '--inventory', lost);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Lost \(1 digest\(s\) not in their source: reported and skipped, like kpromo's _LOST_/);
  assert.match(r.out, /sample@sha256:a{64} not in 127\.0\.0\.1:5000\/staging\/sample/);
  assert.equal((await run(file, '--inventory', lost, '--strict-lost')).code, 1);
});

test('nothing to do: exit 0; --json is machine-readable', async () => {
  const full = inv({ '127.0.0.1:5001/prod/sample': { tags: { 'v1.0.0': A } }, '127.0.0.1:5002/mirror/sample': { tags: { 'v1.0.0': A } } });
  assert.equal((await run(file, '--inventory', full)).code, 0);
  const j = await run('-f', file, '--json', '--inventory', full);
  const parsed = JSON.parse(j.out.trim().split('\n')[0]!) as { counts: { noop: number }; phases: unknown[] };
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

const corpus = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'corpus', 'k8s-io', 'registry.k8s.io');
const overlay = path.resolve(__dirname, '..', '..', '..', 'examples', 'k8s-io', 'promoflow-overlay.yaml');

test('the registry.k8s.io corpus through its overlay: the real defects with file:line, 158,763 tag edges, phases canary → rest', { skip: !existsSync(corpus) && '../shared/corpus absent: corpus test skipped' }, async () => {
  const empty = inv({});
  const strict = await run(corpus, '--overlay', overlay, '--inventory', empty);
  assert.equal(strict.code, 2, 'the two invalid digests fail a strict plan');
  assert.deepEqual(strict.err.split('\n').filter((l) => /: images\[/.test(l)).map((l) => l.slice(l.indexOf('images/'), l.indexOf(': images['))), ['images/k8s-staging-ingress-nginx/images.yaml:434:5', 'images/k8s-staging-minikube/images.yaml:9:5']);
  const r = await run(corpus, '--overlay', overlay, '--inventory', empty, '--skip-invalid', '--json');
  assert.equal(r.code, 10);
  const skipped = r.err.split('\n').filter((l) => l.startsWith('skipped: '));
  assert.equal(skipped.length, 2);
  const lines = r.out.trimEnd().split('\n');
  const header = JSON.parse(lines[0]!) as { phases: Array<{ name: string }>; counts: { copy: number; overlap: number } };
  assert.deepEqual(header.phases.map((p) => p.name), ['canary', 'americas', 'rest-of-world']);
  let tagEdges = 0;
  for (const l of lines.slice(1)) tagEdges += Math.max(1, (JSON.parse(l) as { tags: string[] }).tags.length);
  // kpromo's own count is 158,807; the difference is the 2 invalid digests × 22 destinations (check-kpromo shows it).
  assert.equal(tagEdges, 158807 - 44);
  assert.equal(header.counts.overlap, 0);
});
