// checkPromotion (what `promoflow verify` runs) over an in-memory registry: a key-signed promotion passes with the
// key; a keyless one (mock Fulcio + Rekor on loopback) passes for its identity and issuer and fails, naming why, for
// another subject or issuer; a malformed .att (not JSON, not an image manifest, a layer that is not DSSE, a blob
// that is missing or not its digest) is a failed check, never a throw; a registry fault still throws.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { LocalKeySigner } from '../../src/signing/keys';
import { INTOTO_PAYLOAD_TYPE, serializeEnvelope, signEnvelope } from '../../src/signing/dsse';
import { signKeyless, signWithKey, type KeylessVerification } from '../../src/signing/promotion';
import { checkPromotion, type PromotionPolicy } from '../../src/signing/check-promotion';
import { attestationLayer, buildCosignImage, type Artifact } from '../../src/signing/artifacts';
import type { ArtifactStore } from '../../src/signing/store';
import { trustMaterialFromTrustedRoot } from '../../src/signing/keyless';
import { SLSA_PROVENANCE_V1 } from '../../src/signing/slsa-provenance';
import type { VerificationInputs } from '../../src/signing/vsa';
import { attestationTag, type SubjectDescriptor } from '../../src/model';
import { BlobUnknownError, RegistryUnavailableError, sha256 } from '../../src/oci';
import { startMockSigstore, type MockSigstore } from '../../src/testing/sig-sigstore-mock';

