// Preflight against real sockets on loopback: a registry asking for credentials is reachable, a closed port and a
// server that never answers are one line each (exit 3), and the probe goes through the OCI client (plain HTTP only
// because the hosts are loopback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { preflight } from '../../src/client/preflight';
import { CliError, EXIT } from '../../src/client/exit-codes';
import type { Spec } from '../../src/manifest/spec';
import { RegistryClient } from '../../src/oci';

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; host: string }> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function spec(source: string, ...destinations: string[]): Spec {
  return {
    name: 'preflight', files: ['promotion.yaml'], phases: [], images: [],
    source: { registry: `${source}/staging` },
    destinations: destinations.map((d, i) => ({ name: `dest-${i}`, registry: `${d}/prod` })),
  } as unknown as Spec;
}

test('preflight: a registry that answers 401 is reachable; every probe is a GET of /v2/', async () => {
  const paths: string[] = [];
  const { server, host } = await listen((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
  });
  const client = new RegistryClient();
  try {
    await preflight(spec(host, host), client);
    assert.ok(paths.includes('GET /v2/'), `probes: ${paths.join(', ')}`);
  } finally {
    client.close();
    server.close();
  }
});

test('preflight: a closed port and a silent server are each one line naming the registry, the manifest and the cause', async () => {
  const closed = await listen(() => undefined);
  const closedHost = closed.host;
  closed.server.close();
  await once(closed.server, 'close');
  const silent = await listen(() => undefined); // accepts, never answers
  const client = new RegistryClient();
  try {
    const e = await preflight(spec(closedHost, silent.host), client, 500).then(() => assert.fail('preflight passed'), (x: unknown) => x);
    assert.ok(e instanceof CliError);
    assert.equal(e.exitCode, EXIT.UNAVAILABLE);
    const lines = e.message.split('\n');
    assert.equal(lines.length, 2, e.message);
    assert.ok(lines.some((l) => l === `registry ${closedHost} (source.registry in promotion.yaml) is unreachable (ECONNREFUSED): check the address or the network`), e.message);
    assert.ok(lines.some((l) => l === `registry ${silent.host} (destination dest-0 in promotion.yaml) is unreachable (no answer in 0.5 s): check the address or the network`), e.message);
  } finally {
    client.close();
    silent.server.closeAllConnections();
    silent.server.close();
  }
});
