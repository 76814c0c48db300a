// One policy on every path that promotes (issue 12, finding 1), on a real Temporal dev server, a real worker and real
// registries: a manifest with a source policy (the builder's key) and a signing key; an unsigned image in staging.
// `promote` refuses it (SourceUnsigned), and so do `reconcile --repair` and a scheduled repair: the unsigned digest
// never reaches production, and the repair reports why.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { headManifest, RegistryClient } from '../../src/oci';
import { writeKeyPair } from '../../src/signing';
import { buildImage, pushImage } from '../../src/dev/sample-images';
import { eventually, runCli, startTestEnvironment, startTestWorker, testClient } from '../../src/testing/harness';
import { EXIT } from '../../src/client/exit-codes';
import type { ReconcileRunResult, RepairRecord, ShardedRunResult } from '../../src/contract';

const PASSWORD = 'repair policy password';
let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let worker: { stop(): Promise<void> };
let client: Client;
let file: string;
const oci = new RegistryClient();
const unsigned = buildImage({ seed: 'repair-policy-unsigned' });
const temporal = () => ['--temporal-address', env.temporal!.address];
const atProd = async () => (await headManifest(oci, { registry: env.registries.prod!, repository: 'prod/app' }, unsigned.digest))?.digest;

before(async () => {
  env = await startTestEnvironment('repair-policy', { registries: ['staging', 'prod'] });
  const keys = join(env.stateDir, 'keys');
  await writeKeyPair(keys, PASSWORD);
  await writeKeyPair(join(keys, 'builder'), PASSWORD);
  process.env.COSIGN_PASSWORD = PASSWORD; // read by the in-process worker, as a real worker reads its environment
  worker = await startTestWorker(env);
  client = await testClient(env);
  await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/app' }, unsigned, ['v1']);
  file = join(env.stateDir, 'policy.yaml');
  writeFileSync(
    file,
    `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: policy}
source: {registry: "${env.registries.staging}/staging"}
destinations:
  - {name: prod, registry: "${env.registries.prod}/prod", canonical: true}
sourcePolicy: {signedBy: {key: "file://${join(keys, 'builder', 'cosign.pub')}"}}
signing: {key: "file://${join(keys, 'cosign.key')}", attest: false}
images:
  - name: app
    dmap: {"${unsigned.digest}": ["v1"]}
`,
  );
});

after(async () => {
  delete process.env.COSIGN_PASSWORD;
  await client?.connection.close();
  await worker?.stop();
  await env?.cleanup();
  oci.close();
});

describe('the source policy holds on every path that promotes', () => {
  it('promote refuses the unsigned source', async () => {
    const r = await runCli(['promote', '-f', file, '--confirm', '--json', ...temporal()]);
    assert.equal(r.code, EXIT.FAILED, r.stdout + r.stderr);
    // promote runs the sharded workflow: its result carries counts and the (bounded) failure sample.
    const { result } = JSON.parse(r.stdout) as { result: ShardedRunResult };
    assert.deepEqual(result.failures.map((f) => `${f.destination} ${f.outcome} ${f.errorType}`), ['prod failed SourceUnsigned']);
    assert.equal(await atProd(), undefined);
  });

  it('reconcile --repair refuses it too: the missing image stays missing, the repair says why', async () => {
    const r = await runCli(['reconcile', '-f', file, '--repair', '--json', ...temporal()]);
    assert.equal(r.code, EXIT.FAILED, r.stdout + r.stderr);
    // JSON lines: the result, then every finding and every repair record.
    const repairs = r.stdout.split('\n').filter((l) => l.startsWith('{"repair"')).map((l) => (JSON.parse(l) as { repair: RepairRecord }).repair);
    assert.deepEqual(repairs.map((x) => `${x.kind} ${x.destination} ${x.status}`), ['missing-image prod failed']);
    assert.match(repairs[0]!.error ?? '', /SourceUnsigned/);
    assert.equal(await atProd(), undefined, 'the repair did not copy an unsigned digest to production');
  });

  it('a scheduled repair refuses it too', async () => {
    const id = 'policy-repair';
    const created = await runCli(['schedule', 'create', id, '-f', file, '--every', '1h', '--repair', ...temporal()]);
    assert.equal(created.code, EXIT.OK, created.stdout + created.stderr);
    try {
      const t = await runCli(['schedule', 'trigger', id, ...temporal()]);
      assert.equal(t.code, EXIT.OK, t.stdout + t.stderr);
      const started = await eventually('the scheduled reconcile run', async () => {
        for await (const w of client.workflow.list({ query: `TemporalScheduledById = '${id}'` })) return w;
        return undefined;
      });
      const result = (await client.workflow.getHandle(started.workflowId, started.runId).result()) as ReconcileRunResult;
      assert.deepEqual([result.repair?.repaired, result.repair?.failed], [0, 1]);
      assert.deepEqual(result.repair?.failures.map((f) => `${f.destination} ${f.outcome} ${f.errorType}`), ['prod failed SourceUnsigned']);
      assert.equal(await atProd(), undefined);
    } finally {
      await runCli(['schedule', 'delete', id, ...temporal()]);
    }
  });
});
