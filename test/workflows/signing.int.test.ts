// Sign, attest and replicate through the workflows, proven with the real cosign (v2.6.x and v3.1.x): after a
// promotion to a production registry and 3 mirrors, `cosign verify` and `cosign verify-attestation --type
// slsaprovenance1` pass at every destination, for a single image and for the index and each of its children; a
// re-run adds no duplicate signature; keyless signing with no trustedRoot takes the trust root from a TUF repository
// (loopback, as the public-good one is reached); and no workflow history holds a private key, password or token.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { RegistryClient, getManifest, listReferrers } from '../../src/oci';
import { BUNDLE_V03, signImageKeyless, writeKeyPair } from '../../src/signing';
import { signatureTag } from '../../src/model';
import { buildIndex, buildImage, pushImage } from '../../src/dev/sample-images';
import { startTestEnvironment, startTestWorker, testClient } from '../../src/testing/harness';
import { COSIGN_VERSIONS, findCosign, runCosign } from '../../src/dev/cosign';
import { startMockSigstore, type MockSigstore } from '../../src/testing/sig-sigstore-mock';
import { startTufRepository, type LocalTufRepository } from '../../src/testing/tuf-repository';
import { TufTrustRoot, trustRootConfigFromEnv } from '../../src/signing/trust-root';
import { CliError, EXIT } from '../../src/client/exit-codes';
import { main } from '../../src/client/cli';
import { SigTestRegistry } from '../../src/testing/sig-registry';
import { startPromotion } from '../../src/client/promote';
import type { PromotionRunInput } from '../../src/contract';

const DESTS = ['prod', 'mirror-1', 'mirror-2', 'mirror-3'];
const PASSWORD = 'correct horse battery staple 42';
const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
/** An OIDC token as CI hands it to the worker (the mock Fulcio trusts its claims). */
const OIDC_TOKEN = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'ci@example.com', iss: 'https://ci.example', aud: 'sigstore', exp: 4102444800 })}.c2ln`;
let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let worker: { stop(): Promise<void> };
let client: Client;
let keyDir: string;
const oci = new RegistryClient();
const index = buildIndex({ seed: 'signing-index' });
const single = buildImage({ seed: 'signing-single' });
let input: PromotionRunInput;
/** The instance a manifest without trustedRoot trusts: its trusted root published by a TUF repository on loopback. */
let tufSigstore: MockSigstore;
let tuf: LocalTufRepository;
const TUF_ENV = ['PROMOFLOW_TUF_MIRROR', 'PROMOFLOW_TUF_ROOT', 'PROMOFLOW_TUF_CACHE'] as const;

/** `promoflow <argv>` in this process, served by the in-process worker. */
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

before(async () => {
  env = await startTestEnvironment('signing', { registries: ['staging', ...DESTS] });
  keyDir = join(env.stateDir, 'keys');
  await writeKeyPair(keyDir, PASSWORD);
  await writeKeyPair(join(keyDir, 'other'), PASSWORD);
  process.env.COSIGN_PASSWORD = PASSWORD; // the in-process worker reads it, as a real worker reads its environment
  tufSigstore = await startMockSigstore();
  tuf = await startTufRepository(tufSigstore.trustedRoot);
  writeFileSync(join(env.stateDir, 'tuf-root.json'), tuf.rootJson);
  // A worker configured for a (private) sigstore instance's TUF repository, as the public-good one is by default.
  Object.assign(process.env, { PROMOFLOW_TUF_MIRROR: tuf.url, PROMOFLOW_TUF_ROOT: join(env.stateDir, 'tuf-root.json'), PROMOFLOW_TUF_CACHE: join(env.stateDir, 'tuf-cache') });
  worker = await startTestWorker(env);
  client = await testClient(env);
  await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/multi' }, index, ['v1']);
  await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/single' }, single, ['v1']);
  const dest = (n: string) => ({ name: n, registry: `${env.registries[n]}/k8s` });
  input = {
    name: 'signing',
    manifestFiles: ['promotion.yaml'],
    commit: 'feedfacecafe',
    source: { registry: `${env.registries.staging}/staging` },
    destinations: DESTS.map(dest),
    phases: [
      { name: 'production', destinations: ['prod'], soakSeconds: 0, verify: true, approval: false },
      { name: 'mirrors', destinations: ['mirror-1', 'mirror-2', 'mirror-3'], soakSeconds: 0, verify: true, approval: false },
    ],
    items: [
      { image: 'multi', digest: index.digest, tags: ['v1'] },
      { image: 'single', digest: single.digest, tags: ['v1'] },
    ],
    signing: { key: `file://${join(keyDir, 'cosign.key')}`, attest: true, dockerReference: 'registry.example.io/k8s', home: dest('prod') },
  };
});

