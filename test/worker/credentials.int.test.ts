// Registry credentials belong to the operator (issue 12, findings 2, 5 and 8), driven through the real CLI and a
// real `promoflow worker` against real registries: an htpasswd-protected production registry, an open staging
// registry, and a hostile registry that demands credentials and records every Authorization it receives.
//  - A manifest cannot send the planning host's or the worker's secrets anywhere: naming a credential for a host it
//    is not bound to is refused before any request, today's {kind: env|file} references are refused with a
//    migration line, and a hostile registry that challenges gets nothing.
//  - `docker-config` works: a docker config.json with credHelpers, through the real docker-credential-helper protocol.
//  - Credentials are scoped per run: two runs naming two credentials for one host never share one; a rotated
//    secret is picked up (re-read after a 401) by a worker that keeps running.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Client } from '@temporalio/client';
import { headManifest, RegistryClient, staticCredentials } from '../../src/oci';
import { startRegistry, type LocalRegistry } from '../../src/dev/registry';
import { buildImage, pushImage } from '../../src/dev/sample-images';
import { writeHtpasswd } from '../../src/testing/htpasswd';
import { startHostileRegistry, type HostileRegistry } from '../../src/testing/hostile-registry';
import { runCli, startCliWorker, startTestEnvironment, testClient, twoPhaseRun } from '../../src/testing/harness';
import { startPromotion } from '../../src/client/promote';
import { EXIT } from '../../src/client/exit-codes';

const PW1 = 'first-Pa55word';
const PW2 = 'rotated-Pa55word';
const CI_SECRET = 'ci-secret-never-leaves';
let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let prod: LocalRegistry;
let prodPort: number;
let hostile: HostileRegistry;
let worker: ReturnType<typeof startCliWorker>;
let client: Client;
let dir: string;
let secretFile: string;
let helperLog: string;
let processEnv: NodeJS.ProcessEnv;
const oci = new RegistryClient();

async function startProd(password: string): Promise<LocalRegistry> {
  const path = writeHtpasswd(join(dir, 'htpasswd'), { alice: password });
  return startRegistry({ name: 'prod-auth', stateDir: env.stateDir, auth: { kind: 'htpasswd', realm: 'prod', path }, ...(prodPort ? { port: prodPort } : {}) });
}

function manifest(name: string, opts: { image: string; digest: string; source?: string; sourceCredentials?: string; prodCredentials?: string }): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: ${name}}
source: {registry: "${opts.source ?? `${env.registries.staging}/staging`}"${opts.sourceCredentials ? `, credentials: ${opts.sourceCredentials}` : ''}}
destinations:
  - {name: prod, registry: "${prod.host}/prod"${opts.prodCredentials ? `, credentials: ${opts.prodCredentials}` : ''}}
images:
  - name: ${opts.image}
    dmap: {"${opts.digest}": ["v1"]}
`,
  );
  return file;
}

const cli = (args: string[]) => runCli(args[0] === 'plan' ? args : [...args, '--temporal-address', env.temporal!.address], { env: processEnv });
const atProd = async (image: string, password: string) =>
  (await headManifest(new RegistryClient({ credentials: staticCredentials({ [prod.host]: { username: 'alice', password } }) }), { registry: prod.host, repository: `prod/${image}` }, 'v1'))?.digest;

before(async () => {
  env = await startTestEnvironment('credentials', { registries: ['staging'] });
  dir = join(env.stateDir, 'credentials');
  mkdirSync(dir, { recursive: true });
  prod = await startProd(PW1);
  prodPort = Number(prod.host.split(':')[1]);
  hostile = await startHostileRegistry({ basicAuth: { username: 'attacker', password: 'wants-your-secrets' } });
  for (const seed of ['helper', 'scope-a', 'scope-b', 'rotated']) await pushImage(oci, { registry: env.registries.staging!, repository: `staging/${seed}` }, buildImage({ seed }));
  hostile.image('staging/bait', { tags: ['v1'] });

  // A docker-credential-helper, speaking the real protocol: `get` with the server URL on stdin, JSON on stdout.
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  helperLog = join(dir, 'helper.log');
  writeFileSync(
    join(bin, 'docker-credential-pftest'),
    `#!/bin/sh
