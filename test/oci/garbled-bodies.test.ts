// JSON answers garbled in transit are read again before anything is concluded, like blobs and manifests: the
// referrers index, catalog pages and token responses; a HEAD naming another digest is checked against the bytes.
// The same invalid body twice is the registry's answer (a verdict); a body that is fine on the second read is used.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DigestMismatchError, headManifest, listReferrers, listRepositories, listTags, RegistryClient, sha256, staticCredentials } from '../../src/oci';

const servers: Server[] = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
}

/** Serves `good`, but the first `garbled` answers carry it with one byte flipped (a fault in transit). */
function flaky(good: string, garbled: number): { body: () => string; reads: () => number } {
  let n = 0;
  return {
    body: () => {
      const b = Buffer.from(good);
      if (n++ < garbled) b[1] = b[1]! ^ 0x20;
      return b.toString('latin1');
    },
    reads: () => n,
  };
}

const INDEX = 'application/vnd.oci.image.index.v1+json';
const subject = sha256(Buffer.from('subject'));
const listed = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(Buffer.from('r1')), size: 2, artifactType: 'application/vnd.example.sig' };

async function referrersServer(garbled: number): Promise<{ registry: string; reads: () => number }> {
  const f = flaky(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [listed] }), garbled);
  const registry = await serve((req, res) => {
    if (!req.url!.includes('/referrers/')) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': INDEX }).end(f.body(), 'latin1');
  });
  return { registry, reads: f.reads };
}

test('a referrers index garbled once is read again and used', async () => {
  const { registry, reads } = await referrersServer(1);
  const c = new RegistryClient();
  assert.deepEqual(await listReferrers(c, { registry, repository: 'r' }, subject), [listed]);
  assert.equal(reads(), 2);
  c.close();
});

test('a referrers index garbled the same way twice is the registry’s answer, not a transit fault', async () => {
  const { registry, reads } = await referrersServer(99);
  const c = new RegistryClient();
  await assert.rejects(listReferrers(c, { registry, repository: 'r' }, subject), (e: unknown) => e instanceof DigestMismatchError && /invalid referrers index.*same again on a re-read/.test(e.message));
  assert.equal(reads(), 2);
  c.close();
});

test('a catalog page garbled once is read again; pagination goes on from the right page', async () => {
  const pages = [flaky(JSON.stringify({ repositories: ['a', 'b'] }), 1), flaky(JSON.stringify({ repositories: ['c'] }), 1)];
  const registry = await serve((req, res) => {
    const second = req.url!.includes('last=b');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!second) headers['link'] = '</v2/_catalog?n=1000&last=b>; rel="next"';
    res.writeHead(200, headers).end(pages[second ? 1 : 0]!.body(), 'latin1');
  });
  const c = new RegistryClient();
  assert.deepEqual(await listRepositories(c, registry), ['a', 'b', 'c']);
  assert.deepEqual(pages.map((p) => p.reads()), [2, 2]);
  c.close();
});

test('a token response garbled once is requested again; the request it authorizes goes through', async () => {
  const token = flaky(JSON.stringify({ token: 'tok', expires_in: 300 }), 1);
  const auth = await serve((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(token.body(), 'latin1'));
  const registry = await serve((req, res) => {
    if (req.headers.authorization !== 'Bearer tok') {
      return void res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${auth}/token",service="reg"` }).end();
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'r', tags: ['v1'] }));
  });
  const c = new RegistryClient({ credentials: staticCredentials({ [registry]: { username: 'u', password: 'p' } }) });
  assert.deepEqual(await listTags(c, { registry, repository: 'r' }), ['v1']);
  assert.equal(token.reads(), 2);
  c.close();
});

test('a HEAD that names another digest is checked against the bytes: the right bytes win, wrong bytes twice are a verdict', async () => {
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(Buffer.from('{}')), size: 2 }, layers: [] }));
  const digest = sha256(manifest);
  let stored = manifest;
  let gets = 0;
  const registry = await serve((req, res) => {
    const headers = { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': String(stored.length) };
    if (req.method === 'HEAD') return void res.writeHead(200, { ...headers, 'docker-content-digest': sha256(Buffer.from('another')) }).end();
    gets++;
    res.writeHead(200, { ...headers, 'docker-content-digest': sha256(stored) }).end(stored);
  });
  const c = new RegistryClient();
  const r = { registry, repository: 'r' };
  assert.deepEqual(await headManifest(c, r, digest), { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: manifest.length });
  assert.equal(gets, 1, 'one GET settled what the header claimed');
  stored = Buffer.from(manifest.toString().replace('"schemaVersion":2', '"schemaVersion":3'));
  gets = 0;
  await assert.rejects(headManifest(c, r, digest), (e: unknown) => e instanceof DigestMismatchError && /same again on a re-read/.test(e.message));
  assert.equal(gets, 2);
  c.close();
});
