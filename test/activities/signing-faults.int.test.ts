// The known false verdicts, on real registries behind fault proxies: a byte flipped while reading a signature or
// attestation blob for replication or for the verify gate, and a connection cut during the verify gate, used to
// end as ReplicateFailed / SignatureInvalid ("content digest is …", "aborted"). Now they are re-read and pass; only
// the same wrong bytes on every read are a verdict, DigestMismatch, naming both digests.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, createActivityDeps } from '../../src/activities';
import { startRegistry, type LocalRegistry } from '../../src/dev/registry';
import { getManifest, RegistryClient } from '../../src/oci';
import { signatureTag, attestationTag } from '../../src/model';
import { writeKeyPair } from '../../src/signing';
import { runAsActivity } from '../../src/testing/activity-context';
import { startFaultProxy, type FaultProxy } from '../../src/testing/fault-proxy';
import { testStateDir } from '../../src/testing/harness';
import { buildImage, pushImage } from '../../src/dev/sample-images';
import type { SigningRef } from '../../src/contract';

const PASSWORD = 'signing-faults';
let dir: string;
let home: LocalRegistry;
let mirror: LocalRegistry;
let hp: FaultProxy;
let mp: FaultProxy;
let signing: SigningRef;
const oci = new RegistryClient();
const deps = createActivityDeps();
const acts = createActivities(deps);
const image = buildImage({ seed: 'signing-faults' });

before(async () => {
  dir = testStateDir('signing-faults');
  [home, mirror] = await Promise.all([startRegistry({ name: 'home', stateDir: dir }), startRegistry({ name: 'mirror', stateDir: dir })]);
  [hp, mp] = await Promise.all([startFaultProxy(home.host), startFaultProxy(mirror.host)]);
  await writeKeyPair(join(dir, 'keys'), PASSWORD);
  process.env.COSIGN_PASSWORD = PASSWORD;
  signing = { key: `file://${join(dir, 'keys', 'cosign.key')}`, attest: true, dockerReference: 'registry.example.io/k8s' };
  await pushImage(oci, { registry: home.host, repository: 'k8s/app' }, image);
  await pushImage(oci, { registry: mirror.host, repository: 'k8s/app' }, image);
  const now = new Date().toISOString();
  await runAsActivity(() =>
    acts.signAtHome({
      image: 'app',
      digest: image.digest,
      children: [],
      home: { name: 'home', registry: `${hp.host}/k8s` },
      signing,
      provenance: { sourceRepository: 'staging/app', destinations: [], manifestPath: 'm.yaml', workflowId: 'wf', runId: 'r', namespace: 'default', startedOn: now, finishedOn: now },
    }),
  );
});

after(async () => {
  delete process.env.COSIGN_PASSWORD;
  oci.close();
  deps.scopes.clientFor().close(); // the worker's shared blob cache goes with it
  await Promise.all([hp.stop(), mp.stop()]);
  await Promise.all([home.stop(), mirror.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

// A test that fails midway leaves no fault rule behind for the next one.
afterEach(() => {
  hp.rules = [];
  mp.rules = [];
});

const blobGets = /\/blobs\/sha256:/;
const faulted = (p: FaultProxy, from: number) => p.requests.slice(from).filter((r) => r.fault).map((r) => r.fault);

test('replication reading .sig/.att blobs with a flipped byte and a cut mid-body: re-read, replicated', async () => {
  // Two different flips: the same offset twice in one blob would be the same wrong bytes twice, which is a verdict.
  hp.rules = [
    { method: 'GET', path: blobGets, fault: { kind: 'flipByte', offset: 5 }, times: 1 },
    { method: 'GET', path: blobGets, fault: { kind: 'flipByte', offset: 9 }, times: 1 },
    { method: 'GET', path: blobGets, fault: { kind: 'cut' }, times: 1 },
  ];
  const from = hp.requests.length;
  const r = await runAsActivity(() => acts.replicateSignatures({ image: 'app', digests: [image.digest], attest: true, from: { name: 'home', registry: `${hp.host}/k8s` }, to: { name: 'mirror', registry: `${mp.host}/k8s` } }));
  hp.rules = [];
  assert.deepEqual(faulted(hp, from), ['flipByte', 'flipByte', 'cut']);
  assert.equal(r.pushed, 2);
  for (const tag of [signatureTag(image.digest), attestationTag(image.digest)]) {
    const [a, b] = await Promise.all([getManifest(oci, { registry: home.host, repository: 'k8s/app' }, tag), getManifest(oci, { registry: mirror.host, repository: 'k8s/app' }, tag)]);
    assert.equal(b.digest, a.digest, `${tag} copied byte for byte`);
  }
});

test('the verify gate with a flipped byte and a connection cut while reading: no problem reported (not SignatureInvalid, not "aborted")', async () => {
  mp.rules = [
    { method: 'GET', path: blobGets, fault: { kind: 'flipByte', offset: 'random' }, times: 1 },
    { method: 'GET', path: blobGets, fault: { kind: 'cut', fraction: 0.3 }, times: 2 },
    { method: 'GET', path: /\/manifests\//, fault: { kind: 'flipByte', offset: 'random' }, times: 1 },
  ];
  const from = mp.requests.length;
  const problems = await runAsActivity(() => acts.verifySignatures({ image: 'app', digests: [image.digest], destination: { name: 'mirror', registry: `${mp.host}/k8s` }, signing }));
  mp.rules = [];
  assert.equal(faulted(mp, from).length, 4, 'every fault was injected');
  assert.deepEqual(problems, []);
});

test('the same flipped byte on every read of a signature blob: a DigestMismatch verdict naming both digests, never "does not verify"', async () => {
  const sig = JSON.parse((await getManifest(oci, { registry: mirror.host, repository: 'k8s/app' }, signatureTag(image.digest))).bytes.toString()) as { layers: Array<{ digest: string }> };
  const payload = sig.layers[0]!.digest;
  mp.rules = [{ method: 'GET', path: new RegExp(`/blobs/${payload}`), fault: { kind: 'flipByte', offset: 10 } }];
  await assert.rejects(
    runAsActivity(() => acts.verifySignatures({ image: 'app', digests: [image.digest], destination: { name: 'mirror', registry: `${mp.host}/k8s` }, signing })),
    (e: unknown) => e instanceof ApplicationFailure && e.type === 'DigestMismatch' && e.nonRetryable && e.message.includes(payload) && /content digest is sha256:[0-9a-f]{64}/.test(e.message) && /same again on a re-read/.test(e.message),
  );
  mp.rules = [];
});

test('a signature that really does not verify (another key) is a verdict naming the manifest and the layer', async () => {
  await writeKeyPair(join(dir, 'other'), PASSWORD);
  const other: SigningRef = { ...signing, key: `file://${join(dir, 'other', 'cosign.key')}` };
  const problems = await runAsActivity(() => acts.verifySignatures({ image: 'app', digests: [image.digest], destination: { name: 'mirror', registry: `${mp.host}/k8s` }, signing: other }));
  assert.equal(problems.length, 2, JSON.stringify(problems));
  assert.match(problems[0]!.problem, new RegExp(`signature does not verify: no valid signature in ${signatureTag(image.digest).replace('.', '\\.')} \\(sha256:[0-9a-f]{64}\\): layer sha256:[0-9a-f]{12}: signature does not verify with the given public key`));
});
