// The sigstore trust root through TUF, offline: a TUF repository on loopback (src/testing/tuf-repository.ts) whose
// trusted_root.json is the mock Fulcio/Rekor's. Keyless sign + verify with no trustedRoot file, a refresh that picks
// up a new trusted root, and the offline fallbacks (cached root, then the configured file, else one error line).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyRing } from '../../src/signing/key-ring';
import { signStatementKeyless, verifyKeylessBundle } from '../../src/signing/keyless';
import { serializeBundle } from '../../src/signing/bundle';
import { serializeStatement, statement, subjectForDigest } from '../../src/signing/intoto';
import { PUBLIC_GOOD_TUF_MIRROR, TrustRootConfigError, trustRootConfigFromEnv, TrustRootUnavailableError, TufTrustRoot, type TrustRootConfig } from '../../src/signing/trust-root';
import { startMockSigstore, type MockSigstore } from '../../src/testing/sig-sigstore-mock';
import { startTufRepository, type LocalTufRepository } from '../../src/testing/tuf-repository';

const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const TOKEN = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'ci@example.com', iss: 'https://ci.example', aud: 'sigstore', exp: 4102444800 })}.c2ln`;
const D = 'sha256:' + '7c'.repeat(32);
const PREDICATE = 'https://slsa.dev/provenance/v1';
const IDENTITY = { subject: 'ci@example.com', issuer: 'https://ci.example' };

async function signWith(mock: MockSigstore): Promise<Buffer> {
  const st = serializeStatement(statement([subjectForDigest('prod.example/app', D)], PREDICATE, { x: 1 }));
  return serializeBundle(await signStatementKeyless(st, { fulcioURL: mock.url, rekorURL: mock.url, identityToken: TOKEN }));
}

describe('sigstore trust root through TUF (loopback repository + mock Fulcio/Rekor)', () => {
  let tmp: string;
  let mock: MockSigstore;
  let tuf: LocalTufRepository;
  let config: TrustRootConfig;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'promoflow-tuf-'));
    mock = await startMockSigstore();
    tuf = await startTufRepository(mock.trustedRoot);
    writeFileSync(join(tmp, 'root.json'), tuf.rootJson);
    config = { mirrorURL: tuf.url, tufRootFile: join(tmp, 'root.json'), cacheDir: join(tmp, 'cache'), maxAgeMs: 60_000, timeoutMs: 2000, retries: 0 };
  });
  after(async () => {
    await tuf?.stop();
    await mock?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('keyless sign + verify with no trustedRoot set: the key ring takes the root TUF delivers', async () => {
    const ring = new KeyRing(() => assert.fail('no file is read'), undefined, new TufTrustRoot(config));
    const bundle = await signWith(mock);
    assert.deepEqual(verifyKeylessBundle(bundle, await ring.trustedRoot(undefined), { digest: D, predicateType: PREDICATE, identity: IDENTITY }), { ok: true });
    const other = verifyKeylessBundle(bundle, await ring.trustedRoot(undefined), { digest: D, predicateType: PREDICATE, identity: { ...IDENTITY, subject: 'mallory@example.com' } });
    assert.equal(other.ok, false, 'the identity is still enforced');
    assert.ok(tuf.requests.includes('/timestamp.json') && tuf.requests.some((p) => /^\/targets\/[0-9a-f]{64}\.trusted_root\.json$/.test(p)), tuf.requests.join(' '));
  });

  it('a refresh picks up a new trusted root; until its age is reached the held one is used', async () => {
    const next = await startMockSigstore();
    try {
      let now = 1_000_000;
      const root = new TufTrustRoot({ ...config, cacheDir: join(tmp, 'cache-refresh') }, undefined, () => now);
      const bundle = await signWith(next);
      const check = async () => verifyKeylessBundle(bundle, await root.material(), { digest: D, predicateType: PREDICATE, identity: IDENTITY }).ok;
      assert.equal(await check(), false, 'signed by an instance the current root does not trust');
      tuf.publish(next.trustedRoot);
      const fetches = tuf.requests.length;
      now += 30_000;
      assert.equal(await check(), false, 'within maxAge: the held root, no request');
      assert.equal(tuf.requests.length, fetches);
      now += 30_000;
      assert.equal(await check(), true, 'past maxAge: TUF asked again, the new root verifies');
      assert.equal((await root.refresh()).source, 'tuf');
    } finally {
      tuf.publish(mock.trustedRoot);
      await next.stop();
    }
  });

  it('offline: the cached root, then the configured file; with neither, one error line naming what to set', async () => {
    const cacheDir = join(tmp, 'cache-offline');
    const online = new TufTrustRoot({ ...config, cacheDir });
    assert.equal((await online.refresh()).source, 'tuf');
    const bundle = await signWith(mock);
    const port = new URL(tuf.url).port;
    await tuf.stop();
    try {
      const logs: string[] = [];
      const offline = new TufTrustRoot({ ...config, cacheDir, fallbackFile: join(tmp, 'absent.json') }, (l) => logs.push(l));
      const cached = await offline.refresh();
      assert.equal(cached.source, 'cache');
      assert.deepEqual(verifyKeylessBundle(bundle, cached.material, { digest: D, predicateType: PREDICATE, identity: IDENTITY }), { ok: true });
      assert.match(logs[0] ?? '', /unreachable .*using the cached trusted root/);

      assert.ok(existsSync(offline.cachedFile));
      unlinkSync(offline.cachedFile);
      const file = join(tmp, 'trusted_root.json');
      writeFileSync(file, JSON.stringify(mock.trustedRoot));
      const fromFile = await new TufTrustRoot({ ...config, cacheDir, fallbackFile: file }).refresh();
      assert.equal(fromFile.source, 'file');
      assert.deepEqual(verifyKeylessBundle(bundle, fromFile.material, { digest: D, predicateType: PREDICATE, identity: IDENTITY }), { ok: true });

      await assert.rejects(new TufTrustRoot({ ...config, cacheDir }).refresh(), (e: unknown) => {
        assert.ok(e instanceof TrustRootUnavailableError);
        assert.doesNotMatch(e.message, /\n/);
        assert.match(e.message, new RegExp(`TUF repository http://127\\.0\\.0\\.1:${port} is unreachable \\(.+\\), nothing is cached in .* and PROMOFLOW_TRUSTED_ROOT is not set: .*set PROMOFLOW_TRUSTED_ROOT=path/to/trusted_root\\.json`));
        return true;
      });
      await assert.rejects(new TufTrustRoot({ ...config, cacheDir, fallbackFile: join(tmp, 'absent.json') }).refresh(), (e: unknown) => e instanceof TrustRootConfigError && /PROMOFLOW_TRUSTED_ROOT=.*absent\.json: cannot read it on the worker \(ENOENT\)/.test(e.message));
    } finally {
      tuf = await startTufRepository(mock.trustedRoot);
    }
  });
});

