// Key files: cosign.key (encrypted, cosign/sigstore PEM), plain or encrypted PKCS#8 and SEC1 PEM, key-pair
// generation that cosign accepts, and the local Signer over a loaded key. Key material stays inside KeyObjects:
// errors and logs only ever name the file kind, never its bytes.
import { createHash, createPrivateKey, createPublicKey, generateKeyPair as genKeyPairCb, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { openPrivateKey, sealPrivateKey, KeyDecryptionError } from './encrypted-key';
import type { Signer } from './signer';

export const SIGSTORE_KEY_PEM = 'ENCRYPTED SIGSTORE PRIVATE KEY';
export const COSIGN_KEY_PEM = 'ENCRYPTED COSIGN PRIVATE KEY';

export { KeyDecryptionError };

export class KeyFormatError extends Error {
  override name = 'KeyFormatError';
}

interface PemBlock {
  type: string;
  body: Buffer;
}

function firstPemBlock(text: string): PemBlock {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw new KeyFormatError('private key: no PEM block found');
  const type = m[1] as string;
  const lines = (m[2] as string).split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.some((l) => l.includes(':'))) throw new KeyFormatError(`private key: PEM headers are not supported (${type})`);
  return { type, body: Buffer.from(lines.join(''), 'base64') };
}

export function pemEncode(type: string, der: Uint8Array): string {
  const b = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b.length; i += 64) lines.push(b.slice(i, i + 64));
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

function assertP256(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new KeyFormatError(`${what}: only ECDSA P-256 keys are supported (got ${key.asymmetricKeyType ?? 'unknown'}${key.asymmetricKeyDetails?.namedCurve ? ' ' + key.asymmetricKeyDetails.namedCurve : ''})`);
  }
}

/** Fingerprint of the SubjectPublicKeyInfo, usable as a keyId (it says which key, not what it is). */
export function publicKeyFingerprint(pub: KeyObject): string {
  return 'sha256:' + createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** A Signer over an in-process P-256 private key. */
export class LocalKeySigner implements Signer {
  readonly algorithm = 'ecdsa-p256-sha256' as const;
  readonly keyId: string;
  readonly #key: KeyObject;
  readonly #publicPem: string;

  constructor(privateKey: KeyObject) {
    assertP256(privateKey, 'private key');
    this.#key = privateKey;
    const pub = createPublicKey(privateKey);
    this.#publicPem = pub.export({ type: 'spki', format: 'pem' }).toString();
    this.keyId = publicKeyFingerprint(pub);
  }

  publicKeyPem(): Promise<string> {
    return Promise.resolve(this.#publicPem);
  }

  sign(data: Buffer): Promise<Buffer> {
    return Promise.resolve(cryptoSign('sha256', data, { key: this.#key, dsaEncoding: 'der' }));
  }

  toJSON(): { keyId: string; algorithm: string } {
    return { keyId: this.keyId, algorithm: this.algorithm };
  }
}

/**
 * Parse a private key PEM: cosign/sigstore encrypted (password required, may be empty as with cosign),
 * "PRIVATE KEY" (PKCS#8), "EC PRIVATE KEY" (SEC1), "ENCRYPTED PRIVATE KEY" (PKCS#8, password).
 */
export async function loadPrivateKey(pem: string | Buffer, password?: string | Uint8Array): Promise<LocalKeySigner> {
  const text = typeof pem === 'string' ? pem : pem.toString('utf8');
  const block = firstPemBlock(text);
  let key: KeyObject;
  try {
    switch (block.type) {
      case SIGSTORE_KEY_PEM:
      case COSIGN_KEY_PEM: {
        if (password === undefined) throw new KeyDecryptionError('private key is encrypted: a password is required (COSIGN_PASSWORD)');
        const der = await openPrivateKey(block.body, password);
        try {
          key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
        } finally {
          der.fill(0);
        }
        break;
      }
      case 'PRIVATE KEY':
        key = createPrivateKey({ key: block.body, format: 'der', type: 'pkcs8' });
        break;
      case 'EC PRIVATE KEY':
        key = createPrivateKey({ key: block.body, format: 'der', type: 'sec1' });
        break;
      case 'ENCRYPTED PRIVATE KEY':
        if (password === undefined) throw new KeyDecryptionError('private key is encrypted: a password is required');
        key = createPrivateKey({ key: block.body, format: 'der', type: 'pkcs8', passphrase: Buffer.from(password) });
        break;
      default:
        throw new KeyFormatError(`unsupported private key PEM type ${JSON.stringify(block.type)}`);
    }
  } catch (err) {
    if (err instanceof KeyDecryptionError || err instanceof KeyFormatError) throw err;
    // Node's own messages are generic, but we replace them anyway so nothing derived from the input leaks.
    throw new KeyFormatError(`private key (${block.type}): could not be parsed`);
  }
  return new LocalKeySigner(key);
}

export async function loadPrivateKeyFile(path: string, password?: string | Uint8Array): Promise<LocalKeySigner> {
  return loadPrivateKey(await fs.readFile(path), password);
}

export function loadPublicKey(pem: string | Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new KeyFormatError('public key: not a PEM SubjectPublicKeyInfo');
  }
  assertP256(key, 'public key');
  return key;
}

export interface GeneratedKeyPair {
  /** cosign.key contents: "ENCRYPTED SIGSTORE PRIVATE KEY" PEM, as `cosign generate-key-pair` writes. */
  privateKeyPem: string;
  /** cosign.pub contents. */
  publicKeyPem: string;
  signer: LocalKeySigner;
}

export async function generateKeyPair(password: string | Uint8Array): Promise<GeneratedKeyPair> {
  const { privateKey, publicKey } = await new Promise<{ privateKey: KeyObject; publicKey: KeyObject }>((resolve, reject) =>
    genKeyPairCb('ec', { namedCurve: 'prime256v1' }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey }))),
  );
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const sealed = await sealPrivateKey(der, password);
  der.fill(0);
  return {
    privateKeyPem: pemEncode(SIGSTORE_KEY_PEM, sealed),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    signer: new LocalKeySigner(privateKey),
  };
}

/** Write cosign.key (0600) and cosign.pub into dir; refuses to overwrite an existing key. */
export async function writeKeyPair(dir: string, password: string | Uint8Array, prefix = 'cosign'): Promise<GeneratedKeyPair & { keyPath: string; pubPath: string }> {
  const pair = await generateKeyPair(password);
  await fs.mkdir(dir, { recursive: true });
  const keyPath = join(dir, `${prefix}.key`);
  const pubPath = join(dir, `${prefix}.pub`);
  await fs.writeFile(keyPath, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  await fs.writeFile(pubPath, pair.publicKeyPem, { mode: 0o644, flag: 'wx' });
  return { ...pair, keyPath, pubPath };
}

/** First-run helper: load dir/cosign.key, creating the pair if it does not exist yet. */
export async function loadOrCreateKeyPair(dir: string, password: string | Uint8Array, prefix = 'cosign'): Promise<{ signer: LocalKeySigner; keyPath: string; pubPath: string; created: boolean }> {
  const keyPath = join(dir, `${prefix}.key`);
  const pubPath = join(dir, `${prefix}.pub`);
  try {
    const signer = await loadPrivateKeyFile(keyPath, password);
    return { signer, keyPath, pubPath, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const w = await writeKeyPair(dir, password, prefix);
  return { signer: w.signer, keyPath, pubPath, created: true };
}
