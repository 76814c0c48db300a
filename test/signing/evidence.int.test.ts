// Promotion evidence a consumer can check (issue 17), on a real Temporal dev server and real registries: a phased
// sharded promotion (canary → soak → approval gate → mirrors) of a source signed by the builder's key writes, per
// digest, one signature, one SLSA provenance (with the rollout record: tags, phases, soak, the approver) and one
// VSA (naming the source-policy key) at every destination; real cosign v2.6 and v3.1 verify both attestation types
// there; `promoflow verify` passes at a mirror and fails, with one clear line, for an unsigned digest, another key,
// a provenance of another digest and a missing approval, and exits 1 (not 3) for a malformed .att; a re-run and a
// repair add no signature or attestation. Keyless (mock Fulcio/Rekor, a loopback TUF repository): a source signed
// keylessly by the builder passes a keyless source policy, the run signs keylessly, the VSA names the builder's
// identity, and `promoflow verify` with a keyless policy (trusted root file, or TUF's) passes at a mirror and fails,
// with one line, for another subject, another issuer or another source identity.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { createActivities, createActivityDeps, artifactStore } from '../../src/activities';
import { storeRun, startShardedRun } from '../../src/client/sharded-start';
import { sendControl } from '../../src/client/control';
import { runProgressQuery, type RunBundle, type ShardedRunResult } from '../../src/contract';
import { RegistryClient, deleteManifest, getManifest, listReferrers, sha256 } from '../../src/oci';
import { attestationTag, signatureTag } from '../../src/model';
import { FsStateStore } from '../../src/state/store';
import { BUNDLE_V03, loadPrivateKeyFile, loadPublicKey, publicKeyFingerprint, readCosignImage, repairFromPeers, signImageKeyless, signWithKey, SLSA_PROVENANCE_V1, SLSA_VSA_V1, writeKeyPair } from '../../src/signing';
import { attestationLayer, buildCosignImage } from '../../src/signing/artifacts';
import { freePort } from '../../src/dev/ports';
import { startMockSigstore, type MockSigstore } from '../../src/testing/sig-sigstore-mock';
import { startTufRepository, type LocalTufRepository } from '../../src/testing/tuf-repository';
import { buildImage, buildIndex, pushImage } from '../../src/dev/sample-images';
import { COSIGN_VERSIONS, findCosign, runCosign } from '../../src/dev/cosign';
import { eventually, runCli, startTestEnvironment, testClient } from '../../src/testing/harness';
import { createWorker } from '../../src/worker/worker';
import { readFile } from 'node:fs/promises';

