// docker-compose.yml cannot run here (no Docker engine): this checks that it parses and wires the deployment the
// README promises: Temporal on PostgreSQL, the Web UI, search attributes, a worker built from this repo, registries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { REPO_ROOT } from '../src/testing/harness';
import { SEARCH_ATTRIBUTES } from '../src/contract';

const service = z.object({
  image: z.string().optional(),
  build: z.object({ context: z.string(), dockerfile: z.string() }).optional(),
  ports: z.array(z.string()).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']) })).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  volumes: z.array(z.string()).optional(),
});
const compose = z.object({ services: z.record(z.string(), service), volumes: z.record(z.string(), z.null()).optional() });
const file = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { uniqueKeys: true });
const c = compose.parse(file);
const s = c.services;

test('compose: Temporal runs on PostgreSQL and waits for it to be healthy', () => {
  assert.match(s.postgresql!.image!, /^postgres:\d+/);
  assert.match(s.temporal!.image!, /^temporalio\/auto-setup:\d/);
  assert.equal(s.temporal!.environment!.DB, 'postgres12');
  assert.equal(s.temporal!.environment!.POSTGRES_SEEDS, 'postgresql');
  assert.equal(s.temporal!.depends_on!.postgresql!.condition, 'service_healthy');
  assert.deepEqual(s.temporal!.ports, ['127.0.0.1:7233:7233']);
});

test('compose: the Web UI points at the server and is published on loopback', () => {
  assert.match(s['temporal-ui']!.image!, /^temporalio\/ui:\d/);
  assert.equal(s['temporal-ui']!.environment!.TEMPORAL_ADDRESS, 'temporal:7233');
  assert.deepEqual(s['temporal-ui']!.ports, ['127.0.0.1:8080:8080']);
});

test('compose: every promoflow search attribute is registered', () => {
  const cmd = ([] as string[]).concat(s['temporal-setup']!.command ?? []).join(' ');
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) assert.ok(cmd.includes(`${name}=${type}`), `${name}=${type} registered`);
});

test('compose: the worker is built from this repository and starts after set-up', () => {
  const w = s['promoflow-worker']!;
  assert.equal(w.build?.context, '.');
  assert.ok(existsSync(join(REPO_ROOT, w.build!.dockerfile)), 'the Dockerfile exists');
  assert.deepEqual(w.command, ['worker']);
  assert.equal(w.environment!.TEMPORAL_ADDRESS, 'temporal:7233');
  assert.equal(w.depends_on!['temporal-setup']!.condition, 'service_completed_successfully');
});

test('compose: example registries with deletes enabled on distinct loopback ports', () => {
  const regs = Object.entries(s).filter(([n]) => n.startsWith('registry-'));
  assert.ok(regs.length >= 3);
  const ports = new Set<string>();
  for (const [n, r] of regs) {
    assert.match(r.image!, /^registry:2\./, n);
    assert.equal(r.environment!.REGISTRY_STORAGE_DELETE_ENABLED, 'true', n);
    for (const p of r.ports!) {
      assert.match(p, /^127\.0\.0\.1:\d+:5000$/, n);
      assert.ok(!ports.has(p), `${p} used once`);
      ports.add(p);
    }
  }
});

test('compose: every dependency names a defined service', () => {
  for (const [n, svc] of Object.entries(s)) for (const dep of Object.keys(svc.depends_on ?? {})) assert.ok(s[dep], `${n} depends on undefined ${dep}`);
});

test('compose: workers share the state store on a volume (sharded runs pass references into it)', () => {
  const w = s['promoflow-worker']!;
  const store = w.environment!.PROMOFLOW_STATE_STORE!;
  assert.ok(store, 'PROMOFLOW_STATE_STORE is set');
  const mount = w.volumes?.find((v) => store.startsWith(v.split(':')[1]!));
  assert.ok(mount, `a volume holds ${store}`);
  assert.ok(mount.split(':')[0]! in (c.volumes ?? {}), 'a named volume');
});
