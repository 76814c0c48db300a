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

/** The Dockerfile as stages of [instruction, arguments], continuation lines joined and comments dropped. */
function dockerStages(): Array<Array<{ op: string; args: string }>> {
  const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const stages: Array<Array<{ op: string; args: string }>> = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const [op, ...rest] = line.split(/\s+/);
    if (op!.toUpperCase() === 'FROM') stages.push([]);
    stages.at(-1)!.push({ op: op!.toUpperCase(), args: rest.join(' ') });
  }
  return stages;
}
const stages = dockerStages();
const finalStage = stages.at(-1)!;
const pkg = z.object({ files: z.array(z.string()), bin: z.object({ promoflow: z.string() }) }).parse(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')));

test('Dockerfile: the image is the package (npm pack output), not a checkout', () => {
  assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
  const build = stages.slice(0, -1).flat();
  assert.ok(build.some((i) => i.op === 'RUN' && /\bnpm pack\b/.test(i.args)), 'the build stage runs npm pack');
  // What the package is built from is in the build context.
  for (const i of build.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
    for (const src of i.args.split(/\s+/).slice(0, -1)) assert.ok(existsSync(join(REPO_ROOT, src)), `COPY ${src}: exists in the repository`);
  }
  // The runtime stage copies the unpacked tarball and the lock file, nothing from the checkout.
  const copies = finalStage.filter((i) => i.op === 'COPY');
  assert.ok(copies.some((i) => /^--from=\S+ \S*\/package\/ \.\/$/.test(i.args)), 'the unpacked package is the application');
  for (const i of copies.filter((x) => !x.args.startsWith('--from'))) assert.equal(i.args, 'package-lock.json ./', `only the lock file comes from the checkout (${i.args})`);
  assert.ok(finalStage.some((i) => i.op === 'RUN' && /npm ci --omit=dev/.test(i.args)), 'production dependencies only, as locked');
});

test('Dockerfile: runs the packaged executable as a non-root user; compose runs its worker command', () => {
  const user = finalStage.filter((i) => i.op === 'USER').at(-1)?.args;
  assert.ok(user && !/^(root|0)(:|$)/.test(user), `runs as ${user ?? 'root'}`);
  const entry = z.array(z.string()).parse(JSON.parse(finalStage.find((i) => i.op === 'ENTRYPOINT')!.args));
  const script = entry.find((a) => a.endsWith(pkg.bin.promoflow));
  assert.ok(script, `the entrypoint runs ${pkg.bin.promoflow}`);
  assert.ok(pkg.files.includes(pkg.bin.promoflow), 'and the package ships it');
  assert.ok(pkg.files.some((f) => f.startsWith('dist/')) && !pkg.files.some((f) => f.startsWith('src')), 'the package ships compiled JavaScript, not sources');
  assert.deepEqual(JSON.parse(finalStage.find((i) => i.op === 'CMD')!.args), s['promoflow-worker']!.command);
  assert.equal(s['promoflow-worker']!.build!.dockerfile, 'Dockerfile');
});

test('.dockerignore keeps dependencies and local builds out of the build context', () => {
  const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
  for (const p of ['node_modules', 'dist', '.promoflow']) assert.ok(ignored.includes(p), `${p} is ignored`);
});

test('compose: workers share the state store on a volume (sharded runs pass references into it)', () => {
  const w = s['promoflow-worker']!;
  const store = w.environment!.PROMOFLOW_STATE_STORE!;
  assert.ok(store, 'PROMOFLOW_STATE_STORE is set');
  const mount = w.volumes?.find((v) => store.startsWith(v.split(':')[1]!));
  assert.ok(mount, `a volume holds ${store}`);
  assert.ok(mount.split(':')[0]! in (c.volumes ?? {}), 'a named volume');
});
