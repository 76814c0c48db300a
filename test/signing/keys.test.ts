import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, loadOrCreateKeyPair, loadPrivateKey, loadPublicKey, KeyDecryptionError, KeyFormatError, pemEncode } from '../../src/signing/keys';
import { openPrivateKey, sealPrivateKey } from '../../src/signing/encrypted-key';

describe('encrypted key container', () => {
  it('round-trips and refuses a wrong password without echoing anything secret', async () => {
    const secret = Buffer.from('pkcs8-bytes-here');
    const sealed = await sealPrivateKey(secret, 'pw');
    const json = JSON.parse(sealed.toString()) as { kdf: { params: unknown; salt: string }; cipher: { nonce: string } };
    assert.deepEqual(json.kdf.params, { N: 65536, r: 8, p: 1 });
    assert.equal(Buffer.from(json.kdf.salt, 'base64').length, 32);
    assert.equal(Buffer.from(json.cipher.nonce, 'base64').length, 24);
    assert.deepEqual(await openPrivateKey(sealed, 'pw'), secret);
    await assert.rejects(openPrivateKey(sealed, 'nope'), (e: Error) => e instanceof KeyDecryptionError && !e.message.includes('pkcs8') && !e.message.includes('nope'));
  });

  it('refuses scrypt parameters cosign would refuse (bounds memory)', async () => {
    const sealed = JSON.parse((await sealPrivateKey(Buffer.from('x'), 'pw')).toString()) as { kdf: { params: { N: number } } };
    sealed.kdf.params.N = 1 << 22;
    await assert.rejects(openPrivateKey(Buffer.from(JSON.stringify(sealed)), 'pw'), /unsupported scrypt parameters/);
  });
});

describe('keys', () => {
  it('generates a cosign-style encrypted key that loads back and signs verifiably', async () => {
    const pair = await generateKeyPair('pw');
    assert.match(pair.privateKeyPem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    assert.match(pair.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
    const signer = await loadPrivateKey(pair.privateKeyPem, 'pw');
    assert.equal(await signer.publicKeyPem(), pair.publicKeyPem);
    const sig = await signer.sign(Buffer.from('data'));
    assert.equal(verify('sha256', Buffer.from('data'), loadPublicKey(pair.publicKeyPem), sig), true);
    assert.equal(sig[0], 0x30, 'DER SEQUENCE');
    await assert.rejects(loadPrivateKey(pair.privateKeyPem), /password is required/);
    await assert.rejects(loadPrivateKey(pair.privateKeyPem.replace(/SIGSTORE/g, 'COSIGN'), 'bad'), KeyDecryptionError);
    assert.equal((await loadPrivateKey(pair.privateKeyPem.replace(/SIGSTORE/g, 'COSIGN'), 'pw')).keyId, signer.keyId);
  });

  it('loads PKCS#8 and SEC1 PEM, refuses other curves, and never leaks key bytes in errors or JSON', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const sec1 = privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    const a = await loadPrivateKey(pkcs8);
    const b = await loadPrivateKey(sec1);
    assert.equal(a.keyId, b.keyId);
    assert.deepEqual(JSON.parse(JSON.stringify(a)), { keyId: a.keyId, algorithm: 'ecdsa-p256-sha256' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await assert.rejects(loadPrivateKey(p384), /only ECDSA P-256/);
    const body = pkcs8.split('\n')[1] as string;
    const broken = pemEncode('PRIVATE KEY', Buffer.concat([Buffer.from(body, 'base64').subarray(0, 40), Buffer.alloc(10)]));
    await assert.rejects(loadPrivateKey(broken), (e: Error) => e instanceof KeyFormatError && !e.message.includes(body.slice(0, 20)));
    await assert.rejects(loadPrivateKey('-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n'), /unsupported private key PEM type/);
  });

  it('loadOrCreateKeyPair creates cosign.key (0600) once and then reuses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'promoflow-keys-'));
    try {
      const first = await loadOrCreateKeyPair(dir, 'pw');
      assert.equal(first.created, true);
      assert.equal(statSync(first.keyPath).mode & 0o777, 0o600);
      const second = await loadOrCreateKeyPair(dir, 'pw');
      assert.equal(second.created, false);
      assert.equal(second.signer.keyId, first.signer.keyId);
      await assert.rejects(loadOrCreateKeyPair(dir, 'wrong'), KeyDecryptionError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