[ "$1" = get ] || exit 2
read server
echo "$server" >> "${helperLog}"
if [ "$server" = "${prod.host}" ]; then echo '{"ServerURL":"${prod.host}","Username":"alice","Secret":"${PW1}"}'; exit 0; fi
echo "credentials not found in native keychain"; exit 1
`,
  );
  chmodSync(join(bin, 'docker-credential-pftest'), 0o755);
  writeFileSync(join(dir, 'docker-config.json'), JSON.stringify({ credHelpers: { [prod.host]: 'pftest' } }));
  secretFile = join(dir, 'prod-auth');
  writeFileSync(secretFile, `alice:${PW1}\n`, { mode: 0o600 });
  const config = join(dir, 'credentials.yaml');
  writeFileSync(
    config,
    `credentials:
  - {name: prod, hosts: ["${prod.host}"], file: {path: ${JSON.stringify(secretFile)}}}
  - {name: prod-stale, hosts: ["${prod.host}"], env: {username: STALE_USER, password: STALE_PASS}}
  - {name: helper-login, dockerConfig: {path: ${JSON.stringify(join(dir, 'docker-config.json'))}}}
`,
  );
  processEnv = {
    PROMOFLOW_CREDENTIALS: config,
    STALE_USER: 'alice',
    STALE_PASS: 'not-alices-password',
    CI_SECRET_TOKEN: CI_SECRET,
    // No machine docker config, and the helper on PATH.
    DOCKER_CONFIG: join(dir, 'no-docker-config'),
    PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
  };
  worker = startCliWorker(env, [], { env: processEnv });
  await worker.ready();
  client = await testClient(env);
});

after(async () => {
  await worker?.stop();
  await client?.connection.close();
  await hostile?.stop();
  await prod?.stop();
  await env?.cleanup();
});

describe('a manifest cannot send the planning host’s or the worker’s secrets to its own registry (finding 2)', () => {
  it('naming a configured credential for another host is refused before any request reaches that host', async () => {
    const bait = hostile.image('staging/bait', { tags: ['v1'] });
    const file = manifest('exfil-named', { image: 'bait', digest: bait.digest, source: `${hostile.host}/staging`, sourceCredentials: 'prod' });
    for (const args of [['plan', '-f', file], ['promote', '-f', file]]) {
      const r = await cli(args);
      assert.equal(r.code, EXIT.INVALID, `${args[0]}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`names credential "prod" for ${hostile.host.replace(/[.]/g, '\\.')}, but it is bound to ${prod.host.replace(/[.]/g, '\\.')}`));
      assert.doesNotMatch(r.stderr, /\n.*\n.*at /, 'no stack trace');
    }
    assert.deepEqual(hostile.authorizationsAt(hostile.host), [], 'no Authorization reached the hostile registry');
  });

  it('today’s manifest references ({kind: env|file}) are refused with what to write instead; nothing is sent', async () => {
    const before = hostile.requests.length;
    for (const ref of ['{kind: env, passwordEnv: CI_SECRET_TOKEN}', '{kind: file, path: /proc/self/environ}']) {
      const file = manifest('exfil-legacy', { image: 'bait', digest: `sha256:${'a'.repeat(64)}`, source: `${hostile.host}/staging`, sourceCredentials: ref });
      const r = await cli(['plan', '-f', file]);
      assert.equal(r.code, EXIT.INVALID, r.stdout + r.stderr);
      assert.match(r.stderr, /source\.credentials: .*which manifests may no longer hold.*expected credentials: <name> of a credential the worker’s credential configuration binds/);
    }
    assert.equal(hostile.requests.length, before, 'the manifest was refused before any request');
  });

  it('a registry nothing is bound to is read anonymously: its challenge gets no credential of this host', async () => {
    const bait = hostile.image('staging/bait', { tags: ['v1'] });
    const r = await cli(['plan', '-f', manifest('exfil-anon', { image: 'bait', digest: bait.digest, source: `${hostile.host}/staging` })]);
    assert.equal(r.code, EXIT.UNAVAILABLE, r.stdout + r.stderr);
    assert.match(r.stderr, /unauthorized|UNAUTHORIZED|credentials/i);
    assert.ok(hostile.requests.some((q) => q.host === hostile.host && q.status === 401), 'the hostile registry was asked and challenged');
    assert.deepEqual(hostile.authorizationsAt(hostile.host), []);
  });

  it('on the worker too: a run whose input names a credential for a host it is not bound to fails Unauthorized, sending nothing', async () => {
    const bait = hostile.image('staging/bait', { tags: ['v1'] });
    const input = twoPhaseRun(env, 'exfil-worker', [{ name: 'bait', digest: bait.digest }]);
    const run = { ...input, source: { registry: `${hostile.host}/staging`, credentials: 'prod' }, destinations: [{ name: 'prod', registry: `${prod.host}/prod`, credentials: 'prod' }], phases: [input.phases[0]!] };
    run.phases[0] = { ...run.phases[0]!, destinations: ['prod'] };
    const result = await (await startPromotion(client, run)).result();
    assert.equal(result.status, 'failed');
    assert.match(JSON.stringify(result.edges), /Unauthorized/);
    assert.match(JSON.stringify(result.edges), /bound to/);
    assert.deepEqual(hostile.authorizationsAt(hostile.host), []);
    assert.ok(!JSON.stringify(result).includes(PW1) && !JSON.stringify(result).includes(CI_SECRET));
  });
});

