import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type LocalRegistry } from '../../src/dev/registry';
import { copyImage, getManifest, headManifest, OciError, RegistryClient, UnauthorizedError } from '../../src/oci';
import { type RepositoryRef } from '../../src/model';
import { dockerConfigCredentials, staticCredentials } from '../../src/oci/credentials';
import { writeHtpasswd } from '../../src/testing/htpasswd';
import { startTokenServer, type TokenServer } from '../../src/testing/token-server';
import { buildImage, pushImage } from '../../src/dev/sample-images';

let dir: string;
const stops: Array<() => Promise<void>> = [];
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'promoflow-test-oci-auth-'));
});
after(async () => {
  for (const s of stops.reverse()) await s();
  rmSync(dir, { recursive: true, force: true });
});

function secretFree(e: unknown, ...secrets: string[]): boolean {
  const text = `${String(e)} ${(e as Error).stack ?? ''}`;
  return secrets.every((s) => !text.includes(s) && !text.includes(Buffer.from(s).toString('base64')));
}

describe('htpasswd (Basic)', () => {
  let reg: LocalRegistry;
  const PASSWORD = 's3cret-Pa55';
  before(async () => {
    const path = writeHtpasswd(join(dir, 'htpasswd'), { alice: PASSWORD });
    reg = await startRegistry({ name: 'basic', stateDir: dir, auth: { kind: 'htpasswd', realm: 'promoflow', path } });
    stops.push(() => reg.stop());
  });

  test('anonymous is refused with a typed, non-retryable error naming the registry', async () => {
    const c = new RegistryClient();
    const repo: RepositoryRef = { registry: reg.host, repository: 'app' };
    await assert.rejects(getManifest(c, repo, 'latest'), (e: unknown) => e instanceof UnauthorizedError && !e.retryable && e.message.includes(reg.host));
    c.close();
  });

  test('wrong password is refused, and the message carries no secret', async () => {
    const c = new RegistryClient({ credentials: staticCredentials({ [reg.host]: { username: 'alice', password: 'wrong-one' } }) });
    await assert.rejects(pushImage(c, { registry: reg.host, repository: 'app' }, buildImage({ seed: 'basic-wrong' })), (e: unknown) => e instanceof UnauthorizedError && secretFree(e, 'wrong-one'));
    c.close();
  });

  test('credentials from docker config.json: push, copy with mount, read back', async () => {
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ auths: { [`http://${reg.host}`]: { auth: Buffer.from(`alice:${PASSWORD}`).toString('base64') } } }));
    const c = new RegistryClient({ credentials: dockerConfigCredentials({ path: cfg }) });
    const img = buildImage({ seed: 'basic', layers: 2 });
    const src = { registry: reg.host, repository: 'team/app' };
    await pushImage(c, src, img, ['v1']);
    const res = await copyImage(c, { ...src, digest: img.digest }, [{ repo: { registry: reg.host, repository: 'prod/app' }, tags: ['v1'] }]);
    assert.equal(res.destinations[0]!.blobsMounted, img.blobs.length);
    assert.equal((await headManifest(c, { registry: reg.host, repository: 'prod/app' }, 'v1'))?.digest, img.digest);
    c.close();
  });
});

describe('token auth (ES256 JWT, x5c)', () => {
  let reg: LocalRegistry;
  let ts: TokenServer;
  before(async () => {
    ts = await startTokenServer({
      service: 'promoflow-registry',
      certPath: join(dir, 'token-root.pem'),
      users: { bob: 'bob-pass', reader: 'reader-pass' },
      refreshTokens: { 'refresh-abc': 'bob' },
      policy: (user, _repo, requested) => (user === 'bob' ? requested : requested.filter((a) => a === 'pull')),
    });
    stops.push(() => ts.stop());
    reg = await startRegistry({ name: 'token', stateDir: dir, auth: { kind: 'token', realm: ts.realm, service: ts.service, issuer: ts.issuer, rootCertBundle: ts.rootCertBundle } });
    stops.push(() => reg.stop());
  });

  test('push and cross-repository mount with one merged-scope token; tokens are cached', async () => {
    const c = new RegistryClient({ credentials: staticCredentials({ [reg.host]: { username: 'bob', password: 'bob-pass' } }) });
    const img = buildImage({ seed: 'token', layers: 3 });
    const src = { registry: reg.host, repository: 'staging/app' };
    await pushImage(c, src, img, ['v1']);
    const before = ts.requests.length;
    const res = await copyImage(c, { ...src, digest: img.digest }, [{ repo: { registry: reg.host, repository: 'prod/app' }, tags: ['v1'] }]);
    assert.equal(res.destinations[0]!.blobsMounted, img.blobs.length, 'mount needs pull on the source and push on the destination in one token');
    const mountTokens = ts.requests.slice(before).filter((r) => r.scopes.includes('repository:staging/app:pull') && r.scopes.includes('repository:prod/app:pull,push'));
    assert.ok(mountTokens.length >= 1);
    // Dozens of registry requests, a handful of token requests: one per distinct scope set.
    assert.ok(ts.requests.slice(before).length <= 5, `token requests: ${ts.requests.slice(before).length}`);
    assert.ok(ts.requests.every((r) => r.user === undefined || r.user === 'bob'));
    c.close();
  });

  test('anonymous pull works; push without the right is a non-retryable UnauthorizedError', async () => {
    const bob = new RegistryClient({ credentials: staticCredentials({ [reg.host]: { username: 'bob', password: 'bob-pass' } }) });
    const img = buildImage({ seed: 'anon' });
    await pushImage(bob, { registry: reg.host, repository: 'pub/app' }, img, ['v1']);
    const anon = new RegistryClient();
    assert.equal((await getManifest(anon, { registry: reg.host, repository: 'pub/app' }, 'v1')).digest, img.digest);
    const reader = new RegistryClient({ credentials: staticCredentials({ [reg.host]: { username: 'reader', password: 'reader-pass' } }) });
    await assert.rejects(
      copyImage(reader, { registry: reg.host, repository: 'pub/app', digest: img.digest }, [{ repo: { registry: reg.host, repository: 'other/app' }, tags: [] }]),
      (e: unknown) => e instanceof UnauthorizedError && !e.retryable && secretFree(e, 'reader-pass'),
    );
    for (const c of [bob, anon, reader]) c.close();
  });

  test('identity (refresh) token from a docker config is exchanged with the OAuth2 POST flow', async () => {
    const cfg = join(dir, 'config-identity.json');
    writeFileSync(cfg, JSON.stringify({ auths: { [reg.host]: { identitytoken: 'refresh-abc' } } }));
    const c = new RegistryClient({ credentials: dockerConfigCredentials({ path: cfg }) });
    const img = buildImage({ seed: 'identity' });
    await pushImage(c, { registry: reg.host, repository: 'idt/app' }, img);
    assert.ok(ts.requests.some((r) => r.method === 'POST' && r.grant === 'refresh_token' && r.user === 'bob'));
    c.close();
  });

  test('an invalid credential is an error without the secret', async () => {
    const c = new RegistryClient({ credentials: staticCredentials({ [reg.host]: { username: 'bob', password: 'not-bobs' } }) });
    await assert.rejects(getManifest(c, { registry: reg.host, repository: 'pub/app' }, 'v1'), (e: unknown) => e instanceof OciError && !e.retryable && secretFree(e, 'not-bobs'));
    c.close();
  });
});
