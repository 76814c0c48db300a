// Reconciliation on a real Temporal dev server and real registries: after a signed promotion to production and
// three mirrors, drift is made by hand (a tag lost on mirror-a, a signature deleted on mirror-b, a tag pushed over
// on mirror-c); `promoflow reconcile` reports exactly those three; `--repair` repairs the first two (checked with
// skopeo and the real cosign) and reports the moved tag without resetting it. A schedule created through the CLI
// (idempotently) fires and its run is listed by the server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { RegistryClient, deleteManifest, getManifest, headManifest, putManifest } from '../../src/oci';
import { writeKeyPair } from '../../src/signing';
import { signatureTag } from '../../src/model';
import { buildImage, pushImage } from '../../src/dev/sample-images';
import { eventually, runCli, startTestEnvironment, startTestWorker, testClient } from '../../src/testing/harness';
import { findCosign, runCosign } from '../../src/dev/cosign';
import { loadSpec } from '../../src/manifest/load';
import { runInputFromSpec } from '../../src/client/run-input';
import { startPromotion } from '../../src/client/promote';
import { CliError, EXIT } from '../../src/client/exit-codes';
import { main } from '../../src/client/cli';
import { reconcileRunInputFromSpec, startReconcileRun } from '../../src/client/reconcile';
import { stateStoreFor } from '../../src/client/state-store';
import { DEFAULT_STATE_DIR } from '../../src/client/state-dir';
import type { ReconcileRunResult, RepairRecord } from '../../src/contract';
import type { DriftItem } from '../../src/plan';

const MIRRORS = ['mirror-a', 'mirror-b', 'mirror-c'];
const PASSWORD = 'reconcile test password';
let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let worker: { stop(): Promise<void> };
let client: Client;
let file: string;
let keyDir: string;
const oci = new RegistryClient();
const image = buildImage({ seed: 'reconcile-app' });
const intruder = buildImage({ seed: 'reconcile-pushed-by-hand' });
const repo = (d: string) => ({ registry: env.registries[d]!, repository: 'mirror/app' });
const temporal = () => ['--temporal-address', env.temporal!.address];

/** `promoflow <argv>` in this process (as cli.test.ts does): the same parser and commands, without a node start-up. */
async function cliIn(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await main(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    return { code: e.exitCode, stdout: out.join('\n'), stderr: [...err, e.message].join('\n') };
  }
}

/** `reconcile --json` output: the result line, then one line per finding and per repair record. */
function jsonLines(stdout: string): { workflowId: string; result: ReconcileRunResult; findings: DriftItem[]; repairs: RepairRecord[] } {
  const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const head = lines[0] as { workflowId: string; result: ReconcileRunResult };
  return { ...head, findings: lines.flatMap((l) => (l.finding ? [l.finding as DriftItem] : [])), repairs: lines.flatMap((l) => (l.repair ? [l.repair as RepairRecord] : [])) };
}