const DESTS = ['prod', 'mirror-1', 'mirror-2'];
const PASSWORD = 'evidence password 17';
let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let client: Client;
let store: FsStateStore;
let worker: { stop(): Promise<void> };
let keyDir: string;
let bundle: RunBundle;
const oci = new RegistryClient();
const single = buildImage({ seed: 'evidence-single' });
const index = buildIndex({ seed: 'evidence-index' });
/** Promoted in a run without bundle referrers: cosign verifies its legacy .att layers. */
const legacy = buildImage({ seed: 'evidence-legacy' });
let first: ShardedRunResult;
/** Keyless: the mock sigstore instance (CA + log), its trusted root as a file and through a loopback TUF repository. */
let mock: MockSigstore;
let tuf: LocalTufRepository;
const keylessImg = buildImage({ seed: 'evidence-keyless' });
let keylessResult: ShardedRunResult;
/** The same source under a keyless source policy naming another builder identity: refused before any copy. */
let keylessRefused: ShardedRunResult;
const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
/** An OIDC token as CI hands it over (the mock Fulcio certifies its claims). */
const tokenFor = (sub: string, iss: string): string => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub, iss, aud: 'sigstore', exp: 4102444800 })}.c2ln`;
const CI = { issuer: 'https://ci.example', subject: 'ci@example.com' };
const BUILDER = { issuer: 'https://builder.example', subject: 'builder@example.com' };

const repoAt = (d: string, image: string) => ({ registry: env.registries[d]!, repository: `k8s/${image}` });
const layersOf = async (d: string, image: string, tag: string) => {
  const m = await getManifest(oci, repoAt(d, image), tag);
  return (JSON.parse(m.bytes.toString()) as { layers: Array<{ annotations?: Record<string, string> }> }).layers;
};
const allDigests = [single.digest, index.digest, ...index.children.map((c) => c.digest)];
const imageOf = (digest: string) => (digest === single.digest ? 'single' : digest === legacy.digest ? 'legacy' : 'multi');

async function promote(b: RunBundle, approve: boolean): Promise<ShardedRunResult> {
  const input = await storeRun(store, b);
  const handle = await startShardedRun(client, input);
  if (approve) {
    await eventually('awaiting approval', async () => (await client.workflow.getHandle(handle.workflowId).query(runProgressQuery)).status === 'awaiting-approval', 60_000);
    await sendControl(client, handle.workflowId, 'approve', { by: 'alice', reason: 'canary healthy for 1s' });
  }
  return (await handle.result()) as ShardedRunResult;
}

before(async () => {
  env = await startTestEnvironment('evidence', { registries: ['staging', ...DESTS] });
  store = new FsStateStore(join(env.stateDir, 'store'));
  keyDir = join(env.stateDir, 'keys');
  await writeKeyPair(keyDir, PASSWORD);
  await writeKeyPair(join(keyDir, 'builder'), PASSWORD);
  await writeKeyPair(join(keyDir, 'other'), PASSWORD);
  process.env.COSIGN_PASSWORD = PASSWORD;
  const { worker: w, connection } = await createWorker({ address: env.temporal!.address, store, activities: createActivities(createActivityDeps({ store })) });
  const running = w.run();
  worker = {
    stop: async () => {
      if (w.getState() === 'RUNNING') w.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    },
  };
  client = await testClient(env);
  // The source, signed by the builder (the source policy's key), as CI would have signed it.
  const builder = await loadPrivateKeyFile(join(keyDir, 'builder', 'cosign.key'), PASSWORD);
  for (const [name, img, digests] of [['single', single, [single.digest]], ['multi', index, [index.digest]], ['legacy', legacy, [legacy.digest]]] as const) {
    const repo = { registry: env.registries.staging!, repository: `staging/${name}` };
    await pushImage(oci, repo, img, ['v1']);
    await signWithKey(artifactStore(oci, repo), [...digests], [], { signer: builder, dockerReference: `${repo.registry}/${repo.repository}`, attest: false, provenance: { sourceRepository: 'ci', destinations: [], manifestPath: '', promoflowVersion: '0', workflowId: 'ci', runId: 'ci', startedOn: '2026-01-01T00:00:00Z', finishedOn: '2026-01-01T00:00:00Z' } });
  }
  const dest = (n: string) => ({ name: n, registry: `${env.registries[n]}/k8s` });
  bundle = {
    version: 1,
    name: 'evidence',
    manifestFiles: ['promotion.yaml'],
    commit: 'c0ffee17',
    source: { registry: `${env.registries.staging}/staging` },
    destinations: DESTS.map(dest),
    phases: [
      { name: 'canary', destinations: ['prod'], soakSeconds: 1, verify: true, approval: true },
      { name: 'mirrors', destinations: ['mirror-1', 'mirror-2'], soakSeconds: 0, verify: true, approval: false },
    ],
    signing: { key: `file://${join(keyDir, 'cosign.key')}`, attest: true, bundles: true, dockerReference: 'registry.example.io/k8s', home: dest('prod') },
    sourceSignedBy: `file://${join(keyDir, 'builder', 'cosign.pub')}`,
    items: [
      { image: 'single', digest: single.digest, tags: ['v1'] },
      { image: 'multi', digest: index.digest, tags: ['v1'] },
    ],
  };
  const legacyRun = { ...bundle, name: 'evidence-legacy', signing: { ...bundle.signing!, bundles: false }, items: [{ image: 'legacy', digest: legacy.digest, tags: ['v1'] }] };
  // Keyless: the builder's CI signed the source keylessly (a cosign-sign bundle referrer, as cosign v3 writes it);
  // the run requires that identity and signs with its own (the worker's SIGSTORE_ID_TOKEN).
  mock = await startMockSigstore();
  tuf = await startTufRepository(mock.trustedRoot);
  const root = join(env.stateDir, 'trusted_root.json');
  writeFileSync(root, JSON.stringify(mock.trustedRoot));
  writeFileSync(join(env.stateDir, 'tuf-root.json'), tuf.rootJson);
  const keylessRepo = { registry: env.registries.staging!, repository: 'staging/keyless' };
  await pushImage(oci, keylessRepo, keylessImg, ['v1']);
  const [byBuilder] = await signImageKeyless({
    subjects: [{ digest: keylessImg.digest, size: keylessImg.manifest.length, mediaType: keylessImg.mediaType }],
    created: '2026-01-01T00:00:00Z',
    keyless: { fulcioURL: mock.url, rekorURL: mock.url, identityToken: tokenFor(BUILDER.subject, BUILDER.issuer) },
  });
  for (const r of byBuilder!.referrers) await artifactStore(oci, keylessRepo).pushReferrer(r.artifact);
  process.env.SIGSTORE_ID_TOKEN = tokenFor(CI.subject, CI.issuer);
  const keylessRun: RunBundle = {
    ...bundle,
    name: 'evidence-keyless',
    signing: { keyless: { ...CI, fulcioURL: mock.url, rekorURL: mock.url, trustedRoot: `file://${root}` }, attest: true, bundles: true, dockerReference: 'registry.example.io/k8s', home: dest('prod') },
    sourceSignedBy: { keyless: { ...BUILDER, trustedRoot: `file://${root}` } },
    items: [{ image: 'keyless', digest: keylessImg.digest, tags: ['v1'] }],
  };
  const refusedRun: RunBundle = {
    ...keylessRun,
    name: 'evidence-keyless-refused',
    destinations: [dest('prod')],
    phases: [{ name: 'canary', destinations: ['prod'], soakSeconds: 0, verify: true, approval: false }],
    sourceSignedBy: { keyless: { issuer: BUILDER.issuer, subject: 'mallory@example.com', trustedRoot: `file://${root}` } },
  };
  let legacyResult: ShardedRunResult;
  [first, legacyResult, keylessResult, keylessRefused] = await Promise.all([promote(bundle, true), promote(legacyRun, true), promote(keylessRun, true), promote(refusedRun, false)]);
  assert.equal(legacyResult.status, 'succeeded', JSON.stringify(legacyResult.failures));
});

