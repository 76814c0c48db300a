import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { LocalKeySigner } from '../../src/signing/keys';
import { signImage } from '../../src/signing/sign-image';
import { buildCosignImage, signatureLayer, type Artifact } from '../../src/signing/artifacts';
import { simpleSigningPayload } from '../../src/signing/simple-signing';
import { requireSignedImage, verifyImageAttestations, verifyImageSignatures, type ArtifactReader } from '../../src/signing/verify';
import { SLSA_PROVENANCE_V1 } from '../../src/signing/slsa-provenance';

const digest = (c: string): string => 'sha256:' + c.repeat(64);

function fakeRegistry(): { reader: ArtifactReader; put(tag: string, a: Artifact): void; blobs: Map<string, Buffer> } {
  const manifests = new Map<string, Buffer>();
  const blobs = new Map<string, Buffer>();
  return {
    blobs,
    put(tag, a) {
      for (const b of a.blobs) blobs.set(b.digest, b.bytes);
      manifests.set(tag, a.manifest.bytes);
    },
    reader: {
      manifest: (tag) => Promise.resolve(manifests.get(tag) ?? null),
      blob: (d) => {
        const b = blobs.get(d);
        return b ? Promise.resolve(b) : Promise.reject(new Error(`blob ${d} unknown`));
      },
    },
  };
}

const newSigner = (): LocalKeySigner => new LocalKeySigner(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);

const provenance = {
  sourceRepository: 'staging.example/app',
  destinations: ['prod.example/app'],
  manifestPath: 'images.yaml',
  promoflowVersion: '0.1.0',
  workflowId: 'wf',
  runId: 'r',
  startedOn: '2026-11-26T10:00:00Z',
  finishedOn: '2026-11-26T10:00:01Z',
};

describe('verify', () => {
  it('accepts what signImage produced, for the index and each child', async () => {
    const signer = newSigner();
    const pub = await signer.publicKeyPem();
    const reg = fakeRegistry();
    const out = await signImage({ digest: digest('a'), children: [digest('b'), digest('c')], signer, dockerReference: 'prod.example/app', provenance });
    assert.deepEqual(out.digests.map((d) => d.digest), [digest('b'), digest('c'), digest('a')]);
    for (const d of out.digests) {
      reg.put(d.signature.tag, d.signature);
      if (d.attestation) reg.put(d.attestation.tag, d.attestation);
    }
    for (const d of [digest('a'), digest('b'), digest('c')]) {
      assert.equal((await verifyImageSignatures(reg.reader, { publicKey: pub, digest: d, dockerReference: 'prod.example/app' })).ok, true);
      assert.equal((await verifyImageAttestations(reg.reader, { publicKey: pub, digest: d, predicateType: SLSA_PROVENANCE_V1 })).ok, true);
    }
    const wrongRef = await verifyImageSignatures(reg.reader, { publicKey: pub, digest: digest('a'), dockerReference: 'other.example/app' });
    assert.match(wrongRef.reason ?? '', /docker-reference/);
    const wrongType = await verifyImageAttestations(reg.reader, { publicKey: pub, digest: digest('a'), predicateType: 'https://spdx.dev/Document' });
    assert.equal(wrongType.ok, false);
  });

  it('rejects wrong key, tampered payload, corrupted blob, signature for another digest, and missing signature', async () => {
    const signer = newSigner();
    const pub = await signer.publicKeyPem();
    const other = await newSigner().publicKeyPem();
    const reg = fakeRegistry();
    const [a] = (await signImage({ digest: digest('a'), signer, dockerReference: 'prod.example/app', provenance })).digests;
    assert.ok(a?.attestation);
    reg.put(a.signature.tag, a.signature);
    reg.put(a.attestation.tag, a.attestation);
    assert.match((await verifyImageSignatures(reg.reader, { publicKey: other, digest: digest('a') })).reason ?? '', /does not verify/);
    assert.match((await verifyImageAttestations(reg.reader, { publicKey: other, digest: digest('a') })).reason ?? '', /no DSSE signature verifies/);

    // Tampered payload: good signature, edited bytes.
    const good = simpleSigningPayload({ dockerReference: 'prod.example/app', digest: digest('d') });
    const sig = await signer.sign(good);
    reg.put(`sha256-${'d'.repeat(64)}.sig`, buildCosignImage([signatureLayer(Buffer.from(good.toString().replace('prod', 'evil')), sig)]));
    assert.equal((await verifyImageSignatures(reg.reader, { publicKey: pub, digest: digest('d') })).ok, false);

    // A valid signature for digest a, stored under e's tag.
    reg.put(`sha256-${'e'.repeat(64)}.sig`, a.signature);
    assert.match((await verifyImageSignatures(reg.reader, { publicKey: pub, digest: digest('e') })).reason ?? '', /signature is for sha256:a/);
    reg.put(`sha256-${'e'.repeat(64)}.att`, a.attestation);
    assert.match((await verifyImageAttestations(reg.reader, { publicKey: pub, digest: digest('e') })).reason ?? '', /no statement subject/);

    // Blob swapped under a digest: caught by the digest check.
    const payloadDigest = a.signature.blobs.find((b) => b.mediaType.includes('simplesigning'))?.digest ?? '';
    reg.blobs.set(payloadDigest, Buffer.from('garbage'));
    assert.match((await verifyImageSignatures(reg.reader, { publicKey: pub, digest: digest('a') })).reason ?? '', /does not match its descriptor/);

    await assert.rejects(requireSignedImage(reg.reader, 'staging.example/app', { publicKey: pub, digest: digest('f') }), /staging.example\/app@sha256:f+ is not signed by the trusted key: no signature/);
  });

  it('a reader that fails (connection cut, a read that keeps mismatching) throws through: never a "does not verify" verdict', async () => {
    const signer = newSigner();
    const pub = await signer.publicKeyPem();
    const reg = fakeRegistry();
    const [a] = (await signImage({ digest: digest('a'), signer, dockerReference: 'prod.example/app', provenance })).digests;
    assert.ok(a?.attestation);
    reg.put(a.signature.tag, a.signature);
    reg.put(a.attestation.tag, a.attestation);
    const cut: ArtifactReader = { manifest: reg.reader.manifest, blob: () => Promise.reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })) };
    await assert.rejects(verifyImageSignatures(cut, { publicKey: pub, digest: digest('a') }), /aborted/);
    await assert.rejects(verifyImageAttestations(cut, { publicKey: pub, digest: digest('a') }), /aborted/);
    // The same reader once it reads again: the verdict is on the stored bytes, and they verify.
    assert.equal((await verifyImageSignatures(reg.reader, { publicKey: pub, digest: digest('a') })).ok, true);
  });
});
