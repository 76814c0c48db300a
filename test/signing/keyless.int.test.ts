// Keyless bundles (mock Fulcio + Rekor on loopback) pushed as referrers to a local registry and verified by the
// real cosign with the mock's trusted root: identity and issuer enforced, fully offline.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type LocalRegistry } from '../../src/dev/registry';
import { signImageKeyless } from '../../src/signing/keyless';
import { startMockSigstore, type MockSigstore } from '../../src/testing/sig-sigstore-mock';
import { SigTestRegistry } from '../../src/testing/sig-registry';
import { COSIGN_VERSIONS, findCosign, runCosign } from '../../src/dev/cosign';

const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const TOKEN = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'ci@example.com', iss: 'https://ci.example', aud: 'sigstore', exp: 4102444800 })}.c2ln`;
const anyCosign = COSIGN_VERSIONS.some((v) => findCosign(v).bin);

describe('keyless bundles verified by the real cosign (offline, mock trusted root)', { skip: anyCosign ? false : 'no cosign binary built yet' }, () => {
  let tmp: string;
  let local: LocalRegistry;
  let mock: MockSigstore;
  let ref: string;
  let root: string;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'promoflow-keyless-'));
    local = await startRegistry({ name: 'keyless', stateDir: join(tmp, 'state') });
    mock = await startMockSigstore();
    const reg = new SigTestRegistry(local.host);
    const img = await reg.pushTinyImage('k/app', 'v1', 'keyless');
    const provenance = { sourceRepository: 's.example/a', destinations: ['p.example/a'], manifestPath: 'm.yaml', promoflowVersion: '0.1.0', workflowId: 'w', runId: 'r', startedOn: '2026-11-26T10:00:00Z', finishedOn: '2026-11-26T10:00:01Z' };
    const [out] = await signImageKeyless({ subjects: [img], created: '2026-11-26T10:00:01Z', provenance, keyless: { fulcioURL: mock.url, rekorURL: mock.url, identityToken: TOKEN } });
    assert.ok(out);
    for (const r of out.referrers) await reg.pushReferrer('k/app', r.artifact);
    root = join(tmp, 'trusted_root.json');
    writeFileSync(root, JSON.stringify(mock.trustedRoot));
    ref = `${local.host}/k/app@${img.digest}`;
  });

  after(async () => {
    await mock?.stop();
    await local?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  for (const version of COSIGN_VERSIONS) {
    const found = findCosign(version);
    it(`cosign ${version}: verify and verify-attestation pass for the identity, fail for another`, { skip: found.skip }, async () => {
      const run = (args: string[], identity = 'ci@example.com') =>
        runCosign(found.bin as string, [...args, '--trusted-root', root, '--certificate-identity', identity, '--certificate-oidc-issuer', 'https://ci.example', '--allow-insecure-registry', ref], { home: tmp });
      for (const args of [['verify'], ['verify-attestation', '--type', 'slsaprovenance1']]) {
        const r = await run(args);
        assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
        assert.notEqual((await run(args, 'mallory@example.com')).code, 0, `${args[0]} with another identity`);
      }
    });
  }
});