const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const tokenFor = (sub: string, iss = 'https://ci.example'): string => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub, iss, aud: 'sigstore', exp: 4102444800 })}.c2ln`;
const D = 'sha256:' + '5a'.repeat(32);
const subject: SubjectDescriptor = { digest: D, size: 400, mediaType: 'application/vnd.oci.image.manifest.v1+json' };
const FP = 'sha256:' + 'ab'.repeat(32);

/** An in-memory ArtifactStore: tags and digests to manifests, blobs, referrers by subject. */
function memoryStore(): ArtifactStore & { manifests: Map<string, Buffer>; blobs: Map<string, Buffer>; fault?: Error } {
  const manifests = new Map<string, Buffer>();
  const blobs = new Map<string, Buffer>();
  const refs = new Map<string, Array<SubjectDescriptor & { artifactType?: string }>>();
  const put = (a: Artifact) => {
    for (const b of a.blobs) blobs.set(b.digest, b.bytes);
    manifests.set(a.manifest.digest, a.manifest.bytes);
  };
  const s: ArtifactStore & { manifests: Map<string, Buffer>; blobs: Map<string, Buffer>; fault?: Error } = {
    manifests,
    blobs,
    manifest: (tag) => (s.fault ? Promise.reject(s.fault) : Promise.resolve(manifests.get(tag) ?? null)),
    blob: (d) => (blobs.has(d) ? Promise.resolve(blobs.get(d)!) : Promise.reject(new BlobUnknownError(`blob ${d}: blob not found`))),
    digest: (tag) => Promise.resolve(manifests.has(tag) ? sha256(manifests.get(tag)!) : null),
    push: (tag, a) => {
      put(a);
      manifests.set(tag, a.manifest.bytes);
      return Promise.resolve();
    },
    pushReferrer: (a) => {
      put(a);
      const m = JSON.parse(a.manifest.bytes.toString()) as { subject: { digest: string }; artifactType: string };
      refs.set(m.subject.digest, [...(refs.get(m.subject.digest) ?? []), { digest: a.manifest.digest, size: a.manifest.bytes.length, mediaType: a.manifest.mediaType, artifactType: m.artifactType }]);
      return Promise.resolve();
    },
    referrers: (subj, type) => (s.fault ? Promise.reject(s.fault) : Promise.resolve((refs.get(subj) ?? []).filter((r) => r.artifactType === type))),
  };
  return s;
}

const provenance = (verification: VerificationInputs) => ({
  sourceRepository: 'staging.example/app',
  destinations: ['prod.example/app'],
  manifestPath: 'images.yaml',
  promoflowVersion: '0.1.0',
  workflowId: 'wf',
  runId: 'r',
  startedOn: '2026-11-26T10:00:00Z',
  finishedOn: '2026-11-26T10:00:01Z',
  rollout: { tags: ['v1'], phases: [{ name: 'canary', startedAt: '2026-11-26T10:00:00Z', approval: { by: 'alice', at: '2026-11-26T10:00:00Z' } }] },
  verification,
});

describe('checkPromotion: a trusted key', () => {
  const signer = new LocalKeySigner(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
  let policy: PromotionPolicy;
  const signed = async (): Promise<ReturnType<typeof memoryStore>> => {
    const store = memoryStore();
    await signWithKey(store, [D], [], { signer, dockerReference: 'prod.example/app', attest: true, provenance: provenance({ sourcePolicy: { type: 'key', keyFingerprint: FP }, signingPolicy: { type: 'key', keyFingerprint: FP }, inputAttestations: [] }) });
    return store;
  };
  before(async () => {
    policy = { signer: { type: 'key', publicKey: await signer.publicKeyPem() }, requireApprovals: [{ phase: 'canary', by: ['alice'] }], sourceKeyFingerprint: FP };
  });

  it('passes on what signWithKey wrote', async () => {
    const r = await checkPromotion(await signed(), D, policy);
    assert.deepEqual(r.checks.map((c) => [c.check, c.ok]), [['signature', true], ['provenance', true], ['vsa', true]], JSON.stringify(r.checks));
    assert.match(r.checks[2]!.detail, new RegExp(`source policy: key ${FP}`));
  });

  it('a keyless source policy in the policy file fails against a key-based source, naming both', async () => {
    const r = await checkPromotion(await signed(), D, { ...policy, sourceKeyFingerprint: undefined, sourceIdentity: { issuer: 'https://ci.example', subject: 'ci@example.com' } });
    assert.equal(r.ok, false);
    assert.match(r.checks[2]!.detail, new RegExp(`source policy is key ${FP}, the policy expects keyless ci@example.com \\(issuer https://ci.example\\)`));
  });

  const malformed: Array<[string, (s: ReturnType<typeof memoryStore>) => void, RegExp]> = [
    ['a .att manifest that is not JSON', (s) => s.manifests.set(attestationTag(D), Buffer.from('{not json')), /attestation image sha256-.*\.att \(sha256:[0-9a-f]{64}\): manifest is not JSON/],
    ['a .att manifest that is no image manifest (wrong layers)', (s) => s.manifests.set(attestationTag(D), Buffer.from(JSON.stringify({ schemaVersion: 2, layers: 'none' }))), /attestation image .*: not an image manifest/],
    [
      'a .att layer that is not a DSSE envelope',
      (s) => {
        const junk = buildCosignImage([attestationLayer(Buffer.from('{"payload": 3'), SLSA_PROVENANCE_V1)]);
        for (const b of junk.blobs) s.blobs.set(b.digest, b.bytes);
        s.manifests.set(attestationTag(D), junk.manifest.bytes);
      },
      /no provenance for sha256:5a.* verifies with the trusted key: .*(not JSON|malformed)/,
    ],
    [
      'a .att layer whose blob is missing',
      (s) => {
        const m = JSON.parse(s.manifests.get(attestationTag(D))!.toString()) as { layers: Array<{ digest: string }> };
        for (const l of m.layers) s.blobs.delete(l.digest);
      },
      /malformed provenance evidence: blob sha256:.*not found/,
    ],
    [
      'a .att layer whose bytes are not its digest',
      (s) => {
        const m = JSON.parse(s.manifests.get(attestationTag(D))!.toString()) as { layers: Array<{ digest: string }> };
        for (const l of m.layers) s.blobs.set(l.digest, Buffer.from('something else'));
      },
      /does not match its digest/,
    ],
  ];
  for (const [what, spoil, line] of malformed) {
    it(`${what}: the provenance check fails with a clear line; nothing throws`, async () => {
      const store = await signed();
      spoil(store);
      const r = await checkPromotion(store, D, policy);
      assert.equal(r.ok, false);
      const prov = r.checks.find((c) => c.check === 'provenance')!;
      assert.equal(prov.ok, false);
      assert.match(prov.detail, line);
      assert.equal(r.checks.find((c) => c.check === 'signature')!.ok, true, 'the signature check is unaffected');
    });
  }

  it('a registry fault throws (it is not a verdict on the digest)', async () => {
    const store = await signed();
    store.fault = new RegistryUnavailableError('GET …: connect ECONNREFUSED (registry unreachable)');
    await assert.rejects(checkPromotion(store, D, policy), RegistryUnavailableError);
  });

  it('a predicate that is not an object is rejected, not dereferenced', async () => {
    const store = memoryStore();
    await signWithKey(store, [D], [], { signer, dockerReference: 'prod.example/app', attest: false, provenance: provenance({ sourcePolicy: { type: 'none' }, signingPolicy: { type: 'key', keyFingerprint: FP }, inputAttestations: [] }) });
    // A DSSE statement with a null predicate, signed by the trusted key.
    const st = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { sha256: D.slice(7) } }], predicateType: SLSA_PROVENANCE_V1, predicate: null }));
    const env = serializeEnvelope(await signEnvelope(INTOTO_PAYLOAD_TYPE, st, signer));
    await store.push(attestationTag(D), buildCosignImage([attestationLayer(env, SLSA_PROVENANCE_V1)]));
    const r = await checkPromotion(store, D, { signer: policy.signer });
    assert.match(r.checks.find((c) => c.check === 'provenance')!.detail, /a verified predicate is not a JSON object/);
  });
});