after(async () => {
  delete process.env.COSIGN_PASSWORD;
  for (const v of TUF_ENV) delete process.env[v];
  await client?.connection.close();
  await worker?.stop();
  await tuf?.stop();
  await tufSigstore?.stop();
  await env?.cleanup();
});

describe('signing through the workflows', () => {
  it('promotes, signs once, replicates, and verifies in-process at every destination', async () => {
    const result = await (await startPromotion(client, input)).result();
    assert.equal(result.status, 'succeeded', JSON.stringify(result.edges.filter((e) => e.status !== 'promoted')));
    assert.equal(result.edges.length, 8);
    for (const e of result.edges) assert.equal(e.signature, 'verified', `${e.image} at ${e.destination}`);
  });

  for (const version of COSIGN_VERSIONS) {
    const cosign = findCosign(version);
    it(`cosign ${version} verify and verify-attestation pass at every destination, for the single image and the index and each child`, { skip: cosign.skip }, async () => {
      const refs = DESTS.flatMap((d) => [
        `${env.registries[d]}/k8s/single@${single.digest}`,
        ...[index.digest, ...index.children.map((c) => c.digest)].map((dg) => `${env.registries[d]}/k8s/multi@${dg}`),
      ]);
      const home = join(env.stateDir, `home-${version}`);
      mkdirSync(home, { recursive: true });
      for (const ref of refs) {
        const v = await runCosign(cosign.bin!, ['verify', '--key', join(keyDir, 'cosign.pub'), '--insecure-ignore-tlog=true', '--allow-insecure-registry', ref], { home });
        assert.equal(v.code, 0, `cosign ${version} verify ${ref}: ${v.stderr}`);
        const a = await runCosign(cosign.bin!, ['verify-attestation', '--key', join(keyDir, 'cosign.pub'), '--insecure-ignore-tlog=true', '--type', 'slsaprovenance1', '--allow-insecure-registry', ref], { home });
        assert.equal(a.code, 0, `cosign ${version} verify-attestation ${ref}: ${a.stderr}`);
        // The provenance names this promotion.
        const statement = JSON.parse(Buffer.from((JSON.parse(a.stdout.trim().split('\n')[0]!) as { payload: string }).payload, 'base64').toString()) as {
          subject: Array<{ digest: { sha256: string } }>;
          predicate: { buildDefinition: { externalParameters: { manifestPath: string; gitCommit?: string } }; runDetails: { metadata: { invocationId: string } } };
        };
        assert.equal(statement.subject[0]!.digest.sha256, ref.split('@sha256:')[1]);
        assert.equal(statement.predicate.buildDefinition.externalParameters.gitCommit, 'feedfacecafe');
        assert.match(statement.predicate.runDetails.metadata.invocationId, /promote\/signing\//);
      }
      const wrong = await runCosign(cosign.bin!, ['verify', '--key', join(keyDir, 'other', 'cosign.pub'), '--insecure-ignore-tlog=true', '--allow-insecure-registry', refs[1]!], { home });
      assert.notEqual(wrong.code, 0, 'another key does not verify');
    });
  }

  it('a re-run signs nothing again and adds no duplicate signature layer anywhere', async () => {
    const result = await (await startPromotion(client, { ...input, commit: 'feedfacecaff' })).result();
    assert.equal(result.status, 'succeeded');
    for (const d of DESTS) {
      for (const [image, digest] of [['multi', index.digest], ['single', single.digest]] as const) {
        const m = await getManifest(oci, { registry: env.registries[d]!, repository: `k8s/${image}` }, signatureTag(digest));
        assert.equal((JSON.parse(m.bytes.toString()) as { layers: unknown[] }).layers.length, 1, `${image} at ${d}: one signature layer`);
      }
    }
  });

  const cosign3 = findCosign('v3.1.2');
  it('bundle-referrer format: bundles written once, replicated, verified in-process and by cosign v3 (and v2 with a trusted root) at the mirror', { skip: cosign3.skip }, async () => {
    const bundled = buildIndex({ seed: 'bundled' });
    await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/bundled' }, bundled);
    const result = await (
      await startPromotion(client, {
        ...input,
        name: 'bundles',
        phases: [
          { name: 'production', destinations: ['prod'], soakSeconds: 0, verify: true, approval: false },
          { name: 'mirrors', destinations: ['mirror-1'], soakSeconds: 0, verify: true, approval: false },
        ],
        items: [{ image: 'bundled', digest: bundled.digest, tags: ['v1'] }],
        signing: { ...input.signing!, bundles: true },
      })
    ).result();
    assert.equal(result.status, 'succeeded', JSON.stringify(result.edges));
    for (const e of result.edges) assert.equal(e.signature, 'verified');
    const home = join(env.stateDir, 'home-bundles');
    mkdirSync(home, { recursive: true });
    const root = join(home, 'trusted_root.json');
    writeFileSync(root, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' }));
    for (const digest of [bundled.digest, ...bundled.children.map((c) => c.digest)]) {
      const ref = `${env.registries['mirror-1']}/k8s/bundled@${digest}`;
      const pub = join(keyDir, 'cosign.pub');
      const v = await runCosign(cosign3.bin!, ['verify', '--key', pub, '--insecure-ignore-tlog=true', '--allow-insecure-registry', ref], { home });
      assert.equal(v.code, 0, `cosign v3 verify ${ref}: ${v.stderr}`);
      const a = await runCosign(cosign3.bin!, ['verify-attestation', '--key', pub, '--insecure-ignore-tlog=true', '--type', 'slsaprovenance1', '--allow-insecure-registry', ref], { home });
      assert.equal(a.code, 0, `cosign v3 verify-attestation ${ref}: ${a.stderr}`);
      const c2 = findCosign('v2.6.4');
      if (c2.bin) {
        const v2 = await runCosign(c2.bin, ['verify', '--key', pub, '--insecure-ignore-tlog=true', '--trusted-root', root, '--allow-insecure-registry', ref], { home });
        assert.equal(v2.code, 0, `cosign v2 verify (bundles) ${ref}: ${v2.stderr}`);
      }
    }
  });

  it('keyless: Fulcio certificate + Rekor entry (mock servers on loopback), bundles replicated and verified, cosign v3 agrees', async () => {
    const mock = await startMockSigstore();
    try {
      const root = join(env.stateDir, 'trusted_root.json');
      writeFileSync(root, JSON.stringify(mock.trustedRoot));
      process.env.SIGSTORE_ID_TOKEN = OIDC_TOKEN; // as CI provides it to the worker
      const img = buildImage({ seed: 'keyless-promotion' });
      await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/keyless' }, img);
      const keyless = { issuer: 'https://ci.example', subject: 'ci@example.com', fulcioURL: mock.url, rekorURL: mock.url, trustedRoot: `file://${root}` };
      const result = await (
        await startPromotion(client, {
          ...input,
          name: 'keyless',
          phases: [
            { name: 'production', destinations: ['prod'], soakSeconds: 0, verify: true, approval: false },
            { name: 'mirrors', destinations: ['mirror-2'], soakSeconds: 0, verify: true, approval: false },
          ],
          items: [{ image: 'keyless', digest: img.digest, tags: ['v1'] }],
          signing: { keyless, attest: true, bundles: true, dockerReference: 'registry.example.io/k8s', home: input.signing!.home },
        })
      ).result();
      assert.equal(result.status, 'succeeded', JSON.stringify(result.edges));
      for (const e of result.edges) assert.equal(e.signature, 'verified', e.destination);
      const c3 = findCosign('v3.1.2');
      if (c3.bin) {
        const home = join(env.stateDir, 'home-keyless');
        mkdirSync(home, { recursive: true });
        const ref = `${env.registries['mirror-2']}/k8s/keyless@${img.digest}`;
        const ident = ['--trusted-root', root, '--certificate-identity', 'ci@example.com', '--certificate-oidc-issuer', 'https://ci.example', '--allow-insecure-registry'];
        const v = await runCosign(c3.bin, ['verify', ...ident, ref], { home });
        assert.equal(v.code, 0, `cosign v3 verify (keyless) ${ref}: ${v.stderr}`);
        const wrong = await runCosign(c3.bin, ['verify', '--trusted-root', root, '--certificate-identity', 'someone@else.com', '--certificate-oidc-issuer', 'https://ci.example', '--allow-insecure-registry', ref], { home });
        assert.notEqual(wrong.code, 0, 'another identity does not verify');
      }
    } finally {
      delete process.env.SIGSTORE_ID_TOKEN;
      await mock.stop();
    }
  });

  it('keyless with no trustedRoot in the manifest: the worker takes the trust root through TUF; cosign (v3, v2) verifies with that root and through the same TUF repository', async () => {
    process.env.SIGSTORE_ID_TOKEN = OIDC_TOKEN;
    try {
      const img = buildImage({ seed: 'keyless-tuf' });
      await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/keyless-tuf' }, img);
      const file = join(env.stateDir, 'keyless-tuf.yaml');
      writeFileSync(
        file,
        `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: keyless-tuf}
source: {registry: "${env.registries.staging}/staging"}
destinations:
  - {name: prod, registry: "${env.registries.prod}/k8s", canonical: true}
  - {name: mirror-3, registry: "${env.registries['mirror-3']}/k8s"}
phases:
  - {name: production, destinations: [prod]}
  - {name: mirrors, destinations: [mirror-3]}
signing:
  keyless: {issuer: "https://ci.example", subject: "ci@example.com", fulcioURL: "${tufSigstore.url}", rekorURL: "${tufSigstore.url}"}
  attest: true
images:
  - name: keyless-tuf
    dmap: {"${img.digest}": ["v1"]}
`,
      );
      const fetched = tuf.requests.length;
      const r = await cliIn(['promote', '-f', file, '--confirm', '--temporal-address', env.temporal!.address]);
      assert.equal(r.code, EXIT.OK, r.stdout + r.stderr);
      assert.match(r.stdout, /total: 2 promoted, 0 already present, 0 failed/);
      assert.ok(tuf.requests.slice(fetched).includes('/timestamp.json'), 'the worker asked the TUF repository');
      // The root the worker verified with is the TUF target it cached; cosign v3 is given that same root.
      const cached = new TufTrustRoot(trustRootConfigFromEnv(process.env)).cachedFile;
      assert.ok(existsSync(cached), cached);
      for (const version of COSIGN_VERSIONS) {
        const bin = findCosign(version).bin;
        if (!bin) continue;
        // Given the root file the worker cached; and on its own, initialised from the same TUF repository.
        const home = join(env.stateDir, `home-keyless-tuf-${version}`);
        mkdirSync(home, { recursive: true });
        const init = await runCosign(bin, ['initialize', '--mirror', tuf.url, '--root', join(env.stateDir, 'tuf-root.json')], { home });
        assert.equal(init.code, 0, `cosign ${version} initialize from the TUF repository: ${init.stderr}`);
        for (const d of ['prod', 'mirror-3']) {
          const ref = `${env.registries[d]}/k8s/keyless-tuf@${img.digest}`;
          for (const root of [['--trusted-root', cached], []]) {
            const run = (args: string[], identity = 'ci@example.com'): ReturnType<typeof runCosign> =>
              runCosign(bin, [...args, ...root, '--certificate-identity', identity, '--certificate-oidc-issuer', 'https://ci.example', '--allow-insecure-registry', ref], { home });
            for (const args of [['verify'], ['verify-attestation', '--type', 'slsaprovenance1']]) {
              const v = await run(args);
              assert.equal(v.code, 0, `cosign ${version} ${args[0]} ${root.length ? 'with the cached root' : 'through TUF'} ${ref}: ${v.stderr}`);
              assert.notEqual((await run(args, 'someone@else.com')).code, 0, `${args[0]}: another identity does not verify`);
            }
          }
        }
      }
    } finally {
      delete process.env.SIGSTORE_ID_TOKEN;
    }
  });

  it('keyless: a look-alike identity’s bundle at the signing home is neither “already signed” nor accepted by the verify gate', async () => {
    const mock = await startMockSigstore();
    try {
      const root = join(env.stateDir, 'trusted_root-lookalike.json');
      writeFileSync(root, JSON.stringify(mock.trustedRoot));
      const img = buildImage({ seed: 'keyless-lookalike' });
      await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/lookalike' }, img);
      // The attacker got certificates for look-alikes of the identity (same trusted Fulcio) and pushed their bundles
      // to production first, next to the image.
      const prod = new SigTestRegistry(env.registries.prod!);
      const subject = { digest: img.digest, size: img.manifest.length, mediaType: img.mediaType };
      const provenance = { sourceRepository: 's', destinations: ['p'], manifestPath: 'm', promoflowVersion: '0', workflowId: 'w', runId: 'r', startedOn: '2026-11-26T10:00:00Z', finishedOn: '2026-11-26T10:00:01Z' };
      for (const sub of ['ci@example-com.attacker.net', 'evil-ci@example.com.attacker.net']) {
        const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub, iss: 'https://ci.example', aud: 'sigstore', exp: 4102444800 })}.c2ln`;
        const [signed] = await signImageKeyless({ subjects: [subject], created: provenance.finishedOn, provenance, keyless: { fulcioURL: mock.url, rekorURL: mock.url, identityToken: token } });
        for (const r of signed!.referrers) await prod.pushReferrer('k8s/lookalike', r.artifact);
      }
      const repo = { registry: env.registries.prod!, repository: 'k8s/lookalike' };
      const planted = (await listReferrers(oci, repo, img.digest, { artifactType: BUNDLE_V03 })).length;
      assert.equal(planted, 4);
      process.env.SIGSTORE_ID_TOKEN = OIDC_TOKEN;
      const keyless = { issuer: 'https://ci.example', subject: 'ci@example.com', fulcioURL: mock.url, rekorURL: mock.url, trustedRoot: `file://${root}` };
      const result = await (
        await startPromotion(client, {
          ...input,
          name: 'keyless-lookalike',
          phases: [{ name: 'production', destinations: ['prod'], soakSeconds: 0, verify: true, approval: false }],
          items: [{ image: 'lookalike', digest: img.digest, tags: ['v1'] }],
          signing: { keyless, attest: true, bundles: true, dockerReference: 'registry.example.io/k8s', home: input.signing!.home },
        })
      ).result();
      assert.equal(result.status, 'succeeded', JSON.stringify(result.edges));
      // The run signed with its own identity: two more bundles (cosign sign + SLSA) beside the look-alikes'.
      assert.equal((await listReferrers(oci, repo, img.digest, { artifactType: BUNDLE_V03 })).length, planted + 2);
    } finally {
      delete process.env.SIGSTORE_ID_TOKEN;
      await mock.stop();
    }
  });

  const cosign2 = findCosign('v2.6.4');
  it('source policy: an image signed by `cosign sign --key` is promoted; an unsigned one is refused before any copy', { skip: cosign2.skip }, async () => {
    const builder = join(keyDir, 'builder');
    await writeKeyPair(builder, PASSWORD);
    const signedImg = buildImage({ seed: 'source-signed' });
    const unsignedImg = buildImage({ seed: 'source-unsigned' });
    await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/built' }, signedImg);
    await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/unsigned' }, unsignedImg);
    const home = join(env.stateDir, 'home-sign');
    mkdirSync(home, { recursive: true });
    const signedRef = `${env.registries.staging}/staging/built@${signedImg.digest}`;
    const r = await runCosign(cosign2.bin!, ['sign', '--key', join(builder, 'cosign.key'), '--tlog-upload=false', '--allow-insecure-registry', signedRef], { home, env: { COSIGN_PASSWORD: PASSWORD } });
    assert.equal(r.code, 0, r.stderr);
    const result = await (
      await startPromotion(client, {
        ...input,
        name: 'source-policy',
        phases: [{ name: 'all', destinations: ['prod'], soakSeconds: 0, verify: true, approval: false }],
        items: [
          { image: 'built', digest: signedImg.digest, tags: ['v1'] },
          { image: 'unsigned', digest: unsignedImg.digest, tags: ['v1'] },
        ],
        sourceSignedBy: `file://${join(builder, 'cosign.pub')}`,
      })
    ).result();
    const byImage = Object.fromEntries(result.edges.map((e) => [e.image, e]));
    assert.equal(byImage.built!.status, 'promoted');
    assert.equal(byImage.unsigned!.status, 'failed');
    assert.equal(byImage.unsigned!.errorType, 'SourceUnsigned');
    assert.match(byImage.unsigned!.error!, /staging\/unsigned@sha256:[0-9a-f]{64} is not signed by the trusted key/);
    const head = await fetch(`http://${env.registries.prod}/v2/k8s/unsigned/manifests/${unsignedImg.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 404, 'the unsigned image was not copied');
  });

  it('no workflow history holds a private key, a password or a token', () => {
    const ids = execFileSync(env.temporalServer!.binary, ['workflow', 'list', '--address', env.temporal!.address, '--output', 'json', '--limit', '200'], { encoding: 'utf8' });
    const workflows = (JSON.parse(ids) as Array<{ execution: { workflowId: string; runId: string } }>);
    assert.ok(workflows.length >= 6, `${workflows.length} workflows`);
    for (const w of workflows) {
      const history = execFileSync(env.temporalServer!.binary, ['workflow', 'show', '--address', env.temporal!.address, '--workflow-id', w.execution.workflowId, '--run-id', w.execution.runId, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const decoded = history.replace(/"data":\s*"([A-Za-z0-9+/=]+)"/g, (_m, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
      for (const needle of ['PRIVATE KEY', PASSWORD, 'COSIGN_PASSWORD', 'Bearer ', 'Authorization', OIDC_TOKEN, OIDC_TOKEN.split('.')[1]!]) {
        assert.ok(!history.includes(needle) && !decoded.includes(needle), `${w.execution.workflowId} history contains ${needle}`);
      }
    }
  });
});
