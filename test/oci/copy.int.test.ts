import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type LocalRegistry } from '../../src/dev/registry';
import { blobExists, copyImage, fetchBlob, getManifest, headManifest, pushBlob, RegistryClient, ManifestUnknownError, type CopyProgress } from '../../src/oci';
import { type RepositoryRef } from '../../src/model';
import { buildImage, buildIndex, pushImage } from '../../src/dev/sample-images';
import { startFaultProxy } from '../../src/testing/fault-proxy';

let dir: string;
let regs: LocalRegistry[] = [];
const c = new RegistryClient();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'promoflow-test-oci-copy-'));
  regs = await Promise.all(['src', 'a', 'b'].map((name) => startRegistry({ name, stateDir: dir })));
});
after(async () => {
  c.close();
  await Promise.all(regs.map((r) => r.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const repo = (i: number, repository: string): RepositoryRef => ({ registry: regs[i]!.host, repository });

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

test('push, get, head, fetch round trip', async () => {
  const img = buildImage({ seed: 'rt', layers: 2, layerBytes: 100_000 });
  const r = repo(0, 'rt/app');
  await pushImage(c, r, img, ['v1']);
  const m = await getManifest(c, r, 'v1');
  assert.equal(m.digest, img.digest);
  assert.equal(m.mediaType, img.mediaType);
  assert.deepEqual(m.bytes, img.manifest);
  assert.deepEqual(await headManifest(c, r, img.digest), { digest: img.digest, mediaType: img.mediaType, size: img.manifest.length });
  assert.equal(await headManifest(c, r, 'nope'), undefined);
  await assert.rejects(getManifest(c, r, 'nope'), ManifestUnknownError);
  const layer = img.blobs[1]!;
  assert.deepEqual(await collect(await fetchBlob(c, r, layer.digest)), layer.bytes);
  assert.equal(await blobExists(c, r, layer.digest), true);
  assert.equal(await blobExists(c, repo(1, 'rt/app'), layer.digest), false);
});

test('streamed push of a large blob', async () => {
  const big = buildImage({ seed: 'stream', layerBytes: 9 << 20, uncompressed: true });
  const layer = big.blobs[1]!;
  const r = repo(1, 'stream/app');
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < layer.bytes.length; i += 1 << 20) yield layer.bytes.subarray(i, i + (1 << 20));
  }
  await pushBlob(c, r, layer.digest, layer.size, chunks());
  assert.equal(await blobExists(c, r, layer.digest), true);
});

test('copy an index to several destinations, then again (all skipped)', async () => {
  const idx = buildIndex({ seed: 'idx', layers: 2, layerBytes: 50_000 });
  const src = repo(0, 'idx/app');
  await pushImage(c, src, idx);
  const dsts = [
    { repo: repo(1, 'mirror/app'), tags: ['v1', 'latest'] },
    { repo: repo(1, 'mirror2/app'), tags: ['v1'] },
    { repo: repo(2, 'mirror/app'), tags: [] },
    { repo: repo(0, 'copy/app'), tags: ['x'] },
  ];
  const events: CopyProgress[] = [];
  const res = await copyImage(c, { ...src, digest: idx.digest }, dsts, { onProgress: (p) => events.push(p) });
  assert.equal(res.digest, idx.digest);
  for (const d of dsts) {
    const m = await getManifest(c, d.repo, idx.digest);
    assert.deepEqual(m.bytes, idx.manifest);
    for (const t of d.tags) assert.equal((await getManifest(c, d.repo, t)).digest, idx.digest);
    for (const ch of idx.children) assert.equal((await headManifest(c, d.repo, ch.digest))?.digest, ch.digest);
    for (const b of idx.blobs) assert.ok(await blobExists(c, d.repo, b.digest));
  }
  const n = idx.blobs.length;
  const [a1, a2, b1, s1] = res.destinations;
  assert.equal(a1!.blobsCopied, n);
  assert.equal(a2!.blobsMounted, n, 'second repo on the same registry mounts');
  assert.equal(b1!.blobsCopied, n);
  assert.equal(s1!.blobsMounted, n, 'a repo on the source registry mounts from the source');
  assert.equal(a1!.manifestsWritten, 3);
  assert.ok(events.some((e) => e.kind === 'manifest' && e.digest === idx.digest && !e.skipped));

  const again = await copyImage(c, { ...src, digest: idx.digest }, dsts);
  for (const d of again.destinations) {
    assert.equal(d.blobsCopied + d.blobsMounted, 0);
    assert.equal(d.manifestsWritten, 0);
  }
});

test('checkpointed keys skip destinations without a single HEAD; only tags are written', async () => {
  const img = buildImage({ seed: 'done', layers: 2 });
  const src = repo(0, 'done/app');
  await pushImage(c, src, img);
  const proxy = await startFaultProxy(regs[2]!.host);
  try {
    const dst = { registry: proxy.host, repository: 'done/app' };
    await copyImage(c, { ...src, digest: img.digest }, [{ repo: dst, tags: [] }]);
    const before = proxy.requests.length;
    const done = new Set([`${proxy.host}/done/app|${img.digest}`]);
    const res = await copyImage(c, { ...src, digest: img.digest }, [{ repo: dst, tags: ['t1'] }], { done });
    const seen = proxy.requests.slice(before);
    assert.deepEqual(seen.map((r) => r.method), ['PUT'], 'one tag PUT, no HEAD');
    assert.equal(res.destinations[0]!.blobsSkipped, img.blobs.length);
    assert.equal((await getManifest(c, dst, 't1')).digest, img.digest);
  } finally {
    await proxy.stop();
  }
});

test('an aborted copy rejects and writes no manifest', async () => {
  const img = buildImage({ seed: 'abort', layerBytes: 1 << 20 });
  const src = repo(0, 'abort/app');
  await pushImage(c, src, img);
  const ac = new AbortController();
  ac.abort(new Error('operator cancelled'));
  await assert.rejects(copyImage(c, { ...src, digest: img.digest }, [{ repo: repo(1, 'abort/app'), tags: ['v1'] }], { signal: ac.signal }));
  assert.equal(await headManifest(c, repo(1, 'abort/app'), img.digest), undefined);
});

test('concurrent copies crossing the same registries under concurrency limit 1 do not deadlock', async () => {
  const limited = new RegistryClient({ limits: () => ({ concurrency: 1 }) }, { copyConcurrency: 4 });
  const imgs = ['x', 'y', 'z'].map((s) => buildImage({ seed: `limit-${s}`, layers: 3, layerBytes: 2 << 20, uncompressed: true }));
  for (const [i, img] of imgs.entries()) await pushImage(c, repo(0, `limit/${i}`), img);
  const order = [
    [1, 2],
    [2, 1],
    [1, 2],
  ];
  const all = Promise.all(imgs.map((img, i) => copyImage(limited, { ...repo(0, `limit/${i}`), digest: img.digest }, order[i]!.map((r) => ({ repo: repo(r, `limit/${i}`), tags: [] })))));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('deadlock: copies did not finish in 30 s')), 30_000)));
  try {
    const results = await Promise.race([all, timeout]);
    for (const r of results) for (const d of r.destinations) assert.equal(d.blobsCopied, 4);
  } finally {
    clearTimeout(timer);
    limited.close();
  }
});

