// Records workflow histories as replay fixtures (test/fixtures/histories). Run it only when a workflow change is
// meant to be incompatible and is guarded by patched()/deprecatePatch: old fixtures stay, new ones are added, and
// test/workflows/replay.test.ts proves every recorded history still replays on the current code.
//   node --import tsx scripts/record-histories.ts <label> [--sign]
import { scrubStacks } from '../src/testing/history-fixtures';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RegistryClient } from '../src/oci';
import { buildIndex, buildImage, pushImage } from '../src/dev/sample-images';
import { REPO_ROOT, eventually, startTestEnvironment, startTestWorker, testClient } from '../src/testing/harness';
import { startPromotion } from '../src/client/promote';
import { sendControl } from '../src/client/control';
import { progressQuery } from '../src/workflows';
import { writeKeyPair } from '../src/signing';
import { execFileSync } from 'node:child_process';

async function main(): Promise<void> {
  const label = process.argv[2] ?? 'v1';
  const out = join(REPO_ROOT, 'test', 'fixtures', 'histories');
  mkdirSync(out, { recursive: true });
  const env = await startTestEnvironment('record', { registries: ['staging', 'prod', 'mirror'] });
  const worker = await startTestWorker(env);
  const client = await testClient(env);
  try {
    const oci = new RegistryClient();
    const index = buildIndex({ seed: 'fixture-index' });
    const single = buildImage({ seed: 'fixture-single' });
    await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/app' }, index);
    await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/tool' }, single);
    // Signing exercises the sign/replicate/verify steps (patched) too; the key lives in the throwaway state dir.
    const keys = join(env.stateDir, 'keys');
    await writeKeyPair(keys, 'fixture-password');
    process.env.COSIGN_PASSWORD = 'fixture-password';
    const handle = await startPromotion(client, {
      name: `fixture-${label}`,
      manifestFiles: ['fixture.yaml'],
      source: { registry: `${env.registries.staging}/staging` },
      destinations: [{ name: 'prod', registry: `${env.registries.prod}/prod` }, { name: 'mirror', registry: `${env.registries.mirror}/mirror` }],
      phases: [
        { name: 'production', destinations: ['prod'], soakSeconds: 1, verify: true, approval: true },
        { name: 'mirrors', destinations: ['mirror'], soakSeconds: 0, verify: true, approval: false },
      ],
      items: [
        { image: 'app', digest: index.digest, tags: ['v1'] },
        { image: 'tool', digest: single.digest, tags: [] },
        { image: 'gone', digest: `sha256:${'0'.repeat(64)}`, tags: ['v0'] },
      ],
      concurrency: 2,
      ...(!process.argv.includes('--sign') ? {} : { signing: { key: `file://${join(keys, 'cosign.key')}`, attest: true, dockerReference: 'registry.example.io/fixture', home: { name: 'prod', registry: `${env.registries.prod}/prod` } } }),
    });
    await eventually('gate', async () => (await handle.query(progressQuery)).status === 'awaiting-approval');
    await sendControl(client, handle.workflowId, 'pause', { by: 'recorder' });
    await sendControl(client, handle.workflowId, 'approve', { by: 'recorder', reason: 'fixture' });
    await sendControl(client, handle.workflowId, 'resume', { by: 'recorder' });
    await handle.result();
    const ids = [handle.workflowId];
    for await (const wf of client.workflow.list({ query: `WorkflowType = 'imagePromotion'` })) ids.push(wf.workflowId);
    const indexFile = join(out, 'index.json');
    const recorded: Record<string, string> = existsSync(indexFile) ? (JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, string>) : {};
    for (const id of ids) {
      // The temporal CLI's JSON export: the same format a user attaches to a bug report.
      const history = execFileSync(env.temporalServer!.binary, ['workflow', 'show', '--address', env.temporal!.address, '--workflow-id', id, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const type = id === handle.workflowId ? 'promotionRun' : 'imagePromotion';
      const file = join(out, `${label}-${type}-${id.split('/').slice(2).join('-').replace(/[^A-Za-z0-9.-]+/g, '_')}.json`);
      // Failure stack traces name this machine's paths and play no part in replay: drop them.
      writeFileSync(file, JSON.stringify(scrubStacks(JSON.parse(history)), null, 2) + '\n');
      recorded[basename(file)] = id;
      console.log(`wrote ${file}`);
    }
    writeFileSync(indexFile, JSON.stringify(recorded, null, 2) + '\n');
  } finally {
    await client.connection.close();
    await worker.stop();
    await env.cleanup();
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
