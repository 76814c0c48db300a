// The OCI client against the hostile registry (src/testing/hostile-registry.ts): issue 12, findings 4 (credentials
// stay on the registry's origin), 6 (bounded memory: tags, artifacts, index depth/width, bytes per copy), 7 (a
// minimum throughput per transfer) and 9 (the blob cache is private and verified on read). Each asserts what reached
// the wire or what the client refused, not which functions ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyImage, DEFAULT_CACHE_BYTES, getManifest, listRepositories, listTags, ManifestTooLargeError, RegistryClient, sha256 } from '../../src/oci';
import type { RegistryLimits } from '../../src/model';
import { artifactStore } from '../../src/activities/artifacts';
import { readCosignImage } from '../../src/signing/replicate';
import { startHostileRegistry, type HostileRegistry } from '../../src/testing/hostile-registry';

const CREDS = { username: 'promoflow', password: 's3cret-never-elsewhere' };

function client(h: HostileRegistry, limits?: RegistryLimits, tuning: ConstructorParameters<typeof RegistryClient>[1] = {}): RegistryClient {
  return new RegistryClient({ credentials: async (r) => (r === h.host ? CREDS : undefined), ...(limits ? { limits: () => limits } : {}) }, { retry: { maxAttempts: 2, baseDelayMs: 10 }, ...tuning });
}

async function withHostile(opts: Parameters<typeof startHostileRegistry>[0], fn: (h: HostileRegistry) => Promise<void>): Promise<void> {
  const h = await startHostileRegistry({ basicAuth: CREDS, ...opts });
  try {
    await fn(h);
  } finally {
    await h.stop();
  }
}

test('finding 4: an upload Location on another origin gets the blob without the registry credentials', () =>
  withHostile({ foreignUploadLocation: true }, async (h) => {
    const c = client(h);
    try {
      const img = h.image('src/app', { tags: ['v1'] });
      await copyImage(c, { registry: h.host, repository: 'src/app', digest: img.digest }, [{ repo: { registry: h.host, repository: 'dst/app' }, tags: ['v1'] }]);
      const atOther = h.requests.filter((r) => r.host === h.otherHost);
      assert.ok(atOther.some((r) => r.method === 'PUT'), 'the uploads went to the Location the registry named');
      assert.deepEqual(h.authorizationsAt(h.otherHost), [], 'no Authorization header reached the other origin');
      assert.ok(h.authorizationsAt(h.host).length > 0, 'the registry itself did get the credentials');
      assert.equal((await getManifest(c, { registry: h.host, repository: 'dst/app' }, 'v1')).digest, img.digest);
    } finally {
      c.close();
    }
  }));

test('finding 4: tags and catalog pagination Links to another origin are refused, credentials never sent there', () =>
  withHostile({ foreignLinks: true, maxPageSize: 2 }, async (h) => {
    const c = client(h);
    try {
      h.manyTags('app', 5);
      for (const r of ['a', 'b', 'c']) h.image(r);
      await assert.rejects(listRepositories(c, h.host), /pagination link points to another origin/);
      await assert.rejects(listTags(c, { registry: h.host, repository: 'app' }), /pagination link points to another origin/);
      assert.deepEqual(h.requests.filter((r) => r.host === h.otherHost), [], 'nothing was sent to the other origin');
    } finally {
      c.close();
    }
  }));

test('finding 6: 130,000 tags in one page are listed (no call-stack overflow); maxTags bounds a repository', () =>
  withHostile({}, async (h) => {
    h.manyTags('big', 130_000);
    const c = client(h);
    try {
      const tags = await listTags(c, { registry: h.host, repository: 'big' });
      assert.equal(tags.length, 130_000);
      assert.equal(tags[129_999], 't129999');
    } finally {
      c.close();
    }
    const bounded = client(h, { maxTags: 1000 });
    try {
      await assert.rejects(listTags(bounded, { registry: h.host, repository: 'big' }, { pageSize: 400 }), /more than 1000 tags; raise limits\.maxTags of registry/);
      // Streamed page by page: the client stopped after the page that crossed the limit.
      assert.equal(h.requests.filter((r) => r.path.startsWith('/v2/big/tags/list?n=400') && r.status === 200).length, 3);
    } finally {
      bounded.close();
    }
  }));

test('finding 6: an endless .sig layer is cut off at its declared size, and a layer declared above maxArtifactBytes is never fetched', () =>
  withHostile({}, async (h) => {
    const small = h.image('app', { tags: ['v1'] });
    const big = h.image('app', { tags: ['v2'] });
    const endless = `sha256:${'e'.repeat(64)}` as const;
    h.serveBlob(endless, { kind: 'endless' }, 'app');
    // One signature declares its layer small, the other huge; the registry streams the layer without end.
    h.signature('app', small.digest, { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: endless, size: 300 });
    h.signature('app', big.digest, { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: endless, size: 1 << 30 });
    const c = client(h, { maxArtifactBytes: 1 << 20 });
    const store = artifactStore(c, { registry: h.host, repository: 'app' });
    try {
      await assert.rejects(readCosignImage(store, `${small.digest.replace(':', '-')}.sig`), /more than the 300 bytes declared/);
      await assert.rejects(readCosignImage(store, `${big.digest.replace(':', '-')}.sig`), /larger than 1048576 bytes, too large for a signature or attestation layer; raise limits\.maxArtifactBytes/);
      // The small one is read twice (a wrong read is re-read once before it becomes a verdict); the one declared above
      // the limit is never fetched.
      assert.equal(h.requests.filter((r) => r.path.endsWith(`/blobs/${endless}`)).length, 2, 'the layer declared above the limit was not fetched');
    } finally {
      c.close();
    }
  }));

