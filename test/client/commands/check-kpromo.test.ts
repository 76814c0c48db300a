// `promoflow check-kpromo` on the real registry.k8s.io manifests (../shared/corpus/k8s-io): kpromo's own count of
// 158,807 tag edges, promoflow's, and the one difference (the two invalid digests promoflow isolates) with its reason.
// Also the exit codes on a tree where both agree and on bad input.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCheckKpromo } from '../../../src/client/commands/check-kpromo';

const corpus = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'corpus', 'k8s-io', 'registry.k8s.io');
const absent = !existsSync(corpus);

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCheckKpromo(argv, { stdout: (s) => (out += `${s}\n`), stderr: (s) => (err += `${s}\n`) });
  return { code, out, err };
}

test('the corpus: kpromo 158,807 edges, promoflow the same but for the 2 invalid digests (44 edges), exit 1', { skip: absent && '../shared/corpus absent: corpus test skipped' }, async () => {
  const r = await run(corpus, '--json');
  assert.equal(r.code, 1);
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });
  const summary = lines[0] as unknown as { kpromo: { edges: number; manifests: number; failures: number }; promoflow: { edges: number; skipped: number }; same: number; onlyKpromo: number; onlyPromoflow: number };
  assert.deepEqual(summary.kpromo, { edges: 158807, manifests: 88, redundant: 0, failures: 20 });
  assert.deepEqual([summary.promoflow.edges, summary.promoflow.skipped, summary.same, summary.onlyKpromo, summary.onlyPromoflow], [158763, 2, 158763, 44, 0]);
  const only = lines.filter((l) => l.type === 'only-kpromo') as unknown as Array<{ image: string; digest: string; destinations: number; reason: string }>;
  assert.deepEqual(only.map((g) => [g.image, g.destinations]), [['e2e-test-httpbin', 22], ['kube-registry-proxy', 22]]);
  assert.match(only[0]!.reason, /images\/k8s-staging-ingress-nginx\/images\.yaml:434:5: .* is not a digest/);
  assert.match(only[1]!.reason, /images\/k8s-staging-minikube\/images\.yaml:9:5: .* is not a digest/);
  assert.equal(lines.filter((l) => l.type === 'kpromo-failure' && /corresponding file .* does not exist/.test(String(l.message))).length, 20);
});

test('a tree both tools read alike: exit 0, "The same edges"; bad input: exit 2 without a stack trace', async () => {
  const d = mkdtempSync(path.join(tmpdir(), 'promoflow-check-'));
  mkdirSync(path.join(d, 'manifests', 'p'), { recursive: true });
  mkdirSync(path.join(d, 'images', 'p'), { recursive: true });
  writeFileSync(path.join(d, 'manifests', 'p', 'promoter-manifest.yaml'), 'registries:\n- name: gcr.io/staging\n  src: true\n- name: eu.gcr.io/prod\n- name: us.gcr.io/prod\n');
  writeFileSync(path.join(d, 'images', 'p', 'images.yaml'), `- name: app\n  dmap:\n    "sha256:${'a'.repeat(64)}": ["v1", "v1.0"]\n    "sha256:${'b'.repeat(64)}": []\n`);
  const r = await run(d);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^kpromo: 6 edges from 1 manifest\(s\)\npromoflow: 6 edges\nsame: 6 · only kpromo: 0 · only promoflow: 0\n\nThe same edges/);
  const missing = await run(path.join(d, 'absent'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /absent: no such file or directory/);
  assert.equal((await run()).code, 2);
  assert.equal((await run(d, '--nope')).code, 2);
  assert.doesNotMatch(missing.err, /\n\s+at /);
});
