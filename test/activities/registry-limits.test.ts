// Per-registry limits across concurrent activities of one worker: the manifest's `limits` travel in the run input,
// activities register them with the worker's shared dependencies, and a loopback registry counts what arrives:
// never more requests in flight, nor faster, than the limit, however many activities run at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActivities, createActivityDeps } from '../../src/activities';
import { stricter, RegistryLimitStore } from '../../src/activities/registry-limits';
import { runAsActivity } from '../../src/testing/activity-context';
import { runInputFromSpec } from '../../src/client/run-input';
import { loadSpec } from '../../src/manifest/load';
import type { EndpointRef } from '../../src/contract';

const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 }, layers: [] }));
const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;

/** A registry on loopback that answers manifest requests after a delay and records how many were in flight. */
let server: Server;
let host: string;
let inFlight = 0;
let maxInFlight = 0;
let starts: number[] = [];

before(async () => {
  server = createServer((req, res) => {
    if (!req.url?.includes('/manifests/')) {
      res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
      return;
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    starts.push(Date.now());
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': digest, 'content-length': String(manifest.length) });
      res.end(req.method === 'HEAD' ? undefined : manifest);
    }, 30);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  host = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

after(() => new Promise<void>((r) => server.close(() => r())));

/** `n` concurrent checkSource activities (a HEAD and a GET each) over one worker's dependencies. */
async function concurrentChecks(n: number, source: EndpointRef): Promise<void> {
  inFlight = 0;
  maxInFlight = 0;
  starts = [];
  const activities = createActivities(createActivityDeps());
  const infos = await Promise.all(Array.from({ length: n }, (_, i) => runAsActivity(() => activities.checkSource({ image: `app${i}`, digest, source }), { activityType: 'checkSource' })));
  assert.equal(infos.length, n);
}

test('a concurrency limit holds across concurrent activities of one worker', async () => {
  await concurrentChecks(16, { registry: `${host}/staging`, limits: { concurrency: 2 } });
  assert.equal(starts.length, 32);
  assert.equal(maxInFlight, 2, 'at most 2 requests in flight, and the limit is used');
  // Control: the same load without a limit does reach the registry in parallel.
  await concurrentChecks(16, { registry: `${host}/staging` });
  assert.ok(maxInFlight > 2, `without limits ${maxInFlight} requests were in flight`);
});

test('a requests-per-second limit holds across concurrent activities of one worker', async () => {
  // The bucket's arithmetic is proven on a virtual clock (test/oci/limits.test.ts); this proves the wiring: a manifest's
  // rate reaches the worker's shared client. 30 requests at 10/s with a burst of 10 need 2 s of issuing; arrivals can
  // only be delayed, so a span of even half that shows the limit applied (unlimited, they arrive within milliseconds).
  await concurrentChecks(15, { registry: `${host}/staging`, limits: { requestsPerSecond: 10 } });
  assert.equal(starts.length, 30);
  const span = starts[starts.length - 1]! - starts[0]!;
  assert.ok(span >= 1000, `30 requests at 10/s arrived within ${span} ms`);
});

test('two endpoints on one registry host: the stricter limit of each kind applies', () => {
  assert.deepEqual(stricter({ concurrency: 4 }, { concurrency: 8, requestsPerSecond: 5 }), { concurrency: 4, requestsPerSecond: 5 });
  const store = new RegistryLimitStore();
  store.register({ registry: 'gcr.io/a', limits: { concurrency: 10, requestsPerSecond: 50 } });
  store.register({ registry: 'gcr.io/b', limits: { concurrency: 3 } });
  store.register({ registry: 'gcr.io/c' });
  assert.deepEqual(store.lookup('gcr.io'), { concurrency: 3, requestsPerSecond: 50 });
  assert.equal(store.lookup('docker.io'), undefined);
});

test("the manifest's limits travel in the run input", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'promoflow-limits-'));
  try {
    const file = join(dir, 'promotion.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: promoflow.dev/v1alpha1',
        'kind: Promotion',
        'metadata: {name: limited}',
        'source: {registry: "staging.example/images", limits: {concurrency: 4}}',
        'destinations:',
        '  - {name: prod, registry: "prod.example/images", limits: {concurrency: 8, requestsPerSecond: 50}}',
        '  - {name: eu, registry: "eu.example/images"}',
        'phases:',
        '  - {name: all, destinations: [prod, eu]}',
        'images:',
        `  - {name: app, dmap: {"${digest}": ["v1"]}}`,
      ].join('\n'),
    );
    const input = runInputFromSpec((await loadSpec(file)).spec);
    assert.deepEqual(input.source.limits, { concurrency: 4 });
    assert.deepEqual(input.destinations.map((d) => d.limits), [{ concurrency: 8, requestsPerSecond: 50 }, undefined]);
    assert.ok(!('limits' in input.destinations[1]!), 'no limits key when none is declared (the workflow ID stays as before)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
