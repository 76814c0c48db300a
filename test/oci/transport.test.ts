// In-process HTTP servers standing in for registries, to prove transport behaviour at the wire: where
// Authorization goes, how challenges, scopes and token lifetimes drive token requests, TLS verification, pagination.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { blobExists, DigestMismatchError, fetchBlob, getManifest, headManifest, listReferrers, listTags, pushReferrer, ManifestTooLargeError, ManifestUnknownError, mergeScopes, OciError, parseChallenge, parseRetryAfter, RegistryClient, sha256, staticCredentials, UnauthorizedError } from '../../src/oci';
import { AuthTransport, CREDENTIAL_TTL_MS } from '../../src/oci/auth';
import { HttpTransport, readBody } from '../../src/oci/transport';
import { selfSignedCert } from '../../src/testing/token-server';

const servers: Server[] = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void, host = '127.0.0.1'): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, host, r));
  return `${host}:${(s.address() as AddressInfo).port}`;
}

test('parsers: WWW-Authenticate, scopes, Retry-After', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push",error="insufficient_scope"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a/b:pull,push', error: 'insufficient_scope' },
  });
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
  assert.deepEqual(mergeScopes(['repository:a:push,pull'], ['repository:a:pull', 'repository:b:pull'], ['repository:a:pull,push repository:c:push']), [
    'repository:a:pull,push',
    'repository:b:pull',
    'repository:c:push',
  ]);
  assert.equal(parseRetryAfter('7'), 7000);
  const now = Date.parse('2026-11-26T12:00:00Z');
  assert.equal(parseRetryAfter('Thu, 26 Nov 2026 12:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('soon'), undefined);
});

test('Authorization is never sent to the host a blob download redirects to', async () => {
  const seenAtStorage: Array<string | undefined> = [];
  const blob = Buffer.from('redirected blob');
  const digest = sha256(blob);
  const storage = await serve((req, res) => {
    seenAtStorage.push(req.headers.authorization);
    res.end(blob);
  }, '127.0.0.2');
  const registry = await serve((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' });
      return res.end();
    }
    res.writeHead(307, { location: `http://${storage}/bucket/${digest}?sig=1` });
    res.end();
  });
  const c = new RegistryClient({ credentials: staticCredentials({ [registry]: { username: 'u', password: 'p' } }) });
  const parts: Uint8Array[] = [];
  for await (const p of await fetchBlob(c, { registry, repository: 'a' }, digest)) parts.push(p);
  assert.deepEqual(Buffer.concat(parts), blob);
  assert.deepEqual(seenAtStorage, [undefined]);
  c.close();
});

test('Bearer: insufficient_scope triggers a token with the merged scope; tokens are cached until they expire', async () => {
  const tokenRequests: string[][] = [];
  let serial = 0;
  const auth = await serve((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const scopes = u.searchParams.getAll('scope');
    tokenRequests.push(scopes);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ token: `t${++serial}:${scopes.join(' ')}`, expires_in: 120 }));
  });
  const registry = await serve((req, res) => {
    const a = req.headers.authorization ?? '';
    const challenge = (extra = ''): void => {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${auth}/token",service="svc"${extra}` });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED' }] }));
    };
    if (!a.startsWith('Bearer ')) return challenge(',scope="repository:a:pull"');
    // Pretend the registry wants push as well for this path (e.g. a policy quirk).
    if (req.url!.includes('/tags/') && !a.includes('repository:a:pull,push')) return challenge(',scope="repository:a:push",error="insufficient_scope"');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name: 'a', tags: ['x'] }));
  });
  let now = 1_000_000;
  const inner = new HttpTransport();
  const t = new AuthTransport(inner, async () => undefined, () => true, () => now);
  const get = async (): Promise<number> => {
    const res = await t.roundTrip({ method: 'GET', url: new URL(`http://${registry}/v2/a/tags/list`), registry, scopes: ['repository:a:pull'] });
    await readBody(res);
    return res.status;
  };
  assert.equal(await get(), 200);
  assert.deepEqual(tokenRequests.at(-1), ['repository:a:pull,push']);
  const afterFirst = tokenRequests.length;
  assert.equal(await get(), 200);
  assert.equal(tokenRequests.length, afterFirst, 'cached token reused');
  now += 200_000;
  assert.equal(await get(), 200);
  assert.ok(tokenRequests.length > afterFirst, 'expired token refreshed');
  inner.close();
});

