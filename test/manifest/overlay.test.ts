// The rollout overlay for a kpromo layout: found beside manifests/ and images/ (or named), it groups destinations by
// region or registry into phases, marks each project's canonical destination, sets signing and per-host limits; its
// mistakes are located errors that --skip-invalid never isolates.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { formatError, loadSpec, ManifestLoadError } from '../../src/manifest/load';

const A = `sha256:${'a'.repeat(64)}`;
const REGIONS = ['us-central1', 'us-east1', 'europe-west1', 'asia-east1'];

/** Two projects, each promoting to the four regional Artifact Registry paths and eu.gcr.io. */
function layout(overlay?: string): string {
  const d = mkdtempSync(path.join(tmpdir(), 'promoflow-overlay-'));
  for (const p of ['one', 'two']) {
    mkdirSync(path.join(d, 'manifests', p), { recursive: true });
    mkdirSync(path.join(d, 'images', p), { recursive: true });
    const dests = [...REGIONS.map((r) => `${r}-docker.pkg.dev/prod/images/${p}`), `eu.gcr.io/prod/${p}`];
    writeFileSync(path.join(d, 'manifests', p, 'promoter-manifest.yaml'), `registries:\n- name: gcr.io/staging-${p}\n  src: true\n${dests.map((x) => `- name: ${x}\n`).join('')}`);
    writeFileSync(path.join(d, 'images', p, 'images.yaml'), `- name: app\n  dmap:\n    "${A}": ["v1"]\n`);
  }
  if (overlay !== undefined) writeFileSync(path.join(d, 'promoflow-overlay.yaml'), overlay);
  return d;
}

const HEAD = 'apiVersion: promoflow.dev/v1alpha1\nkind: KpromoOverlay\n';

async function errors(p: string, opts = {}) {
  try {
    await loadSpec(p, opts);
  } catch (e) {
    assert.ok(e instanceof ManifestLoadError);
    return e.errors.map((x) => formatError({ ...x, file: path.basename(x.file) }));
  }
  return assert.fail('expected errors');
}

test('found beside the layout: canary region, then by registry, then the rest; canonical, signing and limits applied', async () => {
  const d = layout(`${HEAD}metadata: {name: prod}
phases:
  - {name: canary, regions: [us-central1], soak: 10m, gates: {approval: true}}
  - {name: gcr, registries: ["*.gcr.io/prod"]}
  - {name: rest, regions: ["*"]}
canonical: us-central1-docker.pkg.dev/prod/images
signing: {key: "env://COSIGN_KEY"}
limits:
  - {host: "*-docker.pkg.dev", concurrency: 4}
  - {host: gcr.io, requestsPerSecond: 5}
`);
  const { spec } = await loadSpec(d);
  assert.equal(spec.name, 'prod');
  assert.deepEqual(spec.phases.map((p) => [p.name, p.destinations.length, p.soakSeconds, p.gates.approval]), [['canary', 2, 600, true], ['gcr', 2, 0, false], ['rest', 6, 0, false]]);
  assert.deepEqual(spec.phases[1]!.destinations, ['eu.gcr.io/prod/one', 'eu.gcr.io/prod/two']);
  assert.deepEqual(spec.destinations.filter((x) => x.canonical).map((x) => x.name), ['us-central1-docker.pkg.dev/prod/images/one', 'us-central1-docker.pkg.dev/prod/images/two']);
  assert.deepEqual(spec.signing, { key: 'env://COSIGN_KEY', attest: true, formats: ['cosign-tag'] });
  assert.deepEqual(spec.destinations.find((x) => x.region === 'asia-east1')!.limits, { concurrency: 4 });
  assert.equal(spec.destinations.find((x) => x.region === 'eu')!.limits, undefined);
  assert.deepEqual(spec.projects!.map((p) => p.source.limits), [{ requestsPerSecond: 5 }, { requestsPerSecond: 5 }]);
  assert.ok(spec.files.some((f) => f.endsWith('promoflow-overlay.yaml')));
  // Without an overlay: one phase with every destination, as before.
  assert.deepEqual((await loadSpec(layout())).spec.phases.map((p) => [p.name, p.destinations.length]), [['all', 10]]);
});

test('mistakes are located errors, never isolated: a destination in no phase, a phase or canonical matching nothing, a secret', async () => {
  const d = layout(`${HEAD}phases:
  - {name: canary, regions: [us-central1]}
  - {name: mars, regions: [mars-north1]}
canonical: registry.k8s.io
signing: {key: "env://K", password: hunter2}
`);
  assert.deepEqual(await errors(d, { skipInvalid: true }), [
    'promoflow-overlay.yaml:7:27: signing.password: inline secrets are not allowed: expected no secret in a manifest: credentials are bound to registry hosts in the worker’s credential configuration; a registry may name one (credentials: <name>)',
  ]);
  const e = layout(`${HEAD}phases:
  - {name: canary, regions: [us-central1]}
  - {name: mars, regions: [mars-north1]}
canonical: registry.k8s.io
`);
  assert.deepEqual(await errors(e, { skipInvalid: true }), [
    'promoflow-overlay.yaml:4:3: phases: "us-east1-docker.pkg.dev/prod/images/one" and 7 other destination(s) are in no phase: expected a last phase with regions: ["*"] for every destination not placed yet',
    'promoflow-overlay.yaml:5:5: phases[1]: "mars" matches no destination of the manifests: expected regions or registries that the promoter manifests name (or remove the phase)',
    'promoflow-overlay.yaml:6:12: canonical: "registry.k8s.io" matches no destination: expected the registry prefix of the signing home, e.g. us-central1-docker.pkg.dev/k8s-artifacts-prod/images',
  ]);
});

test('--overlay names a file anywhere; an overlay given as the manifest, or on a native manifest, is one clear error', async () => {
  const d = layout();
  const elsewhere = path.join(mkdtempSync(path.join(tmpdir(), 'promoflow-overlay-')), 'rollout.yaml');
  writeFileSync(elsewhere, `${HEAD}phases:\n  - {name: all-at-once, regions: ["*"]}\n`);
  assert.deepEqual((await loadSpec(d, { overlay: elsewhere })).spec.phases.map((p) => p.name), ['all-at-once']);
  assert.deepEqual(await errors(elsewhere), [`rollout.yaml: is a rollout overlay (kind: KpromoOverlay), not a manifest: expected the kpromo manifests, with --overlay ${elsewhere} (or the file at the root of a thin layout as promoflow-overlay.yaml)`]);
  const native = path.join(path.dirname(elsewhere), 'native.yaml');
  writeFileSync(native, `apiVersion: promoflow.dev/v1alpha1\nkind: Promotion\nmetadata: {name: n}\nsource: {registry: gcr.io/s}\ndestinations: [{name: prod, registry: gcr.io/p}]\nimages: []\n`);
  assert.match((await errors(native, { overlay: elsewhere })).join(), /rollout\.yaml: is an overlay for kpromo manifests: expected phases, signing and limits inside the promoflow manifest/);
  assert.match((await errors(d, { overlay: path.join(d, 'absent.yaml') })).join(), /absent\.yaml: no such file/);
});
