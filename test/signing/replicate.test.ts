import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { LocalKeySigner } from '../../src/signing/keys';
import { signImage } from '../../src/signing/sign-image';
import { buildCosignImage, parseImageManifest, signatureLayer, type Artifact } from '../../src/signing/artifacts';
import { signatureTag } from '../../src/model';
import { planMirrorPush, readCosignImage, signingNeeds } from '../../src/signing/replicate';
import { SLSA_PROVENANCE_V1 } from '../../src/signing/slsa-provenance';
import { verifyImageSignatures, type ArtifactReader } from '../../src/signing/verify';
import { imagesReader, readCosignImages, ReadBackError, replicateImages, SignatureMissingError, verifyWithKey } from '../../src/signing/promotion';
import type { ArtifactStore } from '../../src/signing/store';
import { sha256 } from '../../src/oci';

function memRegistry(): { reader: ArtifactReader; push(tag: string, a: Artifact): void } {
  const manifests = new Map<string, Buffer>();
  const blobs = new Map<string, Buffer>();
  return {
    push(tag, a) {
      for (const b of a.blobs) blobs.set(b.digest, b.bytes);
      manifests.set(tag, a.manifest.bytes);
    },
    reader: {
      manifest: (t) => Promise.resolve(manifests.get(t) ?? null),
      blob: (d) => (blobs.has(d) ? Promise.resolve(blobs.get(d) as Buffer) : Promise.reject(new Error('missing'))),
    },
  };
}

const D = 'sha256:' + '7c'.repeat(32);
const provenance = { sourceRepository: 's.example/a', destinations: ['p.example/a'], manifestPath: 'm.yaml', promoflowVersion: '0.1.0', workflowId: 'w', runId: 'r', startedOn: '2026-11-26T10:00:00Z', finishedOn: '2026-11-26T10:00:01Z' };

