// Keyless signing end to end, offline: mock Fulcio + Rekor on loopback, bundle verified in process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statement, serializeStatement, subjectForDigest } from '../../src/signing/intoto';
import { serializeBundle } from '../../src/signing/bundle';
import { signImageKeyless, signStatementKeyless, trustMaterialFromTrustedRoot, verifyKeylessBundle } from '../../src/signing/keyless';
import { parseImageManifest } from '../../src/signing/artifacts';
import { startMockSigstore, type MockSigstore } from '../../src/testing/sig-sigstore-mock';

const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const TOKEN = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'ci@example.com', iss: 'https://ci.example', aud: 'sigstore', exp: 4102444800 })}.c2ln`;
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
    const identity = { subjectAlternativeName: 'ci@example.com', issuer: 'https://ci.example' };
    assert.deepEqual(verifyKeylessBundle(bytes, trust, { digest: D, predicateType: 'https://slsa.dev/provenance/v1', identity }), { ok: true });

    const wrongId = verifyKeylessBundle(bytes, trust, { digest: D, identity: { ...identity, subjectAlternativeName: 'mallory@example.com' } });
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
      assert.deepEqual(verifyKeylessBundle(layer.bytes, trust, { digest: D, predicateType: r.predicateType, identity: { subjectAlternativeName: 'ci@example.com', issuer: 'https://ci.example' } }), { ok: true });
    }
  });

  it('fails cleanly, without the token in the message, when Fulcio is unreachable', async () => {
    await assert.rejects(
      signStatementKeyless(Buffer.from('{}'), { fulcioURL: 'http://127.0.0.1:9', rekorURL: 'http://127.0.0.1:9', identityToken: TOKEN, retries: 0, timeoutMs: 2000 }),
      (e: Error) => /keyless signing failed/.test(e.message) && !e.message.includes(TOKEN),
    );
  });
});