function skopeoDigest(ref: string): string {
  const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

before(async () => {
  env = await startTestEnvironment('reconcile', { registries: ['staging', 'prod', ...MIRRORS] });
  keyDir = join(env.stateDir, 'keys');
  await writeKeyPair(keyDir, PASSWORD);
  process.env.COSIGN_PASSWORD = PASSWORD; // read by the in-process worker, as a real worker reads its environment
  worker = await startTestWorker(env);
  client = await testClient(env);
  await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/app' }, image, ['v1.0.0']);
  file = join(env.stateDir, 'promotion.yaml');
  writeFileSync(
    file,
    `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: drift}
source: {registry: "${env.registries.staging}/staging"}
destinations:
  - {name: prod, registry: "${env.registries.prod}/mirror", canonical: true}
${MIRRORS.map((m) => `  - {name: ${m}, registry: "${env.registries[m]}/mirror"}`).join('\n')}
phases:
  - {name: production, destinations: [prod]}
  - {name: mirrors, destinations: [${MIRRORS.join(', ')}]}
signing: {key: "file://${join(keyDir, 'cosign.key')}", attest: false}
images:
  - name: app
    dmap: {"${image.digest}": ["v1.0.0"]}
`,
  );
  const spec = (await loadSpec(file)).spec;
  const result = await (await startPromotion(client, runInputFromSpec(spec))).result();
  assert.equal(result.status, 'succeeded', JSON.stringify(result.edges));
});

after(async () => {
  delete process.env.COSIGN_PASSWORD;
  await client?.connection.close();
  await worker?.stop();
  await env?.cleanup();
  oci.close();
});

describe('reconcile', () => {
  it('a clean promotion has no drift', async () => {
    const r = await cliIn(['reconcile', '-f', file, '--json', ...temporal()]);
    assert.equal(r.code, EXIT.OK, r.stdout + r.stderr);
    const { result, findings } = jsonLines(r.stdout);
    assert.equal(result.status, 'clean');
    assert.equal(result.findings, 0);
    assert.deepEqual(findings, []);
  });

  it('reports exactly a lost tag, a deleted signature and a tag moved by hand', async () => {
    // mirror-a: the tag is gone but the image is still there (distribution deletes by digest only, with its tags;
    // putting the same bytes back by digest restores the image without the tag).
    const m = await getManifest(oci, repo('mirror-a'), image.digest);
    assert.ok(await deleteManifest(oci, repo('mirror-a'), image.digest));
    await putManifest(oci, repo('mirror-a'), image.digest, { bytes: m.bytes, mediaType: m.mediaType });
    assert.equal(await headManifest(oci, repo('mirror-a'), 'v1.0.0'), undefined);
    // mirror-b: the signature manifest is deleted.
    const sig = await headManifest(oci, repo('mirror-b'), signatureTag(image.digest));
    assert.ok(sig && (await deleteManifest(oci, repo('mirror-b'), sig.digest)));
    // mirror-c: someone pushes another image over the tag.
    await pushImage(oci, repo('mirror-c'), intruder, ['v1.0.0']);

    const r = await runCli(['reconcile', '-f', file, '--json', ...temporal()]);
    assert.equal(r.code, EXIT.CHANGES_PLANNED, r.stdout + r.stderr);
    const { workflowId, result, findings } = jsonLines(r.stdout);
    const found = findings.map((i) => `${i.kind} ${i.destination} ${i.tag ?? ''}`.trim()).sort();
    assert.deepEqual(found, ['missing-signature mirror-b', 'missing-tag mirror-a v1.0.0', 'moved-tag mirror-c v1.0.0']);
    const moved = findings.find((i) => i.kind === 'moved-tag')!;
    assert.equal(moved.found, intruder.digest);
    assert.equal(moved.repair, 'none');
    assert.equal(result.repairable, 2);
    assert.deepEqual(result.counts, { 'mirror-a': { 'missing-tag': 1 }, 'mirror-b': { 'missing-signature': 1 }, 'mirror-c': { 'moved-tag': 1 } });

    // The latest report is in the Web UI: the drift count search attribute and the Markdown details.
    const d = await client.workflow.getHandle(workflowId).describe();
    assert.deepEqual(d.searchAttributes.PromoflowDriftCount, [3]);
    const meta = await client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    assert.match(meta.currentDetails ?? '', /## promoflow reconcile: drift — drift/);
    assert.match(meta.currentDetails ?? '', /\| missing-signature \| mirror-b \| app \| sha256:[0-9a-f]{12} \| {2}\| signatures \|/);
  });

  it('--repair restores the tag and the signature (skopeo, cosign) and leaves the moved tag as it is', async () => {
    const r = await runCli(['reconcile', '-f', file, '--repair', '--json', ...temporal()]);
    assert.equal(r.code, EXIT.OK, r.stdout + r.stderr);
    const { result, repairs } = jsonLines(r.stdout);
    assert.equal(result.status, 'repaired', JSON.stringify(repairs));
    assert.deepEqual(repairs.map((x) => `${x.kind} ${x.destination} ${x.status}`).sort(), ['missing-signature mirror-b repaired', 'missing-tag mirror-a repaired']);
    assert.equal(result.remaining, 1);
    assert.equal(result.repair?.promotionStatus, 'succeeded', 'the repairs went through one sharded promotion');

    assert.equal(skopeoDigest(`${env.registries['mirror-a']}/mirror/app:v1.0.0`), image.digest);
    assert.equal(skopeoDigest(`${env.registries['mirror-c']}/mirror/app:v1.0.0`), intruder.digest, 'the moved tag is not reset');
    const cosign = findCosign('v2.6.4');
    if (cosign.bin) {
      const home = join(env.stateDir, 'cosign-home');
      mkdirSync(home, { recursive: true });
      const v = await runCosign(cosign.bin, ['verify', '--key', join(keyDir, 'cosign.pub'), '--insecure-ignore-tlog=true', '--allow-insecure-registry', `${env.registries['mirror-b']}/mirror/app@${image.digest}`], { home });
      assert.equal(v.code, 0, `cosign verify at mirror-b: ${v.stderr}`);
    }

    // What is left is the moved tag only.
    const again = await cliIn(['reconcile', '-f', file, '--markdown', ...temporal()]);
    assert.equal(again.code, EXIT.OK, 'report-only drift is not a failure');
    assert.match(again.stdout, /1 finding\(s\) in 4 repositories · 0 repairable · moved-tag 1/);
    assert.match(again.stdout, /\| moved-tag \| mirror-c \| app \| sha256:[0-9a-f]{12} \| v1\.0\.0 \| none \|/);
  });

  it('without a signing key (keyless manifests), a deleted signature is copied back from a peer only once it verifies with --public-key', async () => {
    const keyless = join(env.stateDir, 'keyless.yaml');
    writeFileSync(keyless, readFileSync(file, 'utf8').replace(/signing: .*/, 'signing: {keyless: {issuer: "https://issuer.example", subject: "ci@example.com"}, attest: false}'));
    const before = await getManifest(oci, repo('prod'), signatureTag(image.digest));
    const sig = await headManifest(oci, repo('mirror-b'), signatureTag(image.digest));
    assert.ok(sig && (await deleteManifest(oci, repo('mirror-b'), sig.digest)));
    // Without a public key nothing can verify a copy: the repair refuses rather than copy an unverified signature.
    const unverified = await cliIn(['reconcile', '-f', keyless, '--repair', '--json', ...temporal()]);
    assert.equal(unverified.code, EXIT.FAILED, unverified.stdout + unverified.stderr);
    const refused = jsonLines(unverified.stdout).repairs;
    assert.deepEqual(refused.map((x) => `${x.kind} ${x.destination} ${x.status}`), ['missing-signature mirror-b failed']);
    assert.match(refused[0]!.error ?? '', /no public key to verify a signature before copying it/);
    assert.equal(await headManifest(oci, repo('mirror-b'), signatureTag(image.digest)), undefined, 'nothing was copied');
    const r = await cliIn(['reconcile', '-f', keyless, '--repair', '--json', '--public-key', join(keyDir, 'cosign.pub'), ...temporal()]);
    assert.equal(r.code, EXIT.OK, r.stdout + r.stderr);
    const { result, repairs } = jsonLines(r.stdout);
    assert.deepEqual(repairs.map((x) => `${x.kind} ${x.destination} ${x.status} ${x.via}`), ['missing-signature mirror-b repaired copy from prod']);
    assert.equal(result.repair?.workflowId, undefined, 'no promotion was needed');
    const after = await getManifest(oci, repo('mirror-b'), signatureTag(image.digest));
    assert.ok(after.bytes.equals(before.bytes), 'the signature is the same bytes as at prod');
  });

  it('continues as new between inventory batches and reports the same as one run', async () => {
    const spec = (await loadSpec(file)).spec;
    const input = await reconcileRunInputFromSpec(stateStoreFor(DEFAULT_STATE_DIR), spec, { repair: false });
    const one = await (await startReconcileRun(client, input, 'reconcile/can-one')).result();
    const handle = await startReconcileRun(client, { ...input, tuning: { window: 1, batchEdges: 1, batchesPerRun: 1 } }, 'reconcile/can-many');
    const many = await handle.result();
    assert.deepEqual([many.findings, many.counts, many.repos], [one.findings, one.counts, one.repos]);
    const runs = execFileSync(env.temporalServer!.binary, ['workflow', 'list', '--address', env.temporal!.address, '--query', `WorkflowId = 'reconcile/can-many'`, '--output', 'json'], { encoding: 'utf8' });
    const statuses = (JSON.parse(runs) as Array<{ status: string | number }>).map((r) => String(r.status));
    // Two inventory batches (production's repository, then the mirrors' three: one entry's destinations stay together).
    assert.equal(statuses.length, 2, `one run per inventory batch: ${statuses.join(', ')}`);
  });

  it('snapshot dumps a registry as kpromo images.yaml (which loads back as a kpromo manifest) and as CSV', async () => {
    const y = await cliIn(['snapshot', `${env.registries['mirror-c']}/mirror`]);
    assert.equal(y.code, EXIT.OK, y.stderr);
    // mirror-c holds the promoted digest untagged (not listed) and the hand-pushed image under v1.0.0.
    assert.equal(y.stdout.trim(), `- name: app\n  dmap:\n    "${intruder.digest}": ["v1.0.0"]`);
    // kpromo's thin layout: manifests/<project>/promoter-manifest.yaml beside images/<project>/images.yaml.
    const dir = join(env.stateDir, 'snapshot');
    mkdirSync(join(dir, 'manifests', 'mirror'), { recursive: true });
    mkdirSync(join(dir, 'images', 'mirror'), { recursive: true });
    writeFileSync(join(dir, 'manifests', 'mirror', 'promoter-manifest.yaml'), `registries:\n- name: ${env.registries['mirror-c']}/mirror\n  src: true\n- name: ${env.registries.prod}/mirror\n`);
    writeFileSync(join(dir, 'images', 'mirror', 'images.yaml'), y.stdout);
    const back = (await loadSpec(dir)).spec;
    assert.deepEqual(back.images.map((i) => [i.name, i.dmap]), [['app', { [intruder.digest]: ['v1.0.0'] }]]);
    const c = await cliIn(['snapshot', `${env.registries.prod}/mirror`, '--format', 'csv']);
    assert.equal(c.stdout.trim(), `name,digest,tag\napp,${image.digest},v1.0.0`);
  });

  it('a schedule created through the CLI (twice: idempotent) fires, and the server lists its run', async () => {
    const args = ['schedule', 'create', 'drift-every-2s', '-f', file, '--every', '2s', '--catchup-window', '1m', ...temporal()];
    const first = await runCli(args);
    assert.equal(first.code, EXIT.OK, first.stdout + first.stderr);
    const second = await cliIn(args);
    assert.equal(second.code, EXIT.OK, second.stdout + second.stderr);
    assert.match(second.stdout, /already existed: updated/);
    try {
      const listed = await eventually('a scheduled reconcile run listed by the server', async () => {
        const out = execFileSync(env.temporalServer!.binary, ['workflow', 'list', '--address', env.temporal!.address, '--query', `TemporalScheduledById = 'drift-every-2s'`], { encoding: 'utf8' });
        return out.includes('reconcile/drift-every-2s') && /Completed/.test(out) && out;
      }, 120_000);
      assert.match(listed, /reconcile/);
      const d = await cliIn(['schedule', 'describe', 'drift-every-2s', '--json', ...temporal()]);
      assert.equal(d.code, EXIT.OK, d.stderr);
      const desc = JSON.parse(d.stdout) as { overlap: string; catchupWindowMs: number; actionsTaken: number };
      assert.equal(desc.overlap, 'SKIP');
      assert.equal(desc.catchupWindowMs, 60_000);
      assert.ok(desc.actionsTaken >= 1);
      const p = await cliIn(['schedule', 'pause', 'drift-every-2s', ...temporal()]);
      assert.equal(p.code, EXIT.OK, p.stderr);
    } finally {
      const del = await cliIn(['schedule', 'delete', 'drift-every-2s', ...temporal()]);
      assert.equal(del.code, EXIT.OK, del.stderr);
    }
    const gone = await cliIn(['schedule', 'describe', 'drift-every-2s', ...temporal()]);
    assert.equal(gone.code, EXIT.INVALID);
    assert.match(gone.stderr, /does not exist/);
  });

  it('no reconcile history holds a private key or a password (the public key travels as a file reference)', () => {
    const ids = execFileSync(env.temporalServer!.binary, ['workflow', 'list', '--address', env.temporal!.address, '--query', `WorkflowType = 'reconcileRun'`, '--output', 'json', '--limit', '50'], { encoding: 'utf8' });
    const runs = JSON.parse(ids) as Array<{ execution: { workflowId: string; runId: string } }>;
    assert.ok(runs.length >= 5, `${runs.length} reconcile runs`);
    let named = 0;
    for (const w of runs) {
      const history = execFileSync(env.temporalServer!.binary, ['workflow', 'show', '--address', env.temporal!.address, '--workflow-id', w.execution.workflowId, '--run-id', w.execution.runId, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const decoded = history.replace(/"data":\s*"([A-Za-z0-9+/=]+)"/g, (_m, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
      for (const needle of ['PRIVATE KEY', 'PUBLIC KEY', PASSWORD]) assert.ok(!decoded.includes(needle), `${w.execution.workflowId} history contains ${needle}`);
      if (decoded.includes('cosign.pub')) named++;
    }
    assert.ok(named >= 4, 'the runs with a key name it by reference');
  });
});