describe('docker-config works: credHelpers through the docker-credential-helper protocol (finding 8)', () => {
  it('promote --confirm to a protected registry with credentials from a credential helper, on the CLI host and the worker', async () => {
    const img = buildImage({ seed: 'helper' });
    const r = await cli(['promote', '-f', manifest('helper', { image: 'helper', digest: img.digest, prodCredentials: 'helper-login' }), '--confirm']);
    assert.equal(r.code, EXIT.OK, r.stdout + r.stderr);
    assert.equal(await atProd('helper', PW1), img.digest);
    const asked = readFileSync(helperLog, 'utf8').trim().split('\n');
    assert.ok(asked.length > 0 && asked.every((s) => s === prod.host), `the helper was asked for the production host only: ${asked.join(', ')}`);
  });
});

describe('credentials are scoped per run and rotation is picked up (finding 5)', () => {
  it('two runs naming two credentials for one host never share one: the stale one fails, the good one succeeds', async () => {
    const a = buildImage({ seed: 'scope-a' });
    const b = buildImage({ seed: 'scope-b' });
    const good = await cli(['promote', '-f', manifest('scope-a', { image: 'scope-a', digest: a.digest, prodCredentials: 'prod' }), '--confirm']);
    assert.equal(good.code, EXIT.OK, good.stdout + good.stderr);
    // The planning host reads prod with the manifest's credential too: promote the stale one through the worker only.
    const input = twoPhaseRun(env, 'scope-b', [{ name: 'scope-b', digest: b.digest }]);
    const result = await (
      await startPromotion(client, { ...input, destinations: [{ name: 'prod', registry: `${prod.host}/prod`, credentials: 'prod-stale' }], phases: [{ ...input.phases[0]!, destinations: ['prod'] }] })
    ).result();
    assert.equal(result.status, 'failed', 'the worker did not reuse run scope-a’s credential for this run');
    assert.match(JSON.stringify(result.edges), /Unauthorized/);
    assert.equal(await atProd('scope-a', PW1), a.digest);
    assert.equal(await atProd('scope-b', PW1), undefined);
  });

  it('a rotated password is picked up by the running worker (re-read after a 401)', async () => {
    // The registry's password changes and the secret file is updated; the worker keeps running.
    await prod.stop();
    prod = await startProd(PW2);
    writeFileSync(secretFile, `alice:${PW2}\n`);
    const img = buildImage({ seed: 'rotated' });
    const r = await cli(['promote', '-f', manifest('rotated', { image: 'rotated', digest: img.digest, prodCredentials: 'prod' }), '--confirm']);
    assert.equal(r.code, EXIT.OK, r.stdout + r.stderr);
    assert.equal(await atProd('rotated', PW2), img.digest);
  });
});