after(async () => {
  delete process.env.COSIGN_PASSWORD;
  delete process.env.SIGSTORE_ID_TOKEN;
  await tuf?.stop();
  await mock?.stop();
  await client?.connection.close();
  await worker?.stop();
  await env?.cleanup();
});

/** Exactly one signature, one provenance and one VSA layer, and one bundle of each statement, per digest everywhere. */
async function assertOneOfEach(when: string): Promise<void> {
  for (const d of DESTS) {
    for (const digest of allDigests) {
      const image = imageOf(digest);
      assert.equal((await layersOf(d, image, signatureTag(digest))).length, 1, `${when}: ${image}@${digest.slice(0, 15)} at ${d}: one signature`);
      const att = (await layersOf(d, image, attestationTag(digest))).map((l) => l.annotations?.predicateType).sort();
      assert.deepEqual(att, ['https://slsa.dev/provenance/v1', SLSA_VSA_V1], `${when}: ${image}@${digest.slice(0, 15)} at ${d}: one provenance and one VSA`);
      const bundles = await listReferrers(oci, repoAt(d, image), digest, { artifactType: BUNDLE_V03 });
      const kinds = (bundles.map((b) => b.annotations?.['dev.sigstore.bundle.predicateType']) as string[]).sort();
      assert.deepEqual(kinds, ['https://sigstore.dev/cosign/sign/v1', 'https://slsa.dev/provenance/v1', SLSA_VSA_V1], `${when}: ${image}@${digest.slice(0, 15)} at ${d}: one bundle of each`);
    }
  }
}

