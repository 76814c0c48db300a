import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attestationLayer, buildCosignImage, cosignConfig, mergeCosignImage, parseImageManifest, signatureLayer, SIGNATURE_ANNOTATION } from '../../src/signing/artifacts';
import { attestationTag, referrersTag, signatureTag } from '../../src/model';
import { sha256 as sha256Digest } from '../../src/oci';

const D = 'sha256:' + '0f'.repeat(32);

describe('cosign artifacts', () => {
  it('tag names', () => {
    assert.equal(signatureTag(D), `sha256-${'0f'.repeat(32)}.sig`);
    assert.equal(attestationTag(D), `sha256-${'0f'.repeat(32)}.att`);
    assert.equal(referrersTag(D), `sha256-${'0f'.repeat(32)}`);
    assert.throws(() => signatureTag('latest'), /sha256/);
  });

  it('builds the exact .sig manifest and config cosign v2 writes (captured from cosign sign)', () => {
    // Captured from `cosign sign --key` (v2.6.4) against a local registry.
    const payload = Buffer.from('{"critical":{"identity":{"docker-reference":"127.0.0.1:41315/demo"},"image":{"docker-manifest-digest":"sha256:70fdc3c4bf26dc18474f9ba7d8f2353798043cea3347648f5bc5006e4c68e631"},"type":"cosign container image signature"},"optional":null}');
    const sig = Buffer.from('MEUCIQDigBZjNZGpENklxCR2aB+97yv+aW1003YfszH00LushQIgdNtz9e1WugkpDRldrInxBxRk8lF7ukYuKwJTlz3doHU=', 'base64');
    const a = buildCosignImage([signatureLayer(payload, sig)]);
    assert.equal(
      a.manifest.bytes.toString(),
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"sha256:9ca08cc6ff6d357f5f3825668e83069a0fd7e128c5e52e4ddf4849a5b9a9624c"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":236,"digest":"sha256:b027a9a16c0aba0ae4da9b4e1713ec46bb6a40e171c3c2f446f989f08115372a","annotations":{"dev.cosignproject.cosign/signature":"MEUCIQDigBZjNZGpENklxCR2aB+97yv+aW1003YfszH00LushQIgdNtz9e1WugkpDRldrInxBxRk8lF7ukYuKwJTlz3doHU="}}]}',
    );
    assert.equal(
      cosignConfig(['sha256:b027a9a16c0aba0ae4da9b4e1713ec46bb6a40e171c3c2f446f989f08115372a']).toString(),
      '{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:b027a9a16c0aba0ae4da9b4e1713ec46bb6a40e171c3c2f446f989f08115372a"]},"config":{}}',
    );
    assert.equal(a.manifest.digest, sha256Digest(a.manifest.bytes));
    assert.deepEqual(a.blobs.map((b) => b.digest).sort(), [sha256Digest(payload), 'sha256:9ca08cc6ff6d357f5f3825668e83069a0fd7e128c5e52e4ddf4849a5b9a9624c'].sort());
  });

  it('.att layer annotations match cosign attest (captured)', () => {
    const a = buildCosignImage([attestationLayer(Buffer.from('{}'), 'https://slsa.dev/provenance/v1')]);
    const m = parseImageManifest(a.manifest.bytes);
    assert.equal(m.layers[0]?.mediaType, 'application/vnd.dsse.envelope.v1+json');
    assert.match(a.manifest.bytes.toString(), /"annotations":\{"dev.cosignproject.cosign\/signature":"","predicateType":"https:\/\/slsa.dev\/provenance\/v1"\}/);
  });

  it('merges without duplicating identical layers, keeps existing ones first', () => {
    const l1 = signatureLayer(Buffer.from('p1'), Buffer.from('s1'));
    const l2 = signatureLayer(Buffer.from('p1'), Buffer.from('s2'));
    const l3 = signatureLayer(Buffer.from('p3'), Buffer.from('s3'));
    const existing = buildCosignImage([l1, l3]);
    assert.equal(mergeCosignImage(existing.manifest.bytes, [l1]).artifact, null, 'identical layer → nothing to push');
    assert.equal(mergeCosignImage(existing.manifest.bytes, existing).artifact, null, 'same artifact → nothing to push');
    const merged = mergeCosignImage(existing.manifest.bytes, [l3, l2]);
    assert.equal(merged.added, 1);
    assert.ok(merged.artifact);
    const m = parseImageManifest(merged.artifact.manifest.bytes);
    assert.deepEqual(m.layers.map((l) => l.annotations?.[SIGNATURE_ANNOTATION]), ['czE=', 'czM=', 'czI=']);
    // Only the new layer blob and the new config need pushing; the payload blob p1 already exists there.
    assert.equal(merged.artifact.blobs.length, 2);
    const fresh = mergeCosignImage(null, [l1, l1]);
    assert.equal(parseImageManifest(fresh.artifact?.manifest.bytes ?? Buffer.from('')).layers.length, 1);
    assert.equal(buildCosignImage([l1, l1]).blobs.length, 2);
  });

  it('replace: drops existing layers by predicate (cosign attest --replace)', () => {
    const old = attestationLayer(Buffer.from('old'), 'https://slsa.dev/provenance/v1');
    const other = attestationLayer(Buffer.from('sbom'), 'https://spdx.dev/Document');
    const neu = attestationLayer(Buffer.from('new'), 'https://slsa.dev/provenance/v1');
    const existing = buildCosignImage([old, other]);
    const r = mergeCosignImage(existing.manifest.bytes, [neu], (d) => d.annotations?.predicateType === 'https://slsa.dev/provenance/v1');
    const m = parseImageManifest(r.artifact?.manifest.bytes ?? Buffer.from(''));
    assert.deepEqual(m.layers.map((l) => l.digest), [sha256Digest(Buffer.from('sbom')), sha256Digest(Buffer.from('new'))]);
  });

  it('refuses malformed manifests from a registry', () => {
    assert.throws(() => mergeCosignImage(Buffer.from('{"schemaVersion":2,"layers":"x"}'), []), /not an image manifest/);
    assert.throws(() => parseImageManifest(Buffer.from('nope')), /not JSON/);
  });
});
