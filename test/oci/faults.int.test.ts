import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type LocalRegistry } from '../../src/dev/registry';
import { blobExists, copyImage, DigestMismatchError, fetchBlob, ReadMismatchError, headManifest, pushBlob, RegistryClient, RegistryUnavailableError, sha256, TooManyRequestsError } from '../../src/oci';
import { type RepositoryRef } from '../../src/model';
import { startFaultProxy, type FaultProxy } from '../../src/testing/fault-proxy';
import { buildImage, pushImage } from '../../src/dev/sample-images';

let dir: string;
let src: LocalRegistry;
let dst: LocalRegistry;
let proxy: FaultProxy;
let dproxy: FaultProxy;
const c = new RegistryClient({}, { retry: { baseDelayMs: 20, maxDelayMs: 200 } });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'promoflow-test-oci-faults-'));
  [src, dst] = await Promise.all([startRegistry({ name: 'src', stateDir: dir }), startRegistry({ name: 'dst', stateDir: dir })]);
  proxy = await startFaultProxy(src.host);
  dproxy = await startFaultProxy(dst.host);
});
after(async () => {
  c.close();
  await proxy.stop();
  await dproxy.stop();
  await Promise.all([src.stop(), dst.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const via = (p: FaultProxy, repository: string): RepositoryRef => ({ registry: p.host, repository });

test('429 (Retry-After seconds and HTTP-date), 503 and connection resets are retried and the copy completes', async () => {
  const img = buildImage({ seed: 'faults', layers: 3, layerBytes: 200_000 });
  await pushImage(c, { registry: src.host, repository: 'f/app' }, img);
  proxy.rules = [
    { method: 'GET', path: /\/manifests\//, fault: { kind: 'status', status: 429, retryAfter: '1' }, times: 1 },
    { method: 'GET', path: /\/blobs\//, fault: { kind: 'status', status: 429, retryAfter: new Date(Date.now() + 1000).toUTCString() }, times: 1 },
    { method: 'GET', path: /\/blobs\//, fault: { kind: 'status', status: 503 }, times: 2 },
    { method: 'GET', path: /\/blobs\//, fault: { kind: 'reset' }, times: 1 },
  ];
  dproxy.rules = [
    { method: 'POST', path: /\/blobs\/uploads\//, fault: { kind: 'reset' }, times: 2 },
    { method: 'PUT', path: /\/blobs\/uploads\//, fault: { kind: 'status', status: 503 }, times: 1 },
    { method: 'PUT', path: /\/manifests\//, fault: { kind: 'status', status: 502 }, times: 1 },
  ];
  const t0 = Date.now();
  const res = await copyImage(c, { ...via(proxy, 'f/app'), digest: img.digest }, [{ repo: via(dproxy, 'f/app'), tags: ['v1'] }]);
  assert.ok(Date.now() - t0 >= 900, 'Retry-After was honoured');
  assert.equal(res.destinations[0]!.blobsCopied, img.blobs.length);
  assert.equal((await headManifest(c, { registry: dst.host, repository: 'f/app' }, 'v1'))?.digest, img.digest);
  const injected = [...proxy.requests, ...dproxy.requests].filter((r) => r.fault !== undefined).map((r) => r.fault);
  assert.equal(injected.length, 9, 'every injected fault was hit');
  proxy.rules = [];
  dproxy.rules = [];
});

test('persistent 503 ends in a retryable RegistryUnavailableError after bounded attempts', async () => {
  proxy.rules = [{ path: /\/manifests\//, fault: { kind: 'status', status: 503 } }];
  const before = proxy.requests.length;
  await assert.rejects(
    copyImage(c, { ...via(proxy, 'f/app'), digest: `sha256:${'1'.repeat(64)}` }, [{ repo: { registry: dst.host, repository: 'x' }, tags: [] }]),
    (e: unknown) => e instanceof RegistryUnavailableError && e.retryable && e.status === 503 && e.message.includes(proxy.host),
  );
  assert.equal(proxy.requests.length - before, c.retry.maxAttempts);
  proxy.rules = [{ path: /\/manifests\//, fault: { kind: 'status', status: 429, retryAfter: '3600' } }];
  await assert.rejects(
    copyImage(c, { ...via(proxy, 'f/app'), digest: `sha256:${'1'.repeat(64)}` }, [{ repo: { registry: dst.host, repository: 'x' }, tags: [] }]),
    (e: unknown) => e instanceof TooManyRequestsError && e.retryable && e.retryAfterMs !== undefined && e.retryAfterMs > 3000_000,
  );
  proxy.rules = [];
});

test('the same flipped byte on every read of a source blob → re-read, then a DigestMismatchError verdict, and nothing committed at the destination', async () => {
  const img = buildImage({ seed: 'flip', layers: 1, layerBytes: 3 << 20, uncompressed: true });
  await pushImage(c, { registry: src.host, repository: 'flip/app' }, img);
  const layer = img.blobs[1]!;
  proxy.rules = [{ method: 'GET', path: new RegExp(`/blobs/${layer.digest}`), fault: { kind: 'flipByte' } }];
  const dests = [{ repo: via(dproxy, 'flip/a'), tags: ['v1'] }, { repo: { registry: src.host, repository: 'flip/b' }, tags: [] }, { repo: { registry: dst.host, repository: 'flip/c' }, tags: [] }];
  const before = dproxy.requests.length;
  await assert.rejects(copyImage(c, { ...via(proxy, 'flip/app'), digest: img.digest }, dests), (e: unknown) => e instanceof DigestMismatchError && !e.retryable && e.message.includes(layer.digest));
  const atDst = dproxy.requests.slice(before);
  assert.ok(atDst.some((r) => r.method === 'DELETE' && r.path.includes('/blobs/uploads/')), 'the upload session was cancelled');
  // The body goes in the commit PUT itself: each was cut short before its last chunk, so none was accepted.
  assert.ok(atDst.some((r) => r.method === 'PUT' && r.path.includes(layer.digest.slice(7))), 'the upload PUT was started');
  assert.ok(!atDst.some((r) => r.method === 'PUT' && r.path.includes(layer.digest.slice(7)) && r.status !== undefined && r.status < 300), 'no upload PUT of the corrupt blob was accepted');
  // flip/b is on the source registry: it mounts the (intact) stored blob, which is fine.
  for (const d of [dests[0]!, dests[2]!]) {
    assert.equal(await blobExists(c, d.repo, layer.digest), false);
    assert.equal(await headManifest(c, d.repo, img.digest), undefined);
  }
  // fetchBlob alone reports it too, after the last byte: as a transient ReadMismatchError (one read proves nothing).
  await assert.rejects(async () => {
    for await (const _ of await fetchBlob(c, via(proxy, 'flip/app'), layer.digest)) void _;
  }, (e: unknown) => e instanceof ReadMismatchError && e.retryable);
  proxy.rules = [];
});

test('a flipped byte once and responses cut mid-body (blob, manifest, a PUT whose answer is lost): re-read and retried, the copy completes', async () => {
  const img = buildImage({ seed: 'flip-once', layers: 2, layerBytes: 300_000, uncompressed: true });
  await pushImage(c, { registry: src.host, repository: 'flip1/app' }, img);
  const [, l1, l2] = img.blobs;
  proxy.rules = [
    { method: 'GET', path: new RegExp(`/blobs/${l1!.digest}`), fault: { kind: 'flipByte', offset: 'random' }, times: 1 },
    { method: 'GET', path: new RegExp(`/blobs/${l2!.digest}`), fault: { kind: 'cut' }, times: 1 },
    { method: 'GET', path: /\/manifests\//, fault: { kind: 'cut', fraction: 0.3 }, times: 1 },
  ];
  dproxy.rules = [{ method: 'PUT', path: /\/manifests\//, fault: { kind: 'cut' }, times: 1 }];
  const [p0, d0] = [proxy.requests.length, dproxy.requests.length];
  const res = await copyImage(c, { ...via(proxy, 'flip1/app'), digest: img.digest }, [{ repo: via(dproxy, 'flip1/app'), tags: ['v1'] }]);
  assert.equal(res.digest, img.digest);
  assert.equal((await headManifest(c, { registry: dst.host, repository: 'flip1/app' }, 'v1'))?.digest, img.digest);
  assert.equal(proxy.requests.slice(p0).filter((r) => r.fault).length + dproxy.requests.slice(d0).filter((r) => r.fault).length, 4, 'every fault was injected');
  assert.ok(proxy.requests.slice(p0).filter((r) => r.method === 'GET' && r.path.includes(l1!.digest)).length >= 2, 'the flipped blob was read again');
  proxy.rules = [];
  dproxy.rules = [];
});

test('a relative upload Location with an existing query string works (streamed and monolithic)', async () => {
  dproxy.rules = [{ path: /\/blobs\/uploads\//, fault: { kind: 'relativeLocation' } }];
  const img = buildImage({ seed: 'relloc', layerBytes: 6 << 20, uncompressed: true });
  const repo = via(dproxy, 'rel/app');
  await pushImage(c, repo, img);
  const layer = img.blobs[1]!;
  const small = img.blobs[0]!;
  assert.ok(await blobExists(c, { registry: dst.host, repository: 'rel/app' }, layer.digest));
  assert.ok(await blobExists(c, { registry: dst.host, repository: 'rel/app' }, small.digest));
  async function* once(): AsyncGenerator<Uint8Array> {
    yield layer.bytes;
  }
  await pushBlob(c, via(dproxy, 'rel/other'), layer.digest, layer.size, once());
  assert.ok(dproxy.requests.some((r) => r.fault === 'relativeLocation' && r.method === 'POST'));
  assert.ok(dproxy.requests.some((r) => r.method === 'PUT' && /_state=.*&digest=sha256/.test(r.path)));
  dproxy.rules = [];
});

test('a streamed push whose bytes do not match the digest fails before commit', async () => {
  const good = Buffer.alloc(2 << 20, 1);
  const bad = Buffer.from(good);
  bad[12345] = 2;
  const digest = sha256(good);
  async function* body(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < bad.length; i += 256 << 10) yield bad.subarray(i, i + (256 << 10));
  }
  const r = { registry: dst.host, repository: 'mismatch/app' };
  await assert.rejects(pushBlob(c, r, digest, good.length, body()), ReadMismatchError);
  assert.equal(await blobExists(c, r, digest), false);
  await assert.rejects(pushBlob(c, r, digest, good.length, bad), DigestMismatchError);
});
