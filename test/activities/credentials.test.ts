// Per-run registry scopes on the worker: each activity's client sees only the credentials its endpoints' hosts are
// bound to in the operator's configuration, and only the `insecure` its own endpoints declare; a manifest can at
// most name a configured credential, and one bound to another host is refused.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActivityDeps } from '../../src/activities';
import { CredentialBindingError, CredentialBindings, CredentialConfigError } from '../../src/oci';

const dir = mkdtempSync(join(tmpdir(), 'promoflow-test-scopes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const ENV = { PROD_USER: 'robot', PROD_PASS: 'prod-s3cret', TEMPORAL_API_KEY: 'temporal-key', DOCKER_CONFIG: join(dir, 'no-docker') };

test('a registry marked insecure gets plain HTTP only in the scope of the run that marked it', () => {
  const deps = createActivityDeps({ bindings: CredentialBindings.none() });
  const a = deps.scopes.clientFor({ registry: 'registry.internal:5000/mirror', insecure: true });
  const b = deps.scopes.clientFor({ registry: 'registry.internal:5000/mirror' });
  assert.equal(a.plainHttpAllowed('registry.internal:5000'), true);
  assert.equal(b.plainHttpAllowed('registry.internal:5000'), false, 'another run, same host, not insecure');
  assert.equal(a.plainHttpAllowed('other.internal:5000'), false);
  assert.equal(b.plainHttpAllowed('127.0.0.1:5000'), true, 'loopback always may');
});

test('bindings: a credential is handed out only for its hosts; a manifest may name it, never another host’s', async () => {
  const path = config('creds.yaml', 'credentials:\n  - name: prod\n    hosts: [registry.example.com]\n    env: {username: PROD_USER, password: PROD_PASS}\n');
  const b = CredentialBindings.load({ path, env: ENV });
  assert.deepEqual(await b.choose('registry.example.com', undefined, { strict: true }).source('registry.example.com'), { username: 'robot', password: 'prod-s3cret' });
  assert.deepEqual(await b.choose('registry.example.com', 'prod', { strict: true }).source('registry.example.com'), { username: 'robot', password: 'prod-s3cret' });
  // The attacker's registry: nothing is bound to it, and naming prod for it is refused (worker and planning host).
  assert.equal(await b.choose('evil.example.net', undefined, { strict: true }).source('evil.example.net'), undefined);
  for (const strict of [true, false]) assert.throws(() => b.choose('evil.example.net', 'prod', { strict }), (e: unknown) => e instanceof CredentialBindingError && /bound to registry\.example\.com/.test((e as Error).message) && !/s3cret/.test((e as Error).message));
  // A name this host does not define: the worker refuses; a planning host without that secret reads anonymously.
  assert.throws(() => b.choose('registry.example.com', 'nope', { strict: true }), /does not define/);
  assert.deepEqual(await b.choose('registry.example.com', 'nope', { strict: false }).source('registry.example.com'), { username: 'robot', password: 'prod-s3cret' });
  // A choice answers only for its own host, whatever the client asks.
  assert.equal(await b.choose('registry.example.com', 'prod', { strict: true }).source('evil.example.net'), undefined);
});

test('scopes: the same host with another credential name or insecure never shares a client; identical scopes do', () => {
  const path = config('two.yaml', 'credentials:\n  - {name: ro, hosts: [r.example], env: {token: PROD_PASS}}\n  - {name: rw, hosts: [r.example], env: {token: PROD_USER}}\n');
  const deps = createActivityDeps({ bindings: CredentialBindings.load({ path, env: ENV }) });
  const ro = deps.scopes.clientFor({ registry: 'r.example/a', credentials: 'ro' });
  assert.equal(deps.scopes.clientFor({ registry: 'r.example/b', credentials: 'ro' }), ro);
  assert.notEqual(deps.scopes.clientFor({ registry: 'r.example/a', credentials: 'rw' }), ro);
  assert.notEqual(deps.scopes.clientFor({ registry: 'r.example/a', credentials: 'ro', insecure: true }), ro);
  assert.throws(() => deps.scopes.clientFor({ registry: 'r.example/a', credentials: 'ro' }, { registry: 'r.example/b', credentials: 'rw' }), /two credentials/);
});

test('a run started with a manifest credential reference is refused on the worker, naming what to do', () => {
  const deps = createActivityDeps({ bindings: CredentialBindings.none() });
  const legacy = { registry: 'r.example/a', credentials: { kind: 'env', passwordEnv: 'TEMPORAL_API_KEY' } } as unknown as { registry: string };
  assert.throws(() => deps.scopes.clientFor(legacy), (e: unknown) => e instanceof CredentialBindingError && /credentials: <name>/.test((e as Error).message));
});

test('file, docker-config file and helper sources; secrets re-read on every read (rotation)', async () => {
  const secret = config('prod-auth', 'robot:first\n');
  const token = config('prod-token', 'tok-1');
  const dockercfg = config('docker.json', JSON.stringify({ auths: { 'a.example': { auth: Buffer.from('da:dp').toString('base64') }, 'b.example': { auth: Buffer.from('db:dq').toString('base64') } } }));
  const path = config('files.yaml', [
    'credentials:',
    `  - {name: basic, hosts: [p.example], file: {path: ${JSON.stringify(secret)}}}`,
    `  - {name: tok, hosts: [t.example], file: {path: ${JSON.stringify(token)}, format: token}}`,
    `  - {name: dcfg, hosts: [a.example], file: {path: ${JSON.stringify(dockercfg)}, format: docker-config}}`,
    '  - {name: gcr, hosts: [gcr.example], helper: fake}',
  ].join('\n'));
  const asked: string[] = [];
  const b = CredentialBindings.load({ path, env: ENV, run: async (helper, server) => (asked.push(`${helper} ${server}`), { username: 'oauth2accesstoken', secret: 'ya29' }) });
  const read = (host: string) => b.choose(host, undefined, { strict: true }).source(host);
  assert.deepEqual(await read('p.example'), { username: 'robot', password: 'first' });
  writeFileSync(secret, 'robot:second\n');
  assert.deepEqual(await read('p.example'), { username: 'robot', password: 'second' });
  assert.deepEqual(await read('t.example'), { token: 'tok-1' });
  assert.deepEqual(await read('a.example'), { username: 'da', password: 'dp' });
  // The docker config file also holds b.example's auth, but this binding is bound to a.example only.
  assert.equal(await read('b.example'), undefined);
  assert.deepEqual(await read('gcr.example'), { username: 'oauth2accesstoken', password: 'ya29' });
  assert.deepEqual(asked, ['fake gcr.example']);
});

test('a bad credential configuration is one line naming the file, the field, the value and the fix', () => {
  const cases: Array<[string, RegExp]> = [
    ['credentials:\n  - {name: prod, env: {token: X}}\n', /credentials\.0\.hosts: is required: the registry hosts this credential may be sent to/],
    ['credentials:\n  - {name: prod, hosts: ["https://r.example"], env: {token: X}}\n', /credentials\.0\.hosts\.0 \(value "https:\/\/r\.example"\): a host is host\[:port\]/],
    ['credentials:\n  - {name: prod, hosts: [r.example], env: {token: X}, helper: gcloud}\n', /needs exactly one of env, file, dockerConfig or helper \(has env, helper\)/],
    ['credentials:\n  - {name: a, hosts: [r.example], env: {token: X}}\n  - {name: a, hosts: [s.example], env: {token: Y}}\n', /credentials\.1\.name \(value "a"\): a is declared twice/],
  ];
  for (const [text, re] of cases) {
    const path = config('bad.yaml', text);
    assert.throws(() => CredentialBindings.load({ path, env: ENV }), (e: unknown) => e instanceof CredentialConfigError && re.test((e as Error).message) && (e as Error).message.startsWith(path) && !(e as Error).message.includes('\n'));
  }
});