test('finding 6: a 10,000-level index chain is refused at maxIndexDepth after a handful of requests', () =>
  withHostile({}, async (h) => {
    const top = h.indexChain('chain', 10_000);
    const c = client(h);
    try {
      await assert.rejects(copyImage(c, { registry: h.host, repository: 'chain', digest: top.digest }, [{ repo: { registry: h.host, repository: 'dst/chain' }, tags: [] }]), /indexes nested deeper than 8 levels; raise limits\.maxIndexDepth/);
      const gets = h.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v2/chain/manifests/') && r.status === 200);
      assert.ok(gets.length <= 9, `walked ${gets.length} manifests`);
      assert.deepEqual(h.requests.filter((r) => r.path.startsWith('/v2/dst/')), [], 'nothing was written');
    } finally {
      c.close();
    }
  }));

test('finding 6: an index wider than maxIndexChildren, a huge manifest and an oversized image are refused before any write', () =>
  withHostile({}, async (h) => {
    const wide = h.wideIndex('wide', 5000);
    const huge = h.hugeManifest('huge', 11_700_000);
    const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${'b'.repeat(64)}` as const, size: 100 * 2 ** 30 };
    const big = h.image('big', { layers: [layer] });
    const c = client(h);
    const copy = (repository: string, digest: string) => copyImage(c, { registry: h.host, repository, digest: digest as `sha256:${string}` }, [{ repo: { registry: h.host, repository: `dst/${repository}` }, tags: [] }]);
    try {
      await assert.rejects(copy('wide', wide.digest), /more than 1024 manifests below it; raise limits\.maxIndexChildren/);
      assert.equal(h.requests.filter((r) => r.path.startsWith('/v2/wide/manifests/') && r.status === 200).length, 1, 'no child was fetched');
      await assert.rejects(copy('huge', huge.digest), (e: unknown) => e instanceof ManifestTooLargeError && /raise limits\.maxManifestBytes/.test(e.message));
      await assert.rejects(copy('big', big.digest), /declare more than 68719476736 bytes; raise limits\.maxCopyBytes/);
      assert.deepEqual(h.requests.filter((r) => r.path.startsWith('/v2/dst/')), [], 'nothing was written');
    } finally {
      c.close();
    }
  }));

test('finding 7: a source trickling its blob fails the transfer at the minimum throughput, with the limit named', () =>
  withHostile({}, async (h) => {
    const bytes = Buffer.alloc(4096, 7);
    const layer = h.blob('slow', bytes);
    // The registry announces the blob honestly but sends one byte every 50 ms (~20 B/s).
    h.serveBlob(layer.digest, { kind: 'trickle', bytes, intervalMs: 50 }, 'slow');
    const img = h.image('slow', { layers: [layer] });
    const c = client(h, { minBytesPerSecond: 1000 }, { http: { throughputWindowMs: 500 } });
    const t0 = Date.now();
    try {
      await assert.rejects(copyImage(c, { registry: h.host, repository: 'slow', digest: img.digest }, [{ repo: { registry: h.host, repository: 'dst/slow' }, tags: [] }]), /transfer slower than 1000 bytes\/s .*lower limits\.minBytesPerSecond/);
      // At 20 B/s the blob alone takes over 200 s; the deadline ended each attempt after one window.
      assert.ok(Date.now() - t0 < 30_000);
      assert.equal(h.uploaded.has(layer.digest), false, 'no partial blob was committed');
    } finally {
      c.close();
    }
  }));

test('finding 9: the blob cache is a fresh private directory, sized by default, and planted bytes never reach an upload', () =>
  withHostile({}, async (h) => {
    const parent = mkdtempSync(join(tmpdir(), 'promoflow-test-cache-'));
    const layerBytes = Buffer.alloc(64 << 10, 3);
    const img = h.image('src/app', { layer: layerBytes });
    const layerDigest = sha256(layerBytes);
    const c = client(h, undefined, { blobCache: { parent } });
    try {
      assert.ok(DEFAULT_CACHE_BYTES > 0);
      const cacheDir = c.blobCache!.directory;
      assert.equal(statSync(cacheDir).mode & 0o777, 0o700);
      assert.ok(!cacheDir.includes(String(process.pid)), 'the directory name is not predictable from the pid');
      const src = { registry: h.host, repository: 'src/app', digest: img.digest };
      await copyImage(c, src, [{ repo: { registry: h.host, repository: 'dst/one' }, tags: [] }]);
      // The default-sized cache kept the layer (a negative default would have cached nothing).
      const cached = readdirSync(join(cacheDir, 'sha256'));
      assert.ok(cached.includes(layerDigest.slice(7)), 'the layer was cached under the default size');
      // Plant different bytes of the same size in the cache file.
      writeFileSync(join(cacheDir, 'sha256', layerDigest.slice(7)), Buffer.alloc(64 << 10, 4));
      h.uploaded.clear();
      await copyImage(c, src, [{ repo: { registry: h.host, repository: 'dst/two' }, tags: [] }]);
      assert.deepEqual(h.uploaded.get(layerDigest), layerBytes, 'the destination received the source bytes, not the planted ones');
      const rejected = h.requests.filter((r) => r.path.startsWith('/v2/dst/two/blobs/uploads/') && r.status === 400);
      assert.deepEqual(rejected, [], 'no upload of planted bytes reached the registry');
    } finally {
      c.close();
      rmSync(parent, { recursive: true, force: true });
    }
  }));