describe('trust-root settings from the worker environment', () => {
  it('defaults: the public-good repository (its root embedded in @sigstore/tuf), an XDG cache directory, 15 minutes', () => {
    const c = trustRootConfigFromEnv({ XDG_CACHE_HOME: '/x/cache' });
    assert.deepEqual([c.mirrorURL, c.tufRootFile, c.cacheDir, c.fallbackFile, c.maxAgeMs], [PUBLIC_GOOD_TUF_MIRROR, undefined, join('/x/cache', 'promoflow', 'tuf'), undefined, 900_000]);
    assert.equal(PUBLIC_GOOD_TUF_MIRROR, 'https://tuf-repo-cdn.sigstore.dev');
  });

  it('a private instance: mirror + its initial root; bad values are one line naming the variable and the fix', () => {
    const c = trustRootConfigFromEnv({ PROMOFLOW_TUF_MIRROR: 'https://tuf.internal.example', PROMOFLOW_TUF_ROOT: 'root.json', PROMOFLOW_TUF_CACHE: 'c', PROMOFLOW_TRUSTED_ROOT: 't.json', PROMOFLOW_TUF_REFRESH_SECONDS: '60' });
    assert.deepEqual([c.mirrorURL, c.tufRootFile, c.cacheDir, c.fallbackFile, c.maxAgeMs], ['https://tuf.internal.example', 'root.json', 'c', 't.json', 60_000]);
    const bad = (env: NodeJS.ProcessEnv, re: RegExp) => assert.throws(() => trustRootConfigFromEnv(env), (e: unknown) => e instanceof TrustRootConfigError && re.test(e.message) && !e.message.includes('\n'));
    bad({ PROMOFLOW_TUF_MIRROR: 'https://tuf.internal.example' }, /PROMOFLOW_TUF_MIRROR=https:\/\/tuf\.internal\.example needs PROMOFLOW_TUF_ROOT/);
    bad({ PROMOFLOW_TUF_MIRROR: 'http://tuf.internal.example', PROMOFLOW_TUF_ROOT: 'r' }, /is not HTTPS/);
    bad({ PROMOFLOW_TUF_MIRROR: 'tuf', PROMOFLOW_TUF_ROOT: 'r' }, /is not a URL/);
    bad({ PROMOFLOW_TUF_REFRESH_SECONDS: 'soon' }, /PROMOFLOW_TUF_REFRESH_SECONDS="soon" is not a number of seconds/);
  });
});