test('each source blob is read once, whatever the number of destination registries', async () => {
  const img = buildImage({ seed: 'one-read', layers: 3, layerBytes: 1 << 20, uncompressed: true });
  await pushImage(c, repo(0, 'oneread/app'), img);
  const proxy = await startFaultProxy(regs[0]!.host);
  try {
    const res = await copyImage(c, { registry: proxy.host, repository: 'oneread/app', digest: img.digest }, [1, 2].flatMap((r) => [{ repo: repo(r, 'oneread/a'), tags: [] }, { repo: repo(r, 'oneread/b'), tags: [] }]));
    const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/sha256:'));
    assert.equal(gets.length, img.blobs.length);
    assert.deepEqual(res.destinations.map((d) => [d.blobsCopied, d.blobsMounted]), [[4, 0], [0, 4], [4, 0], [0, 4]]);
  } finally {
    await proxy.stop();
  }
});

test('a blob an earlier or concurrent copy wrote to a registry is mounted from there, not uploaded again (per client)', async () => {
  const img = buildImage({ seed: 'placements', layers: 3, layerBytes: 256 << 10, uncompressed: true });
  await pushImage(c, repo(0, 'place/app'), img);
  const own = new RegistryClient();
  try {
    const src = { ...repo(0, 'place/app'), digest: img.digest };
    // Two copies at once to two repositories of one registry: each blob crosses once, the other copy mounts it.
    const both = await Promise.all(['place/x', 'place/y'].map((r) => copyImage(own, src, [{ repo: repo(1, r), tags: [] }])));
    const sum = (k: 'blobsCopied' | 'blobsMounted') => both.reduce((n, r) => n + r.destinations[0]![k], 0);
    assert.deepEqual([sum('blobsCopied'), sum('blobsMounted')], [img.blobs.length, img.blobs.length]);
    // Later, a third repository: all mounted.
    const later = await copyImage(own, src, [{ repo: repo(1, 'place/z'), tags: ['v1'] }]);
    assert.deepEqual([later.destinations[0]!.blobsCopied, later.destinations[0]!.blobsMounted, later.destinations[0]!.bytesCopied], [0, img.blobs.length, 0]);
    assert.equal((await getManifest(c, repo(1, 'place/z'), 'v1')).digest, img.digest);
    // Another client (another scope's credentials) knows nothing of these: it uploads.
    const other = await copyImage(c, src, [{ repo: repo(1, 'place/w'), tags: [] }]);
    assert.equal(other.destinations[0]!.blobsCopied, img.blobs.length);
  } finally {
    own.close();
  }
});

