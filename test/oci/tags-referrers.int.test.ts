import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type LocalRegistry } from '../../src/dev/registry';
import { getManifest, listReferrers, listTags, pushBlob, pushReferrer, RegistryClient, sha256 } from '../../src/oci';
import { referrersTag, type RepositoryRef } from '../../src/model';
import { buildImage, pushImage } from '../../src/dev/sample-images';
import { startFaultProxy, type FaultProxy } from '../../src/testing/fault-proxy';

let dir: string;
let reg: LocalRegistry;
let proxy: FaultProxy;
const c = new RegistryClient();
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'promoflow-test-oci-tags-'));
  reg = await startRegistry({ name: 'r', stateDir: dir });
  proxy = await startFaultProxy(reg.host);
});
after(async () => {
  c.close();
  await proxy.stop();
  await reg.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('tags list (distribution 2.8 ignores n: pagination itself is proven in tags.test.ts)', async () => {
  const repo: RepositoryRef = { registry: proxy.host, repository: 'tags/app' };
  const img = buildImage({ seed: 'tags' });
  const tags = Array.from({ length: 7 }, (_, i) => `v${i}`);
  await pushImage(c, repo, img, tags);
  assert.deepEqual((await listTags(c, repo, { pageSize: 2 })).sort(), tags);
  assert.deepEqual(await listTags(c, { registry: reg.host, repository: 'tags/none' }), []);
});

function artifact(subject: { digest: string; size: number; mediaType: string }, artifactType: string, payload: string): { bytes: Buffer; mediaType: string; blob: Buffer } {
  const blob = Buffer.from(payload);
  const empty = Buffer.from('{}');
  const m = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 },
    layers: [{ mediaType: 'application/octet-stream', digest: sha256(blob), size: blob.length }],
    subject,
    annotations: { 'org.example.n': payload },
  };
  return { bytes: Buffer.from(JSON.stringify(m)), mediaType: m.mediaType, blob };
}

test('referrers: fallback tag index, concurrent writers merged, no duplicates, artifactType filter', async () => {
  const repo: RepositoryRef = { registry: reg.host, repository: 'ref/app' };
  const img = buildImage({ seed: 'referrers' });
  await pushImage(c, repo, img);
  const subject = { digest: img.digest, size: img.manifest.length, mediaType: img.mediaType };
  await pushBlob(c, repo, sha256(Buffer.from('{}')), 2, Buffer.from('{}'));
  const arts = ['a', 'b', 'c', 'd'].map((p, i) => artifact(subject, i % 2 ? 'application/vnd.example.sbom' : 'application/vnd.example.sig', p));
  for (const a of arts) await pushBlob(c, repo, sha256(a.blob), a.blob.length, a.blob);
  await Promise.all(arts.map((a) => pushReferrer(c, repo, a)));
  await pushReferrer(c, repo, arts[0]!);
  const all = await listReferrers(c, repo, img.digest);
  assert.deepEqual(all.map((d) => d.digest).sort(), arts.map((a) => sha256(a.bytes)).sort());
  const sboms = await listReferrers(c, repo, img.digest, { artifactType: 'application/vnd.example.sbom' });
  assert.equal(sboms.length, 2);
  assert.ok(sboms.every((d) => d.artifactType === 'application/vnd.example.sbom' && d.annotations?.['org.example.n']));
  const idx = await getManifest(c, repo, referrersTag(img.digest));
  assert.equal(idx.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.deepEqual(await listReferrers(c, repo, `sha256:${'0'.repeat(64)}`), []);
});
