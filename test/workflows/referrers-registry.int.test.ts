// Sigstore bundles as OCI referrers against a registry that has the OCI 1.1 referrers API (the dev environment's
// `referrers` registry kind) next to one that has not (distribution: the referrers tag schema). A promotion with
// formats [cosign-tag, bundle-referrer] to both: the bundles are listed by the referrers API (read directly, and by
// promoflow's own client) with no fallback tag written where the API exists, the tag schema is used where it does
// not, the real cosign v3 verifies signature and attestation at every destination, and reconcile finds no drift.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { listReferrers, RegistryClient } from '../../src/oci';
import { writeKeyPair } from '../../src/signing';
import { OCI_INDEX, referrersTag } from '../../src/model';
import { buildIndex, pushImage } from '../../src/dev/sample-images';
import { referrersRegistryBinary } from '../../src/dev/registry';
import { startTestEnvironment, startTestWorker, testClient } from '../../src/testing/harness';
import { findCosign, runCosign } from '../../src/dev/cosign';
import { startPromotion } from '../../src/client/promote';
import { runInputFromSpec } from '../../src/client/run-input';
import { main } from '../../src/client/cli';
import { loadSpec } from '../../src/manifest';
import type { PromotionRunResult, ReconcileRunResult } from '../../src/contract';

const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const PASSWORD = 'referrers api 1.1';
const skip = referrersRegistryBinary() ? false : 'the referrers registry is not built: run scripts/setup.sh --interop';
const cosign3 = findCosign('v3.1.2');
const image = buildIndex({ seed: 'referrers-api' });
const oci = new RegistryClient();
let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let worker: { stop(): Promise<void> };
let client: Client;
let keyDir: string;
let result: PromotionRunResult;
let file: string;

describe('bundle referrers on a registry with the referrers API', { skip }, () => {
  before(async () => {
    env = await startTestEnvironment('referrers', { registries: ['staging', 'prod', 'mirror'], kinds: { prod: 'referrers' } });
    keyDir = join(env.stateDir, 'keys');
    await writeKeyPair(keyDir, PASSWORD);
    process.env.COSIGN_PASSWORD = PASSWORD; // the in-process worker reads it, as a real worker reads its environment
    worker = await startTestWorker(env);
    client = await testClient(env);
    await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/app' }, image, ['v1']);
    file = join(env.stateDir, 'promotion.yaml');
    writeFileSync(file, `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: referrers-api}
source: {registry: "${env.registries.staging}/staging"}
destinations:
  - {name: prod, registry: "${env.registries.prod}/k8s", canonical: true}
  - {name: mirror, registry: "${env.registries.mirror}/k8s"}
phases:
  - {name: production, destinations: [prod]}
  - {name: mirrors, destinations: [mirror]}
signing: {key: "file://${join(keyDir, 'cosign.key')}", attest: true, formats: [cosign-tag, bundle-referrer], dockerReference: registry.example.io/k8s}
images:
  - name: app
    dmap: {"${image.digest}": ["v1"]}
`);
    result = await (await startPromotion(client, runInputFromSpec((await loadSpec(file)).spec))).result();
  });

  after(async () => {
    delete process.env.COSIGN_PASSWORD;
    await client?.connection.close();
    await worker?.stop();
    await env?.cleanup();
  });

  const digests = () => [image.digest, ...image.children.map((c) => c.digest)];

  it('the promotion succeeds and every edge verifies in-process', () => {
    assert.equal(result.status, 'succeeded', JSON.stringify(result.edges));
    assert.equal(result.edges.length, 2);
    for (const e of result.edges) assert.equal(e.signature, 'verified', e.destination);
  });

  it('prod (referrers API): GET /v2/<repo>/referrers/<digest> lists the bundles; no fallback tag is written', async () => {
    for (const digest of digests()) {
      const r = await fetch(`http://${env.registries.prod}/v2/k8s/app/referrers/${digest}`, { headers: { accept: OCI_INDEX } });
      assert.equal(r.status, 200, digest);
      assert.equal(r.headers.get('content-type')?.split(';')[0], OCI_INDEX);
      const index = (await r.json()) as { manifests: Array<{ artifactType?: string; digest: string }> };
      const bundles = index.manifests.filter((m) => m.artifactType === BUNDLE);
      assert.equal(bundles.length, 2, `a signature bundle and an attestation bundle for ${digest}: ${JSON.stringify(index.manifests)}`);
      // promoflow's own client reads the same through the API.
      const ours = await listReferrers(oci, { registry: env.registries.prod!, repository: 'k8s/app' }, digest, { artifactType: BUNDLE });
      assert.deepEqual(ours.map((d) => d.digest).sort(), bundles.map((d) => d.digest).sort());
      const tag = await fetch(`http://${env.registries.prod}/v2/k8s/app/manifests/${referrersTag(digest)}`, { method: 'HEAD', headers: { accept: OCI_INDEX } });
      assert.equal(tag.status, 404, `no referrers tag where the API exists (${digest})`);
    }
  });

  it('mirror (distribution, no referrers API): the same bundles through the referrers tag schema', async () => {
    const api = await fetch(`http://${env.registries.mirror}/v2/k8s/app/referrers/${image.digest}`);
    assert.equal(api.status, 404, 'distribution has no referrers API');
    for (const digest of digests()) {
      const ours = await listReferrers(oci, { registry: env.registries.mirror!, repository: 'k8s/app' }, digest, { artifactType: BUNDLE });
      assert.equal(ours.length, 2, digest);
      const tag = await fetch(`http://${env.registries.mirror}/v2/k8s/app/manifests/${referrersTag(digest)}`, { method: 'HEAD', headers: { accept: OCI_INDEX } });
      assert.equal(tag.status, 200, `the referrers tag holds the index (${digest})`);
    }
  });

  it('cosign v3 verify and verify-attestation pass at both destinations', { skip: cosign3.skip }, async () => {
    const home = join(env.stateDir, 'cosign-home');
    mkdirSync(home, { recursive: true });
    const pub = join(keyDir, 'cosign.pub');
    for (const d of ['prod', 'mirror']) {
      for (const digest of digests()) {
        const ref = `${env.registries[d]}/k8s/app@${digest}`;
        const v = await runCosign(cosign3.bin!, ['verify', '--key', pub, '--insecure-ignore-tlog=true', '--allow-insecure-registry', ref], { home });
        assert.equal(v.code, 0, `cosign v3 verify ${ref}: ${v.stderr}`);
        const a = await runCosign(cosign3.bin!, ['verify-attestation', '--key', pub, '--insecure-ignore-tlog=true', '--type', 'slsaprovenance1', '--allow-insecure-registry', ref], { home });
        assert.equal(a.code, 0, `cosign v3 verify-attestation ${ref}: ${a.stderr}`);
      }
    }
  });

  it('reconcile over both registries finds no drift', async () => {
    const out: string[] = [];
    const code = await main(['reconcile', '-f', file, '--json', '--temporal-address', env.temporal!.address], { stdout: (t) => out.push(t), stderr: () => undefined });
    // JSON lines: the result first, then one line per finding.
    const lines = out.flatMap((t) => t.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as { result?: ReconcileRunResult; finding?: unknown });
    const r = lines[0]!.result!;
    assert.equal(code, 0, JSON.stringify(r.sample));
    assert.equal(r.status, 'clean');
    assert.equal(r.findings, 0);
    assert.deepEqual(lines.filter((l) => l.finding), []);
  });
});