test('with a blob cache, concurrent single-destination copies read each source blob once', async () => {
  const img = buildImage({ seed: 'cache', layers: 3, layerBytes: 1 << 20, uncompressed: true });
  await pushImage(c, repo(0, 'cache/app'), img);
  const cached = new RegistryClient({}, { blobCache: { parent: dir, maxBytes: 64 << 20 } });
  const proxy = await startFaultProxy(regs[0]!.host);
  try {
    const src = { registry: proxy.host, repository: 'cache/app', digest: img.digest };
    const targets = [repo(1, 'cache/a'), repo(2, 'cache/b'), repo(1, 'cache/c'), repo(2, 'cache/d')];
    await Promise.all(targets.map((t) => copyImage(cached, src, [{ repo: t, tags: ['v1'] }])));
    const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/sha256:'));
    assert.equal(gets.length, img.blobs.length);
    for (const t of targets) assert.equal((await getManifest(c, t, 'v1')).digest, img.digest);
    // A corrupt source read never enters the cache: the flipped download is read again (a fault, not a verdict) and
    // only the good bytes are kept.
    const img2 = buildImage({ seed: 'cache-flip', layerBytes: 1 << 20, uncompressed: true });
    await pushImage(c, repo(0, 'cache/flip'), img2);
    proxy.rules = [{ method: 'GET', path: new RegExp(img2.blobs[1]!.digest), fault: { kind: 'flipByte' }, times: 1 }];
    const src2 = { registry: proxy.host, repository: 'cache/flip', digest: img2.digest };
    const before = proxy.requests.length;
    await copyImage(cached, src2, [{ repo: repo(1, 'cache/flip'), tags: [] }]);
    assert.equal(proxy.requests.slice(before).filter((r) => r.method === 'GET' && r.path.includes(img2.blobs[1]!.digest)).length, 2, 'the flipped blob was read again');
    assert.equal((await headManifest(c, repo(1, 'cache/flip'), img2.digest))?.digest, img2.digest);
  } finally {
    cached.close();
    await proxy.stop();
  }
});