describe('replication and idempotency', () => {
  it('copies byte-for-byte to empty mirrors, skips complete ones, merges with foreign layers without duplicates', async () => {
    const signer = new LocalKeySigner(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    const src = memRegistry();
    const [s] = (await signImage({ digest: D, signer, dockerReference: 'p.example/a', provenance })).digests;
    assert.ok(s);
    src.push(s.signature.tag, s.signature);
    const source = await readCosignImage(src.reader, signatureTag(D));
    assert.ok(source);
    assert.equal(source.manifest.digest, s.signature.manifest.digest);

    const empty = memRegistry();
    const plan1 = await planMirrorPush(source, empty.reader, signatureTag(D));
    assert.equal(plan1?.manifest.digest, source.manifest.digest, 'byte-for-byte');
    empty.push(signatureTag(D), plan1 as Artifact);
    assert.equal(await planMirrorPush(source, empty.reader, signatureTag(D)), null, 'second run pushes nothing');

    const foreign = memRegistry();
    foreign.push(signatureTag(D), buildCosignImage([signatureLayer(Buffer.from('{"other":1}'), Buffer.from('x'))]));
    const merged = await planMirrorPush(source, foreign.reader, signatureTag(D));
    assert.ok(merged);
    foreign.push(signatureTag(D), merged);
    assert.equal(parseImageManifest(merged.manifest.bytes).layers.length, 2);
    assert.equal(await planMirrorPush(source, foreign.reader, signatureTag(D)), null, 'merge is idempotent');
    assert.equal((await verifyImageSignatures(foreign.reader, { publicKey: await signer.publicKeyPem(), digest: D })).ok, true);
  });

  it('signingNeeds says what is missing, so a retry never re-signs (ECDSA is randomised)', async () => {
    const signer = new LocalKeySigner(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    const pub = await signer.publicKeyPem();
    const reg = memRegistry();
    const check = { publicKey: pub, digest: D, dockerReference: 'p.example/a', predicateType: SLSA_PROVENANCE_V1 };
    assert.deepEqual(await signingNeeds(reg.reader, check), { signature: true, attestation: true });
    const [s] = (await signImage({ digest: D, signer, dockerReference: 'p.example/a', provenance })).digests;
    assert.ok(s?.attestation);
    reg.push(s.signature.tag, s.signature);
    assert.deepEqual(await signingNeeds(reg.reader, check), { signature: false, attestation: true });
    reg.push(s.attestation.tag, s.attestation);
    assert.deepEqual(await signingNeeds(reg.reader, check), { signature: false, attestation: false });
    const [again] = (await signImage({ digest: D, signer, dockerReference: 'p.example/a', provenance })).digests;
    assert.notEqual(again?.signature.manifest.digest, s.signature.manifest.digest, 'a second signing is a different layer');
  });
});

/** A store over maps that counts requests and can lose a write (a registry that acknowledges and then lags). */
function countingStore(o: { loseWrites?: boolean } = {}) {
  const manifests = new Map<string, Buffer>();
  const blobs = new Map<string, Buffer>();
  const requests = { get: 0, head: 0, push: 0 };
  const store: ArtifactStore = {
    manifest: async (t) => (requests.get++, manifests.get(t) ?? null),
    blob: async (d) => blobs.get(d) ?? Promise.reject(new Error('missing')),
    digest: async (t) => {
      requests.head++;
      const m = manifests.get(t);
      return m ? sha256(m) : null;
    },
    push: async (tag, a) => {
      requests.push++;
      if (o.loseWrites) return;
      for (const b of a.blobs) blobs.set(b.digest, b.bytes);
      manifests.set(tag, a.manifest.bytes);
    },
    pushReferrer: async () => undefined,
    referrers: async () => [],
  };
  return { store, requests, manifests };
}

describe('replicateImages: verified at the home once, proven at each mirror by digest', () => {
  it('pushes to an empty mirror and proves it with one read before and one HEAD after; a second run reads once and pushes nothing', async () => {
    const signer = new LocalKeySigner(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    const [s] = (await signImage({ digest: D, signer, dockerReference: 'p.example/a', provenance })).digests;
    const home = memRegistry();
    home.push(s!.signature.tag, s!.signature);
    const images = await readCosignImages(home.reader, [D], { attest: false, fromName: 'prod', image: 'a' });
    assert.deepEqual(await verifyWithKey(imagesReader(images), [D], { publicKey: await signer.publicKeyPem(), dockerReference: 'p.example/a', attest: false }), []);

    const m = countingStore();
    assert.deepEqual(await replicateImages(images, m.store), { pushed: 1, upToDate: 0, merged: [] });
    assert.deepEqual(m.requests, { get: 1, head: 1, push: 1 });
    assert.equal(sha256(m.manifests.get(signatureTag(D))!), s!.signature.manifest.digest, 'byte-for-byte');
    assert.deepEqual(await replicateImages(images, m.store), { pushed: 0, upToDate: 1, merged: [] });
    assert.deepEqual(m.requests, { get: 2, head: 1, push: 1 });
  });

  it('a mirror holding other layers gets the merge, returned for verification by reading; a write that does not read back is an error', async () => {
    const signer = new LocalKeySigner(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    const [s] = (await signImage({ digest: D, signer, dockerReference: 'p.example/a', provenance })).digests;
    const home = memRegistry();
    home.push(s!.signature.tag, s!.signature);
    const images = await readCosignImages(home.reader, [D], { attest: false, fromName: 'prod', image: 'a' });
    const foreign = countingStore();
    const other = buildCosignImage([signatureLayer(Buffer.from('{"other":1}'), Buffer.from('x'))]);
    foreign.manifests.set(signatureTag(D), other.manifest.bytes);
    assert.deepEqual(await replicateImages(images, foreign.store), { pushed: 1, upToDate: 0, merged: [signatureTag(D)] });
    assert.equal(parseImageManifest(foreign.manifests.get(signatureTag(D))!).layers.length, 2);

    await assert.rejects(replicateImages(images, countingStore({ loseWrites: true }).store), ReadBackError);
    await assert.rejects(readCosignImages(memRegistry().reader, [D], { attest: false, fromName: 'prod', image: 'a' }), SignatureMissingError);
  });
});