test('pagination follows relative Link headers; a Link to another host is refused', async () => {
  const all = ['a', 'b', 'c', 'd', 'e'];
  let evil = false;
  const registry = await serve((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const last = u.searchParams.get('last');
    const start = last ? all.indexOf(last) + 1 : 0;
    const page = all.slice(start, start + 2);
    if (start + 2 < all.length) res.setHeader('link', evil ? '<http://127.0.0.9:1/v2/r/tags/list?last=b>; rel="next"' : `</v2/r/tags/list?n=2&last=${page.at(-1)}>; rel="next"`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name: 'r', tags: page }));
  });
  const c = new RegistryClient();
  assert.deepEqual(await listTags(c, { registry, repository: 'r' }, { pageSize: 2 }), all);
  evil = true;
  await assert.rejects(listTags(c, { registry, repository: 'r' }, { pageSize: 2 }), /points to another origin/);
  c.close();
});

test('TLS is verified: a self-signed HTTPS registry is refused (no fallback to plain HTTP), non-retryable', async () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = selfSignedCert(key, 'localhost');
  const cert = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
  const s = createHttpsServer({ key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }), cert }, (_req, res) => res.end('{}'));
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const registry = `127.0.0.1:${(s.address() as AddressInfo).port}`;
  const c = new RegistryClient();
  await assert.rejects(listTags(c, { registry, repository: 'r' }), (e: unknown) => e instanceof OciError && !e.retryable && /TLS/.test(e.message));
  assert.equal((await c.base('registry.example.com')).protocol, 'https:');
  assert.equal((await c.base(registry)).protocol, 'https:');
  c.close();
});

test('401 without credentials and a failing credential source are UnauthorizedError', async () => {
  const registry = await serve((_req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' });
    res.end();
  });
  const c = new RegistryClient({ credentials: async () => Promise.reject(new Error('helper exploded')) });
  await assert.rejects(listTags(c, { registry, repository: 'r' }), UnauthorizedError);
  c.close();
});

test('per-registry concurrency and request-rate limits hold', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const registry = await serve((_req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      res.writeHead(404);
      res.end();
    }, 30);
  });
  const c = new RegistryClient({ limits: (r) => (r === registry ? { concurrency: 2 } : undefined) });
  const d = sha256(Buffer.from('x'));
  await Promise.all(Array.from({ length: 12 }, () => blobExists(c, { registry, repository: 'r' }, d)));
  assert.ok(maxInFlight <= 2, `max in flight ${maxInFlight}`);
  c.close();
  const rated = new RegistryClient({ limits: () => ({ requestsPerSecond: 10 }) });
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 20 }, () => blobExists(rated, { registry, repository: 'r' }, d)));
  assert.ok(Date.now() - t0 >= 900, `20 requests at 10/s (burst 10) took ${Date.now() - t0} ms`);
  rated.close();
});

test('manifests: size cap, digest verification of fetched bytes, HEAD 404 is undefined', async () => {
  const good = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
  const registry = await serve((req, res) => {
    const p = req.url!;
    if (p.endsWith('/manifests/huge')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      res.end(Buffer.alloc(5 << 20, 0x20));
    } else if (p.includes('/manifests/sha256:')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
      res.end(good);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
    }
  });
  const c = new RegistryClient();
  const r = { registry, repository: 'r' };
  await assert.rejects(getManifest(c, r, 'huge'), ManifestTooLargeError);
  assert.equal((await getManifest(c, r, sha256(good))).digest, sha256(good));
  await assert.rejects(getManifest(c, r, sha256(Buffer.from('other'))), DigestMismatchError);
  await assert.rejects(getManifest(c, r, 'missing'), (e: unknown) => e instanceof ManifestUnknownError && e.code === 'MANIFEST_UNKNOWN' && e.status === 404);
  assert.equal(await headManifest(c, r, 'missing'), undefined);
  c.close();
});