describe('checkPromotion: keyless (mock Fulcio + Rekor on loopback)', () => {
  let mock: MockSigstore;
  let store: ReturnType<typeof memoryStore>;
  let trust: KeylessVerification['trust'];
  const identity = { issuer: 'https://ci.example', subject: 'ci@example.com' };
  const keyless = (id: KeylessVerification['identity']): PromotionPolicy['signer'] => ({ type: 'keyless', identity: id, trust });
  before(async () => {
    mock = await startMockSigstore();
    const material = trustMaterialFromTrustedRoot(mock.trustedRoot);
    trust = () => Promise.resolve(material);
    store = memoryStore();
    const sourceIdentity = { type: 'keyless' as const, issuer: 'https://builder.example', subject: 'builder@example.com' };
    await signKeyless(store, [subject], {
      trust,
      identity,
      attest: true,
      fulcioURL: mock.url,
      rekorURL: mock.url,
      identityToken: () => tokenFor('ci@example.com'),
      provenance: provenance({ sourcePolicy: sourceIdentity, signingPolicy: { type: 'keyless', ...identity }, inputAttestations: [{ uri: 'staging.example/app', digest: 'sha256:' + 'cd'.repeat(32), mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }] }),
    });
    // A look-alike identity under the same trusted Fulcio signs the same digest too: never accepted for ci@example.com.
    await signKeyless(store, [subject], { trust, identity: { ...identity, subject: 'ci@example.com.evil' }, attest: false, fulcioURL: mock.url, rekorURL: mock.url, identityToken: () => tokenFor('ci@example.com.evil'), provenance: provenance({ sourcePolicy: { type: 'none' }, signingPolicy: { type: 'keyless', issuer: identity.issuer, subject: 'ci@example.com.evil' }, inputAttestations: [] }) });
  });
  after(async () => {
    await mock?.stop();
  });

  it('passes for the identity and issuer (exact subject, or a subjectRegExp), naming the keyless source policy', async () => {
    for (const id of [identity, { issuer: identity.issuer, subjectRegExp: 'ci@example\\.(com|org)' }, { issuerRegExp: 'https://ci\\.(example|test)', subject: identity.subject }]) {
      const r = await checkPromotion(store, D, { signer: keyless(id), requireApprovals: [{ phase: 'canary' }], sourceIdentity: { issuer: 'https://builder.example', subject: 'builder@example.com' } });
      assert.deepEqual(r.checks.map((c) => [c.check, c.ok]), [['signature', true], ['provenance', true], ['vsa', true]], JSON.stringify(r.checks));
      assert.match(r.checks[0]!.detail, /sigstore bundle\(s\) signed by .* verify against the trust root/);
      assert.match(r.checks[2]!.detail, /source policy: keyless builder@example\.com \(issuer https:\/\/builder\.example\)/);
    }
  });

  it('fails for another subject, another issuer, a regexp matching only part of the SAN, and another source identity', async () => {
    const cases: Array<[KeylessVerification['identity'], RegExp]> = [
      [{ ...identity, subject: 'someone@else.com' }, /not signed by someone@else\.com \(issuer https:\/\/ci\.example\): bundle does not verify/],
      [{ ...identity, issuer: 'https://other.example' }, /not signed by ci@example\.com \(issuer https:\/\/other\.example\): bundle does not verify/],
      [{ issuer: identity.issuer, subjectRegExp: 'ci@example' }, /not signed by \/ci@example\/ \(issuer https:\/\/ci\.example\)/],
      [{ issuerRegExp: 'https://ci', subject: identity.subject }, /not signed by ci@example\.com \(issuer \/https:\/\/ci\/\): bundle does not verify: certificate issuer https:\/\/ci\.example does not match \/https:\/\/ci\//],
    ];
    for (const [id, line] of cases) {
      const r = await checkPromotion(store, D, { signer: keyless(id) });
      assert.equal(r.ok, false);
      assert.deepEqual(r.checks.map((c) => c.ok), [false, false, false], JSON.stringify(r.checks));
      assert.match(r.checks[0]!.detail, line);
      assert.match(r.checks[1]!.detail, /no provenance for sha256:5a.* verifies with /);
    }
    const r = await checkPromotion(store, D, { signer: keyless(identity), sourceIdentity: { issuer: 'https://builder.example', subject: 'mallory@example.com' } });
    assert.deepEqual(r.checks.map((c) => c.ok), [true, true, false]);
    assert.match(r.checks[2]!.detail, /source policy is keyless builder@example\.com \(issuer https:\/\/builder\.example\), the policy expects keyless mallory@example\.com/);
    const byKey = await checkPromotion(store, D, { signer: keyless(identity), sourceKeyFingerprint: FP });
    assert.match(byKey.checks[2]!.detail, new RegExp(`source policy is keyless builder@example.com .*, the policy expects key ${FP}`));
  });

  it('no bundle at all: each check says so', async () => {
    const r = await checkPromotion(memoryStore(), D, { signer: keyless(identity) });
    assert.deepEqual(r.checks.map((c) => c.ok), [false, false, false]);
    assert.match(r.checks[0]!.detail, /no sigstore bundle referrer/);
  });

  it('a malformed bundle referrer beside a good one is a rejection, not a throw', async () => {
    const bytes = Buffer.from(JSON.stringify({ subject: { digest: D }, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', layers: 'none' }));
    await store.pushReferrer({ manifest: { bytes, mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(bytes) }, blobs: [] });
    const r = await checkPromotion(store, D, { signer: keyless(identity) });
    assert.equal(r.ok, true, JSON.stringify(r.checks));
  });
});
