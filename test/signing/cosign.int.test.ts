// Interop with the REAL cosign (v2 and v3): our keys, .sig and .att images against `cosign verify` /
// `verify-attestation`, and cosign's signatures against our verify.ts, on a local docker-registry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type LocalRegistry } from '../../src/dev/registry';
import { buildCosignImage, signatureLayer } from '../../src/signing/artifacts';
import { attestationTag, signatureTag } from '../../src/model';
import { loadPrivateKeyFile, loadPublicKey, writeKeyPair } from '../../src/signing/keys';
import { signImage, type SignedDigest } from '../../src/signing/sign-image';
import { simpleSigningPayload } from '../../src/signing/simple-signing';
import { planMirrorPush, readCosignImage } from '../../src/signing/replicate';
import { SLSA_PROVENANCE_V1 } from '../../src/signing/slsa-provenance';
import { requireSignedImage, verifyImageAttestations, verifyImageSignatures } from '../../src/signing/verify';
import { COSIGN_VERSIONS, findCosign, runCosign, type RunResult } from '../../src/dev/cosign';
import { SigTestRegistry } from '../../src/testing/sig-registry';

const PASSWORD = 'correct horse battery staple';
const anyCosign = COSIGN_VERSIONS.map(findCosign).find((c) => c.bin !== undefined);

