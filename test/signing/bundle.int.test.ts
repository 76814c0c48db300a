// Sigstore bundle v0.3 referrers (cosign v3's default format) written by us, read by the real cosign, and the
// other way round: `cosign sign` v3 bundles verified in process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type LocalRegistry } from '../../src/dev/registry';
import { writeKeyPair } from '../../src/signing/keys';
import { signImage } from '../../src/signing/sign-image';
import { SLSA_PROVENANCE_V1 } from '../../src/signing/slsa-provenance';
import { COSIGN_SIGN_PREDICATE } from '../../src/signing/bundle';
import { verifyImageBundles, verifyImageSignatures } from '../../src/signing/verify';
import { findCosign, runCosign, type RunResult } from '../../src/dev/cosign';
import { SigTestRegistry } from '../../src/testing/sig-registry';

const PASSWORD = 'pw';
const v3 = findCosign('v3.1.2');
const v2 = findCosign('v2.6.4');

describe('sigstore bundle referrers (real cosign)', { skip: v3.skip }, () => {
  let tmp: string;
  let local: LocalRegistry;
  let reg: SigTestRegistry;
  let pub: string;
  let image: { digest: string; size: number; mediaType: string };
  const repo = 'promoflow/bundled';
  const cosign = (bin: string, args: string[]): Promise<RunResult> => runCosign(bin, args, { home: tmp, cwd: tmp, env: { COSIGN_PASSWORD: PASSWORD } });
  const ok = (r: RunResult, what: string): void => assert.equal(r.code, 0, `${what} failed:\n${r.stderr}\n${r.stdout}`);

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'promoflow-bundle-'));
    local = await startRegistry({ name: 'bundle-interop', stateDir: join(tmp, 'state') });
    reg = new SigTestRegistry(local.host);
    const pair = await writeKeyPair(join(tmp, 'ours'), PASSWORD);
    pub = pair.pubPath;
    image = await reg.pushTinyImage(repo, 'v1', 'bundled');
    const out = await signImage({
      digest: image.digest,
      signer: pair.signer,
      dockerReference: `${local.host}/${repo}`,
      provenance: { sourceRepository: 'staging.example/app', destinations: [`${local.host}/${repo}:v1`], manifestPath: 'images.yaml', promoflowVersion: '0.1.0', workflowId: 'wf', runId: 'r', startedOn: '2026-11-26T10:00:00Z', finishedOn: '2026-11-26T10:00:01Z' },
      bundles: { created: '2026-11-26T10:00:01Z', subjects: [image] },
    });
    const signed = out.digests[0];
    assert.ok(signed?.attestation && signed.referrers?.length === 2);
    await reg.pushArtifact(repo, signed.signature.tag, signed.signature);
    await reg.pushArtifact(repo, signed.attestation.tag, signed.attestation);
    for (const r of signed.referrers) await reg.pushReferrer(repo, r.artifact);
    // Idempotent: listing the same referrer again changes nothing.
    const before = await reg.getManifest(repo, `sha256-${image.digest.slice(7)}`);
    for (const r of signed.referrers) await reg.pushReferrer(repo, r.artifact);
    assert.deepEqual(await reg.getManifest(repo, `sha256-${image.digest.slice(7)}`), before);
  });

  after(async () => {
    await local?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('our bundles verify in process (sign statement and SLSA), and not with another key', async () => {
    const key = readFileSync(pub, 'utf8');
    assert.equal((await verifyImageBundles(reg.reader(repo), { publicKey: key, digest: image.digest, predicateType: COSIGN_SIGN_PREDICATE })).ok, true);
    assert.equal((await verifyImageBundles(reg.reader(repo), { publicKey: key, digest: image.digest, predicateType: SLSA_PROVENANCE_V1 })).ok, true);
    const other = await writeKeyPair(join(tmp, 'other'), PASSWORD);
    assert.equal((await verifyImageBundles(reg.reader(repo), { publicKey: other.publicKeyPem, digest: image.digest })).ok, false);
  });

  it('cosign v3.1.2 verify and verify-attestation --type slsaprovenance1 accept our bundles (and refuse a wrong key)', async () => {
    const ref = `${local.host}/${repo}@${image.digest}`;
    ok(await cosign(v3.bin as string, ['verify', '--key', pub, '--insecure-ignore-tlog=true', '--allow-insecure-registry', ref]), 'verify');
    ok(await cosign(v3.bin as string, ['verify-attestation', '--key', pub, '--insecure-ignore-tlog=true', '--type', 'slsaprovenance1', '--allow-insecure-registry', ref]), 'verify-attestation');
    const other = await writeKeyPair(join(tmp, 'other3'), PASSWORD);
    assert.notEqual((await cosign(v3.bin as string, ['verify', '--key', other.pubPath, '--insecure-ignore-tlog=true', '--allow-insecure-registry', ref])).code, 0);
  });

  it('cosign v2.6.4 switches to the bundles when present; offline it needs --trusted-root', { skip: v2.skip }, async () => {
    const ref = `${local.host}/${repo}@${image.digest}`;
    const bare = await cosign(v2.bin as string, ['verify', '--key', pub, '--insecure-ignore-tlog=true', '--allow-insecure-registry', ref]);
    assert.notEqual(bare.code, 0);
    assert.match(bare.stderr, /trusted root is required/);
    const root = join(tmp, 'trusted_root.json');
    writeFileSync(root, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' }));
    ok(await cosign(v2.bin as string, ['verify', '--key', pub, '--insecure-ignore-tlog=true', '--trusted-root', root, '--allow-insecure-registry', ref]), 'v2 verify with an empty trusted root');
    ok(await cosign(v2.bin as string, ['verify-attestation', '--key', pub, '--insecure-ignore-tlog=true', '--trusted-root', root, '--type', 'slsaprovenance1', '--allow-insecure-registry', ref]), 'v2 verify-attestation with an empty trusted root');
  });

  it('an image signed by cosign v3 in bundle format verifies in process', async () => {
    const target = await reg.pushTinyImage(repo, 'cosign-v3-bundle', 'cosign-v3-bundle');
    const theirs = await writeKeyPair(join(tmp, 'theirs'), PASSWORD);
    ok(await cosign(v3.bin as string, ['sign', '--key', theirs.keyPath, '--use-signing-config=false', '--tlog-upload=false', '--allow-insecure-registry', `${local.host}/${repo}@${target.digest}`]), 'cosign v3 sign');
    assert.equal((await verifyImageBundles(reg.reader(repo), { publicKey: theirs.publicKeyPem, digest: target.digest, predicateType: COSIGN_SIGN_PREDICATE })).ok, true);
    assert.equal((await verifyImageSignatures(reg.reader(repo), { publicKey: theirs.publicKeyPem, digest: target.digest })).ok, false, 'no legacy .sig was written');
  });
});
