// Keyless signing end to end, offline: mock Fulcio + Rekor on loopback, bundle verified in process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statement, serializeStatement, subjectForDigest } from '../../src/signing/intoto';
import { serializeBundle } from '../../src/signing/bundle';
import { signImageKeyless, signStatementKeyless, trustMaterialFromTrustedRoot, verifyKeylessBundle } from '../../src/signing/keyless';
import { parseImageManifest } from '../../src/signing/artifacts';
import { startMockSigstore, type MockSigstore } from '../../src/testing/sig-sigstore-mock';

const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const tokenFor = (sub: string, iss = 'https://ci.example'): string => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub, iss, aud: 'sigstore', exp: 4102444800 })}.c2ln`;
const TOKEN = tokenFor('ci@example.com');
const D = 'sha256:' + '5a'.repeat(32);

describe('keyless (mock Fulcio + Rekor on loopback)', () => {
  let mock: MockSigstore;
  before(async () => {
    mock = await startMockSigstore();
  });
  after(async () => {
    await mock?.stop();
  });

  it('signs with a Fulcio certificate and a Rekor entry, and verifies with identity policy', async () => {
    const st = serializeStatement(statement([subjectForDigest('prod.example/app', D)], 'https://slsa.dev/provenance/v1', { x: 1 }));
    const bundle = await signStatementKeyless(st, { fulcioURL: mock.url, rekorURL: mock.url, identityToken: TOKEN });
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.equal(bundle.verificationMaterial.content.$case, 'certificate');
    assert.equal(bundle.verificationMaterial.tlogEntries.length, 1);
    const bytes = serializeBundle(bundle);
    assert.equal(bytes.includes(TOKEN), false, 'the OIDC token is not in the bundle');

    const trust = trustMaterialFromTrustedRoot(mock.trustedRoot);
    const identity = { subject: 'ci@example.com', issuer: 'https://ci.example' };
    assert.deepEqual(verifyKeylessBundle(bytes, trust, { digest: D, predicateType: 'https://slsa.dev/provenance/v1', identity }), { ok: true });

    const wrongId = verifyKeylessBundle(bytes, trust, { digest: D, identity: { ...identity, subject: 'mallory@example.com' } });
    assert.equal(wrongId.ok, false);
    const wrongIssuer = verifyKeylessBundle(bytes, trust, { digest: D, identity: { ...identity, issuer: 'https://evil.example' } });
    assert.equal(wrongIssuer.ok, false);
    const wrongDigest = verifyKeylessBundle(bytes, trust, { digest: 'sha256:' + '00'.repeat(32), identity });
    assert.equal(wrongDigest.ok, false);

    const other = await startMockSigstore();
    try {
      assert.equal(verifyKeylessBundle(bytes, trustMaterialFromTrustedRoot(other.trustedRoot), { digest: D, identity }).ok, false, 'another CA / log is not trusted');
    } finally {
      await other.stop();
    }
  });

  it('signImageKeyless: a cosign-sign and a SLSA bundle referrer per digest, each verifying for its subject', async () => {
    const subjects = [{ digest: D, size: 400, mediaType: 'application/vnd.oci.image.manifest.v1+json' }];
    const provenance = { sourceRepository: 's.example/a', destinations: ['p.example/a'], manifestPath: 'm.yaml', promoflowVersion: '0.1.0', workflowId: 'w', runId: 'r', startedOn: '2026-11-26T10:00:00Z', finishedOn: '2026-11-26T10:00:01Z' };
    const [out] = await signImageKeyless({ subjects, provenance, created: '2026-11-26T10:00:01Z', keyless: { fulcioURL: mock.url, rekorURL: mock.url, identityToken: TOKEN } });
    assert.ok(out);
    assert.deepEqual(out.referrers.map((r) => r.predicateType), ['https://sigstore.dev/cosign/sign/v1', 'https://slsa.dev/provenance/v1']);
    const trust = trustMaterialFromTrustedRoot(mock.trustedRoot);
    for (const r of out.referrers) {
      const m = parseImageManifest(r.artifact.manifest.bytes);
      assert.equal(m.subject?.digest, D);
      assert.equal(m.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
      const layer = r.artifact.blobs.find((b) => b.digest === m.layers[0]?.digest);
      assert.ok(layer);
      assert.deepEqual(verifyKeylessBundle(layer.bytes, trust, { digest: D, predicateType: r.predicateType, identity: { subject: 'ci@example.com', issuer: 'https://ci.example' } }), { ok: true });
    }
  });

  it('the identity is matched exactly: look-alike certificates fail; subjectRegExp matches the whole SAN; issuer exact', async () => {
    const trust = trustMaterialFromTrustedRoot(mock.trustedRoot);
    const st = serializeStatement(statement([subjectForDigest('prod.example/app', D)], 'https://slsa.dev/provenance/v1', { x: 1 }));
    const signedBy = async (sub: string, iss?: string) => serializeBundle(await signStatementKeyless(st, { fulcioURL: mock.url, rekorURL: mock.url, identityToken: tokenFor(sub, iss) }));
    const policy = { subject: 'ci@example.com', issuer: 'https://ci.example' };
    for (const lookalike of ['ci@example-com.attacker.net', 'evil-ci@example.com.attacker.net', 'ci@examplexcom', 'xci@example.com']) {
      const v = verifyKeylessBundle(await signedBy(lookalike), trust, { digest: D, identity: policy });
      assert.equal(v.ok, false, `${lookalike} must not pass for ${policy.subject}`);
    }
    assert.equal(verifyKeylessBundle(await signedBy('ci@example.com'), trust, { digest: D, identity: policy }).ok, true);
    // An explicit regular expression is anchored to the whole SAN.
    const re = { subjectRegExp: 'ci-[0-9]+@example\\.com', issuer: 'https://ci.example' };
    assert.equal(verifyKeylessBundle(await signedBy('ci-42@example.com'), trust, { digest: D, identity: re }).ok, true);
    assert.equal(verifyKeylessBundle(await signedBy('ci-42@example.com.attacker.net'), trust, { digest: D, identity: re }).ok, false);
    assert.equal(verifyKeylessBundle(await signedBy('evil-ci-42@example.com'), trust, { digest: D, identity: re }).ok, false);
    // Issuer: exact, not a prefix or pattern.
    assert.equal(verifyKeylessBundle(await signedBy('ci@example.com', 'https://ci.example.attacker.net'), trust, { digest: D, identity: policy }).ok, false);
  });

  it('Fulcio and Rekor must be HTTPS (loopback excepted): the token is never sent to plain HTTP', async () => {
    for (const [fulcioURL, rekorURL] of [['http://fulcio.example', 'https://rekor.example'], ['https://fulcio.example', 'http://10.0.0.1:3000'], ['ftp://x', 'https://r']]) {
      await assert.rejects(signStatementKeyless(Buffer.from('{}'), { fulcioURL, rekorURL, identityToken: TOKEN, retries: 0 }), (e: Error) => /is not HTTPS|is not a URL/.test(e.message) && !e.message.includes(TOKEN));
    }
  });

  it('fails cleanly, without the token in the message, when Fulcio is unreachable', async () => {
    await assert.rejects(
      signStatementKeyless(Buffer.from('{}'), { fulcioURL: 'http://127.0.0.1:9', rekorURL: 'http://127.0.0.1:9', identityToken: TOKEN, retries: 0, timeoutMs: 2000 }),
      (e: Error) => /keyless signing failed/.test(e.message) && !e.message.includes(TOKEN),
    );
  });
});