test('requests per blob at a destination: a self-mount POST checks it and opens its session, one PUT carries it; the root is written once, by its first tag', async () => {
  const img = buildImage({ seed: 'few-requests', layers: 2, layerBytes: 300_000, uncompressed: true });
  await pushImage(c, repo(0, 'few/app'), img);
  const own = new RegistryClient();
  const proxy = await startFaultProxy(regs[1]!.host);
  try {
    const dst = { registry: proxy.host, repository: 'few/app' };
    const res = await copyImage(own, { ...repo(0, 'few/app'), digest: img.digest }, [{ repo: dst, tags: ['v1', 'v2'] }]);
    const seen = proxy.requests.filter((r) => r.path.startsWith('/v2/few/app/'));
    const kinds = seen.map((r) => `${r.method} ${r.path.replace(/sha256[:%3A]+[0-9a-f]{64}/g, 'D').replace(/uploads\/[^?]+/, 'uploads/S').replace(/_state=[^&]*&/, '')}`);
    assert.deepEqual(kinds.filter((k) => !k.startsWith('POST') && !k.startsWith('PUT /v2/few/app/blobs')), ['HEAD /v2/few/app/manifests/D', 'PUT /v2/few/app/manifests/v1', 'PUT /v2/few/app/manifests/v2']);
    assert.deepEqual(kinds.filter((k) => k.startsWith('POST')), img.blobs.map(() => 'POST /v2/few/app/blobs/uploads/?mount=D&from=few%2Fapp'));
    assert.deepEqual(kinds.filter((k) => k.startsWith('PUT /v2/few/app/blobs')), img.blobs.map(() => 'PUT /v2/few/app/blobs/uploads/S?digest=D'));
    assert.deepEqual([res.destinations[0]!.blobsCopied, res.destinations[0]!.manifestsWritten], [img.blobs.length, 1]);
    assert.equal((await headManifest(c, repo(1, 'few/app'), img.digest))?.digest, img.digest, 'held by digest too');
    assert.equal((await getManifest(c, repo(1, 'few/app'), 'v2')).digest, img.digest);

    // Blobs already there (not the manifest): each self-mount answers 201, nothing is sent; no tags → by digest.
    const other = { registry: proxy.host, repository: 'few/other' };
    for (const b of img.blobs) await pushBlob(c, repo(1, 'few/other'), b.digest, b.size, b.bytes);
    const fresh = new RegistryClient();
    const again = await copyImage(fresh, { ...repo(0, 'few/app'), digest: img.digest }, [{ repo: other, tags: [] }]).finally(() => fresh.close());
    const there = proxy.requests.filter((r) => r.path.startsWith('/v2/few/other/'));
    assert.deepEqual(there.map((r) => [r.method, r.status]), [['HEAD', 404], ...img.blobs.map(() => ['POST', 201]), ['PUT', 201]]);
    assert.ok(there[there.length - 1]!.path.endsWith(`/manifests/${img.digest}`));
    assert.deepEqual([again.destinations[0]!.blobsCopied, again.destinations[0]!.blobsSkipped, again.destinations[0]!.manifestsWritten], [0, img.blobs.length, 1]);
  } finally {
    own.close();
    await proxy.stop();
  }
});

test('blobs above headFirstBytes are HEADed first; smaller ones are not', async () => {
  const img = buildImage({ seed: 'head-first', layers: 2, layerBytes: 100_000, uncompressed: true });
  await pushImage(c, repo(0, 'headfirst/app'), img);
  const limit = 10_000;
  const own = new RegistryClient({}, { headFirstBytes: limit });
  const proxy = await startFaultProxy(regs[1]!.host);
  try {
    await copyImage(own, { ...repo(0, 'headfirst/app'), digest: img.digest }, [{ repo: { registry: proxy.host, repository: 'headfirst/app' }, tags: ['v1'] }]);
    const heads = proxy.requests.filter((r) => r.method === 'HEAD' && r.path.includes('/blobs/')).map((r) => r.path.slice(r.path.lastIndexOf('/') + 1));
    assert.deepEqual(heads.sort(), img.blobs.filter((b) => b.size > limit).map((b) => b.digest).sort());
    assert.ok(heads.length > 0 && heads.length < img.blobs.length);
    assert.equal((await getManifest(c, repo(1, 'headfirst/app'), 'v1')).digest, img.digest);
  } finally {
    own.close();
    await proxy.stop();
  }
});

test('a failed POST at one destination cancels the sessions the others opened', async () => {
  const img = buildImage({ seed: 'cancel-open', layers: 1, layerBytes: 100_000, uncompressed: true });
  await pushImage(c, repo(0, 'cancel/app'), img);
  const own = new RegistryClient({}, { copyConcurrency: 1 });
  const [pa, pb] = await Promise.all([startFaultProxy(regs[1]!.host), startFaultProxy(regs[2]!.host)]);
  try {
    pb.rules = [{ method: 'POST', path: /\/blobs\/uploads\//, fault: { kind: 'status', status: 403, body: JSON.stringify({ errors: [{ code: 'DENIED', message: 'injected' }] }) } }];
    const dsts = [pa, pb].map((p) => ({ repo: { registry: p.host, repository: 'cancel/app' }, tags: [] }));
    await assert.rejects(copyImage(own, { ...repo(0, 'cancel/app'), digest: img.digest }, dsts));
    const opened = pa.requests.filter((r) => r.method === 'POST' && r.status === 202);
    const cancelled = pa.requests.filter((r) => r.method === 'DELETE' && r.path.includes('/blobs/uploads/'));
    assert.ok(opened.length >= 1);
    assert.equal(cancelled.length, opened.length, 'every session opened was cancelled');
    assert.ok(!pa.requests.some((r) => r.method === 'PUT'), 'nothing was sent');
  } finally {
    own.close();
    await Promise.all([pa.stop(), pb.stop()]);
  }
});