test('referrers API, when the registry has it, is used as is (no fallback tag written)', async () => {
  const subject = sha256(Buffer.from('subject'));
  const listed = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(Buffer.from('r1')), size: 2, artifactType: 'application/vnd.example.sig' };
  const writes: string[] = [];
  const registry = await serve((req, res) => {
    if (req.url!.includes('/referrers/')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
      return res.end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [listed] }));
    }
    if (req.method === 'PUT') {
      writes.push(req.url!);
      req.resume();
      res.writeHead(201, { 'oci-subject': subject });
      return res.end();
    }
    res.writeHead(404);
    res.end();
  });
  const c = new RegistryClient();
  const r = { registry, repository: 'r' };
  assert.deepEqual(await listReferrers(c, r, subject), [listed]);
  assert.deepEqual(await listReferrers(c, r, subject, { artifactType: 'application/vnd.example.other' }), []);
  const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.example.sig', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(Buffer.from('{}')), size: 2 }, layers: [], subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject, size: 7 } }));
  await pushReferrer(c, r, { bytes: m, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
  assert.deepEqual(writes, [`/v2/r/manifests/${sha256(m)}`]);
  c.close();
});

test('credentials are read again after a 401 (rotation) and after CREDENTIAL_TTL_MS, never cached for the process lifetime', async () => {
  let accepted = 'p1';
  const registry = await serve((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from(`u:${accepted}`).toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' });
      return res.end();
    }
    res.end('ok');
  });
  let secret = 'p1';
  let reads = 0;
  let now = Date.parse('2026-12-02T12:00:00Z');
  const http = new HttpTransport();
  const auth = new AuthTransport(http, async () => (reads++, { username: 'u', password: secret }), () => true, () => now);
  const get = async () => {
    const res = await auth.roundTrip({ method: 'GET', url: new URL(`http://${registry}/v2/a/manifests/x`), registry });
    await readBody(res, 1024);
    return res.status;
  };
  assert.equal(await get(), 200);
  assert.equal(await get(), 200);
  assert.equal(reads, 1, 'one read while it works');
  // The registry's password rotates and so does the secret: the refused credential is read again, once.
  accepted = 'p2';
  secret = 'p2';
  assert.equal(await get(), 200);
  assert.equal(reads, 2);
  // A wrong credential is refused after one re-read, not retried forever.
  secret = 'wrong';
  accepted = 'p3';
  assert.equal(await get(), 401);
  assert.equal(reads, 3);
  // Expiry: past the TTL the source is read again even though nothing was refused.
  secret = 'p3';
  assert.equal(await get(), 200);
  const before = reads;
  now += CREDENTIAL_TTL_MS + 1;
  assert.equal(await get(), 200);
  assert.equal(reads, before + 1);
  http.close();
});

test('a tag list garbled or cut off in transit is read again; the same invalid list twice is the verdict', async () => {
  let n = 0;
  const host = await serve((req, res) => {
    if (req.url === '/v2/') return void res.writeHead(200).end();
    n++;
    if (req.url?.startsWith('/v2/flaky/')) {
      if (n === 1) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"flaky","tags":["v1"');
      // A flipped byte inside a tag name: still JSON, but not a tag.
      if (n === 3) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"flaky","tags":["v1","\u00f6v2"]}');
      if (n === 2) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' }).write('{"name":');
        return void res.destroy();
      }
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"flaky","tags":["v1","v2"]}');
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"bad","tags":[');
  });
  const c = new RegistryClient({}, { retry: { baseDelayMs: 1, maxDelayMs: 2 } });
  try {
    assert.deepEqual(await listTags(c, { registry: host, repository: 'flaky' }), ['v1', 'v2']);
    assert.equal(n, 4);
    await assert.rejects(listTags(c, { registry: host, repository: 'bad' }), (e: unknown) => e instanceof DigestMismatchError && /invalid tag list/.test(e.message));
  } finally {
    c.close();
  }
});