describe('cosign interop (real cosign, real registry)', { skip: anyCosign ? false : `no cosign binary: ${COSIGN_VERSIONS.map((v) => findCosign(v).skip).join('; ')}` }, () => {
  let tmp: string;
  let local: LocalRegistry;
  let mirrorLocal: LocalRegistry;
  let mirror: SigTestRegistry;
  let reg: SigTestRegistry;
  let ourPub: string;
  let image: { digest: string };
  let index: { digest: string; children: string[] };
  let tampered: { digest: string };
  let foreignAtt: { digest: string };
  let unsigned: { digest: string };
  const repo = 'promoflow/app';

  const provenance = {
    sourceRepository: 'staging.example/app',
    destinations: ['prod.example/app:v1'],
    manifestPath: 'manifests/app/images.yaml',
    gitCommit: '0123456789abcdef0123456789abcdef01234567',
    promoflowVersion: '0.1.0',
    workflowId: 'promotion-abc',
    runId: 'run-1',
    startedOn: '2026-11-26T10:00:00Z',
    finishedOn: '2026-11-26T10:01:00Z',
  };

  async function push(signed: SignedDigest[]): Promise<void> {
    for (const s of signed) {
      await reg.pushArtifact(repo, s.signature.tag, s.signature);
      if (s.attestation) await reg.pushArtifact(repo, s.attestation.tag, s.attestation);
    }
  }

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'promoflow-cosign-'));
    local = await startRegistry({ name: 'cosign-interop', stateDir: join(tmp, 'state') });
    reg = new SigTestRegistry(local.host);
    const pair = await writeKeyPair(join(tmp, 'ours'), PASSWORD);
    ourPub = pair.pubPath;
    const dockerReference = `${local.host}/${repo}`;

    image = await reg.pushTinyImage(repo, 'v1', 'single');
    index = await reg.pushTinyIndex(repo, 'multi', 'multi');
    tampered = await reg.pushTinyImage(repo, 'tampered', 'tampered');
    foreignAtt = await reg.pushTinyImage(repo, 'foreign', 'foreign');
    unsigned = await reg.pushTinyImage(repo, 'unsigned', 'unsigned');

    await push((await signImage({ digest: image.digest, signer: pair.signer, dockerReference, provenance })).digests);
    const idx = await signImage({ digest: index.digest, children: index.children, signer: pair.signer, dockerReference, provenance });
    assert.equal(idx.digests.length, 3);
    await push(idx.digests);

    // Tampered: a valid signature over one payload, stored beside a payload claiming the same digest but edited.
    const good = simpleSigningPayload({ dockerReference, digest: tampered.digest });
    const sig = await pair.signer.sign(good);
    const edited = simpleSigningPayload({ dockerReference, digest: tampered.digest, annotations: { injected: 'yes' } });
    await reg.pushArtifact(repo, signatureTag(tampered.digest), buildCosignImage([signatureLayer(edited, sig)]));

    // Attestation for another digest: image's .att stored under foreignAtt's tag (and a valid .sig so only the att is wrong).
    const f = (await signImage({ digest: foreignAtt.digest, signer: pair.signer, dockerReference })).digests[0];
    assert.ok(f);
    await reg.pushArtifact(repo, f.signature.tag, f.signature);
    const imgAtt = (await signImage({ digest: image.digest, signer: pair.signer, dockerReference, provenance })).digests[0]?.attestation;
    assert.ok(imgAtt);
    await reg.pushArtifact(repo, attestationTag(foreignAtt.digest), imgAtt);

    // A mirror: the same image bytes, then the .sig/.att images replicated from the source registry.
    mirrorLocal = await startRegistry({ name: 'cosign-interop-mirror', stateDir: join(tmp, 'state') });
    mirror = new SigTestRegistry(mirrorLocal.host);
    assert.equal((await mirror.pushTinyImage(repo, 'v1', 'single')).digest, image.digest);
    // The mirror already holds a foreign signature layer: replication must merge, not overwrite.
    await mirror.pushArtifact(repo, signatureTag(image.digest), buildCosignImage([signatureLayer(simpleSigningPayload({ dockerReference, digest: image.digest }), Buffer.from('not-a-signature'))]));
    for (const tag of [signatureTag(image.digest), attestationTag(image.digest)]) {
      const source = await readCosignImage(reg.reader(repo), tag);
      assert.ok(source);
      const plan = await planMirrorPush(source, mirror.reader(repo), tag);
      assert.ok(plan);
      await mirror.pushArtifact(repo, tag, plan);
      assert.equal(await planMirrorPush(source, mirror.reader(repo), tag), null, 'replication is idempotent');
    }
    assert.deepEqual(await mirror.getManifest(repo, attestationTag(image.digest)), await reg.getManifest(repo, attestationTag(image.digest)), '.att copied byte-for-byte');
  });

  after(async () => {
    await local?.stop();
    await mirrorLocal?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('our in-process verifier accepts what we pushed and rejects the negatives', async () => {
    const r = reg.reader(repo);
    const pub = readFileSync(ourPub, 'utf8');
    for (const d of [image.digest, index.digest, ...index.children]) {
      assert.equal((await verifyImageSignatures(r, { publicKey: pub, digest: d, dockerReference: `${local.host}/${repo}` })).ok, true, d);
      assert.equal((await verifyImageAttestations(r, { publicKey: pub, digest: d, predicateType: SLSA_PROVENANCE_V1 })).ok, true, d);
    }
    assert.equal((await verifyImageSignatures(r, { publicKey: pub, digest: tampered.digest })).ok, false);
    const foreign = await verifyImageAttestations(r, { publicKey: pub, digest: foreignAtt.digest, predicateType: SLSA_PROVENANCE_V1 });
    assert.equal(foreign.ok, false);
    assert.match(foreign.reason ?? '', /no statement subject has digest/);
  });

  for (const version of COSIGN_VERSIONS) {
    const found = findCosign(version);
    describe(`cosign ${version}`, { skip: found.skip }, () => {
      const bin = found.bin as string;
      let home: string;
      let theirs: string;
      const cosign = (args: string[], env: Record<string, string> = {}): Promise<RunResult> => runCosign(bin, args, { home, cwd: home, env: { COSIGN_PASSWORD: PASSWORD, ...env } });
      const ref = (d: string): string => `${local.host}/${repo}@${d}`;
      // v3 signs into a sigstore bundle through a signing config by default; these flags ask for the legacy .sig.
      const legacySign = version.startsWith('v3') ? ['--use-signing-config=false', '--new-bundle-format=false'] : [];
      const ok = (r: RunResult, what: string): void => assert.equal(r.code, 0, `${what} failed:\n${r.stderr}\n${r.stdout}`);
      const fails = (r: RunResult, what: string): void => assert.notEqual(r.code, 0, `${what} unexpectedly passed:\n${r.stdout}`);
      const verify = (d: string, key = ourPub): Promise<RunResult> => cosign(['verify', '--key', key, '--insecure-ignore-tlog=true', '--allow-insecure-registry', ref(d)]);
      const verifyAtt = (d: string, key = ourPub): Promise<RunResult> =>
        cosign(['verify-attestation', '--key', key, '--insecure-ignore-tlog=true', '--type', 'slsaprovenance1', '--allow-insecure-registry', ref(d)]);

      before(async () => {
        home = mkdtempSync(join(tmp, `home-${version}-`));
        ok(await cosign(['generate-key-pair']), 'generate-key-pair');
        theirs = join(home, 'cosign.pub');
      });

      it('cosign generate-key-pair → our loader loads cosign.key and its signature verifies with cosign.pub', async () => {
        const signer = await loadPrivateKeyFile(join(home, 'cosign.key'), PASSWORD);
        assert.equal(await signer.publicKeyPem(), readFileSync(theirs, 'utf8'));
        const data = Buffer.from('hello');
        const sig = await signer.sign(data);
        const { verify } = await import('node:crypto');
        assert.equal(verify('sha256', data, loadPublicKey(readFileSync(theirs, 'utf8')), sig), true);
      });

      it('accepts our cosign.key (public-key --key prints our cosign.pub)', async () => {
        const r = await cosign(['public-key', '--key', join(tmp, 'ours', 'cosign.key')]);
        ok(r, 'public-key');
        assert.equal(r.stdout.trim(), readFileSync(ourPub, 'utf8').trim());
        fails(await cosign(['public-key', '--key', join(tmp, 'ours', 'cosign.key')], { COSIGN_PASSWORD: 'wrong' }), 'public-key with a wrong password');
      });

      it('verify --key passes for a single image and for the index and each child', async () => {
        for (const d of [image.digest, index.digest, ...index.children]) ok(await verify(d), `verify ${d}`);
      });

      it('verify-attestation --type slsaprovenance1 passes for a single image and for the index and each child', async () => {
        for (const d of [image.digest, index.digest, ...index.children]) {
          const r = await verifyAtt(d);
          ok(r, `verify-attestation ${d}`);
          assert.match(r.stdout, /"payloadType":"application\/vnd.in-toto\+json"/);
        }
      });

      it('verify and verify-attestation pass on the mirror (replicated, merged with a foreign layer)', async () => {
        const mref = `${mirrorLocal.host}/${repo}@${image.digest}`;
        ok(await cosign(['verify', '--key', ourPub, '--insecure-ignore-tlog=true', '--allow-insecure-registry', mref]), 'verify on mirror');
        ok(await cosign(['verify-attestation', '--key', ourPub, '--insecure-ignore-tlog=true', '--type', 'slsaprovenance1', '--allow-insecure-registry', mref]), 'verify-attestation on mirror');
      });

      it('negative: tampered payload, wrong key, attestation for another digest, unsigned', async () => {
        fails(await verify(tampered.digest), 'verify tampered');
        fails(await verify(image.digest, theirs), 'verify with the wrong key');
        fails(await verifyAtt(image.digest, theirs), 'verify-attestation with the wrong key');
        ok(await verify(foreignAtt.digest), 'verify foreign (signature is fine)');
        fails(await verifyAtt(foreignAtt.digest), 'verify-attestation of an attestation for another digest');
        fails(await verify(unsigned.digest), 'verify unsigned');
      });

      it('an image signed by `cosign sign --key` passes our source policy; an unsigned one is refused', async () => {
        const target = await reg.pushTinyImage(repo, `cosign-signed-${version}`, `cosign-signed-${version}`);
        ok(await cosign(['sign', '--key', join(home, 'cosign.key'), '--tlog-upload=false', ...legacySign, '--allow-insecure-registry', ref(target.digest)]), 'cosign sign');
        const pub = readFileSync(theirs, 'utf8');
        await requireSignedImage(reg.reader(repo), `${local.host}/${repo}`, { publicKey: pub, digest: target.digest, dockerReference: `${local.host}/${repo}` });
        await assert.rejects(requireSignedImage(reg.reader(repo), `${local.host}/${repo}`, { publicKey: pub, digest: unsigned.digest }), /not signed by the trusted key: no signature/);
        await assert.rejects(requireSignedImage(reg.reader(repo), `${local.host}/${repo}`, { publicKey: readFileSync(ourPub, 'utf8'), digest: target.digest }), /does not verify/);
      });

      it('our cosign.key is usable by `cosign sign --key`, and we verify the result', async () => {
        const target = await reg.pushTinyImage(repo, `ours-by-cosign-${version}`, `ours-by-cosign-${version}`);
        ok(await cosign(['sign', '--key', join(tmp, 'ours', 'cosign.key'), '--tlog-upload=false', ...legacySign, '--allow-insecure-registry', ref(target.digest)]), 'cosign sign with our key');
        assert.equal((await verifyImageSignatures(reg.reader(repo), { publicKey: readFileSync(ourPub, 'utf8'), digest: target.digest })).ok, true);
      });
    });
  }
});