describe('promotion evidence', () => {
  it('a phased run with a soak and an approval gate succeeds, with one signature, provenance and VSA per digest at every destination', async () => {
    assert.equal(first.status, 'succeeded', JSON.stringify(first.failures));
    await assertOneOfEach('after the run');
    for (const d of DESTS) {
      assert.equal((await layersOf(d, 'legacy', signatureTag(legacy.digest))).length, 1, `legacy at ${d}: one signature`);
      assert.deepEqual((await layersOf(d, 'legacy', attestationTag(legacy.digest))).map((l) => l.annotations?.predicateType).sort(), ['https://slsa.dev/provenance/v1', SLSA_VSA_V1], `legacy at ${d}`);
    }
  });

  for (const version of COSIGN_VERSIONS) {
    const cosign = findCosign(version);
    it(`cosign ${version}: verify-attestation --type ${SLSA_VSA_V1} and slsaprovenance1 pass at every destination; the VSA names the source key, the provenance the approver`, { skip: cosign.skip }, async () => {
      const home = join(env.stateDir, `home-${version}`);
      mkdirSync(home, { recursive: true });
      const sourceKey = publicKeyFingerprint(loadPublicKey(await readFile(join(keyDir, 'builder', 'cosign.pub'), 'utf8')));
      for (const d of DESTS) {
        for (const digest of [single.digest, index.digest, legacy.digest]) {
          const ref = `${env.registries[d]}/k8s/${imageOf(digest)}@${digest}`;
          // With bundle referrers present cosign v2.6 verifies those, and needs a trusted root for that offline.
          const root = join(home, 'trusted_root.json');
          writeFileSync(root, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' }));
          const offline = version.startsWith('v2') && digest !== legacy.digest ? ['--trusted-root', root] : [];
          const args = (type: string) => ['verify-attestation', '--key', join(keyDir, 'cosign.pub'), '--insecure-ignore-tlog=true', ...offline, '--type', type, '--allow-insecure-registry', ref];
          const vsa = await runCosign(cosign.bin!, args(SLSA_VSA_V1), { home });
          assert.equal(vsa.code, 0, `cosign ${version} verify-attestation VSA ${ref}: ${vsa.stderr}`);
          const st = JSON.parse(Buffer.from((JSON.parse(vsa.stdout.trim().split('\n')[0]!) as { payload: string }).payload, 'base64').toString()) as {
            predicateType: string;
            predicate: { verificationResult: string; policy: { annotations: { source: { keyFingerprint: string }; signing: { keyFingerprint: string } } }; inputAttestations: Array<{ uri: string }> };
          };
          assert.equal(st.predicateType, SLSA_VSA_V1);
          assert.equal(st.predicate.verificationResult, 'PASSED');
          assert.equal(st.predicate.policy.annotations.source.keyFingerprint, sourceKey, 'the VSA names the source-policy key');
          assert.match(st.predicate.inputAttestations[0]!.uri, /staging\/(single|multi|legacy):sha256-[0-9a-f]{64}\.sig$/);
          const prov = await runCosign(cosign.bin!, args('slsaprovenance1'), { home });
          assert.equal(prov.code, 0, `cosign ${version} verify-attestation slsaprovenance1 ${ref}: ${prov.stderr}`);
          const p = JSON.parse(Buffer.from((JSON.parse(prov.stdout.trim().split('\n')[0]!) as { payload: string }).payload, 'base64').toString()) as {
            predicate: { buildDefinition: { externalParameters: { rollout: { tags: string[]; phases: Array<{ name: string; soakSeconds?: number; approval?: { by: string; reason?: string } }> } } } };
          };
          const rollout = p.predicate.buildDefinition.externalParameters.rollout;
          assert.deepEqual(rollout.tags, ['v1']);
          assert.deepEqual(rollout.phases.map((x) => x.name), ['canary', 'mirrors']);
          assert.equal(rollout.phases[0]!.soakSeconds, 1);
          assert.deepEqual(rollout.phases[0]!.approval && [rollout.phases[0]!.approval.by, rollout.phases[0]!.approval.reason], ['alice', 'canary healthy for 1s'], 'the provenance names the approver');
        }
      }
    });
  }

  it('promoflow verify: passes at a mirror (by digest and by tag), with --json', async () => {
    const policy = join(env.stateDir, 'policy.yaml');
    writeFileSync(policy, `key: ${join(keyDir, 'cosign.pub')}\nrequirePhases: [canary, mirrors]\nrequireApprovals:\n  - phase: canary\n    by: [alice]\nsourceKeyFingerprint: ${publicKeyFingerprint(loadPublicKey(await readFile(join(keyDir, 'builder', 'cosign.pub'), 'utf8')))}\n`);
    const env2 = { DOCKER_CONFIG: join(env.stateDir, 'no-docker-config') };
    const ok = await runCli(['verify', `${env.registries['mirror-2']}/k8s/single@${single.digest}`, '--policy', policy], { env: env2 });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /verified\n.*signature.*\n.*provenance .*canary approved by alice.*\n.*vsa .*PASSED/);
    const byTag = await runCli(['verify', `${env.registries['mirror-1']}/k8s/multi:v1`, '--policy', policy, '--json'], { env: env2 });
    assert.equal(byTag.code, 0, byTag.stderr);
    const j = JSON.parse(byTag.stdout) as { verified: boolean; image: string };
    assert.equal(j.verified, true);
    assert.ok(j.image.endsWith(index.digest));
  });

  it('promoflow verify: one clear line and exit 1 for an unsigned digest, another key, a provenance of another digest, a missing approval; exit 2 for a bad policy', async () => {
    const env2 = { DOCKER_CONFIG: join(env.stateDir, 'no-docker-config') };
    const write = (name: string, text: string) => (writeFileSync(join(env.stateDir, name), text), join(env.stateDir, name));
    const good = write('good.yaml', `key: ${join(keyDir, 'cosign.pub')}\n`);
    const mirror = env.registries['mirror-1']!;
    // Unsigned: a digest pushed to the mirror by hand.
    const stray = buildImage({ seed: 'evidence-stray' });
    await pushImage(oci, repoAt('mirror-1', 'stray'), stray, ['v1']);
    const unsigned = await runCli(['verify', `${mirror}/k8s/stray@${stray.digest}`, '--policy', good], { env: env2 });
    assert.equal(unsigned.code, 1);
    assert.match(unsigned.stderr.split('\n')[0]!, /FAILED: signature: not signed by the trusted key: no signature \(tag sha256-[0-9a-f]+\.sig not found\)/);
    // Another key.
    const other = write('other.yaml', `key: ${join(keyDir, 'other', 'cosign.pub')}\n`);
    const wrongKey = await runCli(['verify', `${mirror}/k8s/single@${single.digest}`, '--policy', other], { env: env2 });
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr.split('\n')[0]!, /FAILED: signature: not signed by the trusted key: .*does not verify with the given public key/);
    // A provenance for another digest: the stray digest signed by the promoter's key, its .att copied from `single`.
    const signer = await loadPrivateKeyFile(join(keyDir, 'cosign.key'), PASSWORD);
    const strayStore = artifactStore(oci, repoAt('mirror-1', 'stray'));
    await signWithKey(strayStore, [stray.digest], [], { signer, dockerReference: 'registry.example.io/k8s/stray', attest: false, provenance: { sourceRepository: 'x', destinations: [], manifestPath: '', promoflowVersion: '0', workflowId: 'x', runId: 'x', startedOn: '2026-01-01T00:00:00Z', finishedOn: '2026-01-01T00:00:00Z' } });
    const att = (await readCosignImage(artifactStore(oci, repoAt('mirror-1', 'single')), attestationTag(single.digest)))!;
    await strayStore.push(attestationTag(stray.digest), att);
    const foreign = await runCli(['verify', `${mirror}/k8s/stray@${stray.digest}`, '--policy', good], { env: env2 });
    assert.equal(foreign.code, 1);
    assert.match(foreign.stderr.split('\n')[0]!, new RegExp(`FAILED: provenance: no provenance for ${stray.digest} verifies with the trusted key: no statement subject has digest ${stray.digest}`));
    // A missing required approval (the mirrors phase had no gate), and an approver the policy does not accept.
    const noGate = write('gate.yaml', `key: ${join(keyDir, 'cosign.pub')}\nrequireApprovals: [mirrors]\n`);
    const missing = await runCli(['verify', `${mirror}/k8s/single@${single.digest}`, '--policy', noGate], { env: env2 });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr.split('\n')[0]!, /FAILED: provenance: required approval of phase mirrors is not in the rollout record/);
    const bob = write('bob.yaml', `key: ${join(keyDir, 'cosign.pub')}\nrequireApprovals: [{phase: canary, by: [bob]}]\n`);
    const byBob = await runCli(['verify', `${mirror}/k8s/single@${single.digest}`, '--policy', bob], { env: env2 });
    assert.equal(byBob.code, 1);
    assert.match(byBob.stderr.split('\n')[0]!, /FAILED: provenance: phase canary was approved by alice, the policy accepts bob/);
    // A policy with a typo: file, field, value and fix on one line, exit 2, no stack trace.
    const typo = write('typo.yaml', `key: ${join(keyDir, 'cosign.pub')}\nrequirePhase: [canary]\n`);
    const bad = await runCli(['verify', `${mirror}/k8s/single@${single.digest}`, '--policy', typo], { env: env2 });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr.trim(), /typo\.yaml: \(top\): \["requirePhase"\]: unknown field\(s\) requirePhase: the fields are key, keyless, builder/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
  });

  it('promoflow verify: a malformed .att (a DSSE layer that is not JSON, an index in place of the image) is exit 1 with one line; an unreachable registry exit 3', async () => {
    const env2 = { DOCKER_CONFIG: join(env.stateDir, 'no-docker-config') };
    const policy = join(env.stateDir, 'malformed.yaml');
    writeFileSync(policy, `key: ${join(keyDir, 'cosign.pub')}\n`);
    const img = buildImage({ seed: 'evidence-malformed' });
    const repo = repoAt('mirror-1', 'malformed');
    await pushImage(oci, repo, img, ['v1']);
    const store = artifactStore(oci, repo);
    const signer = await loadPrivateKeyFile(join(keyDir, 'cosign.key'), PASSWORD);
    await signWithKey(store, [img.digest], [], { signer, dockerReference: 'registry.example.io/k8s/malformed', attest: false, provenance: { sourceRepository: 'x', destinations: [], manifestPath: '', promoflowVersion: '0', workflowId: 'x', runId: 'x', startedOn: '2026-01-01T00:00:00Z', finishedOn: '2026-01-01T00:00:00Z' } });
    const ref = `${env.registries['mirror-1']}/k8s/malformed@${img.digest}`;
    await store.push(attestationTag(img.digest), buildCosignImage([attestationLayer(Buffer.from('{"payloadType": "application/vnd.in-toto+json", "payload": '), SLSA_PROVENANCE_V1), attestationLayer(Buffer.from('[]'), SLSA_VSA_V1)]));
    const badDsse = await runCli(['verify', ref, '--policy', policy], { env: env2 });
    assert.equal(badDsse.code, 1, badDsse.stderr);
    assert.match(badDsse.stderr.split('\n')[0]!, new RegExp(`FAILED: provenance: no provenance for ${img.digest} verifies with the trusted key: .*not JSON`));
    assert.match(badDsse.stderr, /FAIL vsa +no verification summary for .* verifies with the trusted key/);
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: img.mediaType, digest: img.digest, size: img.manifest.length }] }));
    await store.push(attestationTag(img.digest), { manifest: { bytes: index, mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(index) }, blobs: [] });
    const notImage = await runCli(['verify', ref, '--policy', policy], { env: env2 });
    assert.equal(notImage.code, 1, notImage.stderr);
    assert.match(notImage.stderr.split('\n')[0]!, /FAILED: provenance: no provenance for sha256:[0-9a-f]{64} verifies with the trusted key: attestation image sha256-[0-9a-f]{64}\.att \(sha256:[0-9a-f]{64}\): not an image manifest/);
    assert.doesNotMatch(notImage.stderr, /\n\s+at /);
    const down = await runCli(['verify', `127.0.0.1:${await freePort()}/k8s/malformed@${img.digest}`, '--policy', policy], { env: env2 });
    assert.equal(down.code, 3, down.stderr);
    assert.match(down.stderr.trim(), /promoflow verify: 127\.0\.0\.1:\d+\/k8s\/malformed: registry unreachable or refusing reads: /);
  });

  it('keyless: a source signed keylessly passes the keyless source policy; promoflow verify with a keyless policy passes at a mirror (trusted root file, and through TUF) and fails with one line for another subject, issuer or source identity', async () => {
    assert.equal(keylessResult.status, 'succeeded', JSON.stringify(keylessResult.failures));
    assert.equal(keylessRefused.status, 'failed');
    assert.equal(keylessRefused.failures[0]?.errorType, 'SourceUnsigned', JSON.stringify(keylessRefused.failures));
    assert.match(keylessRefused.failures[0]!.error, /source policy: .*staging\/keyless@sha256:[0-9a-f]{64} is not signed by mallory@example\.com \(issuer https:\/\/builder\.example\): bundle does not verify/);
    const env2 = { DOCKER_CONFIG: join(env.stateDir, 'no-docker-config') };
    const ref = `${env.registries['mirror-2']}/k8s/keyless@${keylessImg.digest}`;
    const write = (name: string, text: string) => (writeFileSync(join(env.stateDir, name), text), join(env.stateDir, name));
    const policy = (signer: string, extra = '') => `keyless: ${signer}\nrequirePhases: [canary, mirrors]\nrequireApprovals: [{phase: canary, by: [alice]}]\n${extra}`;
    const source = `sourceIdentity: {issuer: "${BUILDER.issuer}", subject: ${BUILDER.subject}}\n`;
    const good = write('keyless.yaml', policy(`{issuer: "${CI.issuer}", subject: ${CI.subject}, trustedRoot: trusted_root.json}`, source));
    const ok = await runCli(['verify', ref, '--policy', good, '--json'], { env: env2 });
    assert.equal(ok.code, 0, ok.stderr);
    const j = JSON.parse(ok.stdout) as { verified: boolean; trustedIdentity: unknown; vsa: { policy: { annotations: { source: unknown; signing: unknown } }; inputAttestations: Array<{ uri: string; mediaType: string }> } };
    assert.equal(j.verified, true);
    assert.deepEqual(j.trustedIdentity, CI);
    assert.deepEqual(j.vsa.policy.annotations.source, { type: 'keyless', ...BUILDER }, 'the VSA names the keyless source identity and issuer');
    assert.deepEqual(j.vsa.policy.annotations.signing, { type: 'keyless', ...CI });
    assert.match(j.vsa.inputAttestations[0]!.uri, /staging\/keyless@sha256:[0-9a-f]{64}$/);
    // Through TUF: no trustedRoot in the policy file; the loopback repository serves the mock instance's root.
    const viaTuf = write('keyless-tuf.yaml', policy(`{issuer: "${CI.issuer}", subjectRegExp: "ci@example\\\\.(com|org)"}`));
    const tufEnv = { ...env2, PROMOFLOW_TUF_MIRROR: tuf.url, PROMOFLOW_TUF_ROOT: join(env.stateDir, 'tuf-root.json'), PROMOFLOW_TUF_CACHE: join(env.stateDir, 'tuf-cache-verify') };
    const human = await runCli(['verify', ref, '--policy', viaTuf], { env: tufEnv });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /verified\n.*signature .*signed by \/ci@example\\\.\(com\|org\)\/ \(issuer https:\/\/ci\.example\).*\n.*provenance .*canary approved by alice.*\n.*vsa .*PASSED.*source policy: keyless builder@example\.com \(issuer https:\/\/builder\.example\)/);
    assert.ok(tuf.requests.includes('/timestamp.json'), 'verify asked the TUF repository');
    for (const [name, signer, line] of [
      ['subject', `{issuer: "${CI.issuer}", subject: someone@else.com, trustedRoot: trusted_root.json}`, /FAILED: signature: not signed by someone@else\.com \(issuer https:\/\/ci\.example\): bundle does not verify/],
      ['issuer', `{issuer: "https://other.example", subject: ${CI.subject}, trustedRoot: trusted_root.json}`, /FAILED: signature: not signed by ci@example\.com \(issuer https:\/\/other\.example\): bundle does not verify/],
    ] as const) {
      const r = await runCli(['verify', ref, '--policy', write(`keyless-${name}.yaml`, policy(signer))], { env: env2 });
      assert.equal(r.code, 1, `another ${name}: ${r.stderr}`);
      assert.match(r.stderr.split('\n')[0]!, line);
      assert.match(r.stderr, /FAIL provenance +no provenance for .* verifies with /);
    }
    const otherSource = await runCli(['verify', ref, '--policy', write('keyless-source.yaml', policy(`{issuer: "${CI.issuer}", subject: ${CI.subject}, trustedRoot: trusted_root.json}`, `sourceIdentity: {issuer: "${BUILDER.issuer}", subject: mallory@example.com}\n`))], { env: env2 });
    assert.equal(otherSource.code, 1, otherSource.stderr);
    assert.match(otherSource.stderr.split('\n')[0]!, /FAILED: vsa: source policy is keyless builder@example\.com \(issuer https:\/\/builder\.example\), the policy expects keyless mallory@example\.com/);
    const cosign = findCosign('v3.1.2');
    if (cosign.bin) {
      const home = join(env.stateDir, 'home-keyless-vsa');
      mkdirSync(home, { recursive: true });
      const args = ['verify-attestation', '--trusted-root', join(env.stateDir, 'trusted_root.json'), '--certificate-identity', CI.subject, '--certificate-oidc-issuer', CI.issuer, '--type', SLSA_VSA_V1, '--allow-insecure-registry', ref];
      const v = await runCosign(cosign.bin, args, { home });
      assert.equal(v.code, 0, `cosign v3.1.2 verify-attestation (keyless VSA) ${ref}: ${v.stderr}`);
    }
  });

  it('a re-run and a repair add no signature, provenance or VSA anywhere', async () => {
    const again = await promote({ ...bundle, commit: 'c0ffee18' }, true);
    assert.equal(again.status, 'succeeded', JSON.stringify(again.failures));
    await assertOneOfEach('after a re-run');
    // Repair: mirror-2 loses its .att of `single`; the reconcile repair copies a verified one from a peer.
    const m = await getManifest(oci, repoAt('mirror-2', 'single'), attestationTag(single.digest));
    await deleteManifest(oci, repoAt('mirror-2', 'single'), m.digest);
    const pub = await readFile(join(keyDir, 'cosign.pub'), 'utf8');
    const named = (d: string) => ({ name: d, store: artifactStore(oci, repoAt(d, 'single')) });
    for (let i = 0; i < 2; i++) {
      const out = await repairFromPeers(single.digest, 'att', [named('prod'), named('mirror-1')], [named('mirror-2'), named('mirror-1')], pub);
      assert.deepEqual(out.map((o) => o.status), i === 0 ? ['repaired', 'present'] : ['present', 'present']);
      const sig = await repairFromPeers(single.digest, 'sig', [named('prod')], [named('mirror-2')], pub);
      assert.deepEqual(sig.map((o) => o.status), ['present']);
    }
    await assertOneOfEach('after a repair');
  });
});
