// Only the work that exists: a tags/list carrying the gcr.io / Artifact Registry digest map (`manifest`) answers
// for every tag and digest it names, so reading a repository is one request (no HEAD per tag); a listing without
// the map still resolves each declared tag by HEAD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryClient } from '../../src/oci';
import { readRepoState } from '../../src/inventory/registry';
import { startLoopbackServer } from '../../src/testing/loopback-server';

const D = `sha256:${'a'.repeat(64)}`;
const SIG = `sha256-${'a'.repeat(64)}.sig`;

async function fakeRegistry(withMap: boolean) {
  const requests: string[] = [];
  const server = await startLoopbackServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    if (req.url?.startsWith('/v2/k8s/app/tags/list')) {
      const body = { name: 'k8s/app', tags: ['v1', SIG], ...(withMap ? { manifest: { [D]: { tag: ['v1'], mediaType: 'application/vnd.oci.image.manifest.v1+json' }, [`sha256:${'b'.repeat(64)}`]: { tag: [SIG] } } } : {}) };
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }
    if (req.method === 'HEAD' && req.url === '/v2/k8s/app/manifests/v1') {
      return void res.writeHead(200, { 'docker-content-digest': D, 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': '2' }).end();
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
  });
  return { server, requests };
}

for (const withMap of [true, false]) {
  test(`inventory: a tags/list ${withMap ? 'with' : 'without'} the digest map → ${withMap ? 'no HEAD' : 'one HEAD per declared tag'}`, async () => {
    const { server, requests } = await fakeRegistry(withMap);
    const client = new RegistryClient();
    try {
      const s = await readRepoState(client, { repo: { registry: server.host, repository: 'k8s/app' }, digests: new Set([D]), tags: new Set(['v1']) });
      assert.equal(s.tags.get('v1'), D);
      assert.ok(s.digests.has(D));
      assert.ok(s.signatures?.has(D));
      const repoRequests = requests.filter((r) => r.includes('/k8s/app/'));
      assert.deepEqual(repoRequests.map((r) => r.split(' ')[0]), withMap ? ['GET'] : ['GET', 'HEAD']);
    } finally {
      client.close();
      await server.stop();
    }
  });
}
