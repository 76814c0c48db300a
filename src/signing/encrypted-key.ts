// The password-sealed private key container cosign writes inside "ENCRYPTED SIGSTORE PRIVATE KEY" PEM blocks
// (go-securesystemslib "encrypted"): JSON {kdf: scrypt + salt, cipher: nacl/secretbox + nonce, ciphertext},
// byte arrays as standard base64. The plaintext is a PKCS#8 DER private key.
import { randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import nacl from 'tweetnacl';
import { z } from 'zod';
import { b64, fromB64, goJson } from './encoding';

const KEY_SIZE = 32;
const NONCE_SIZE = 24;
const SALT_SIZE = 32;

/** The only parameter sets cosign accepts (legacy, standard = its default, OWASP); anything else is refused,
 * which also bounds the memory an attacker-supplied key file can make us spend. */
const ALLOWED_PARAMS = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
] as const;
const DEFAULT_PARAMS = ALLOWED_PARAMS[1];

const Sealed = z.object({
  kdf: z.object({
    name: z.literal('scrypt'),
    params: z.object({ N: z.number().int(), r: z.number().int(), p: z.number().int() }),
    salt: z.string(),
  }),
  cipher: z.object({ name: z.literal('nacl/secretbox'), nonce: z.string() }),
  ciphertext: z.string(),
});

export class KeyDecryptionError extends Error {
  override name = 'KeyDecryptionError';
}

function scrypt(password: Buffer, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  // 128 * N * r bytes are needed; Node's default maxmem (32 MiB) is below cosign's standard N=65536.
  const opts: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 300 * 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(password, salt, KEY_SIZE, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

function toBuf(password: string | Uint8Array): Buffer {
  return typeof password === 'string' ? Buffer.from(password, 'utf8') : Buffer.from(password);
}

/** Seal plaintext (PKCS#8 DER) as cosign does; returns the JSON bytes that go inside the PEM block. */
export async function sealPrivateKey(plaintext: Uint8Array, password: string | Uint8Array): Promise<Buffer> {
  const salt = randomBytes(SALT_SIZE);
  const nonce = randomBytes(NONCE_SIZE);
  const key = await scrypt(toBuf(password), salt, DEFAULT_PARAMS);
  const ciphertext = nacl.secretbox(plaintext, nonce, key);
  key.fill(0);
  return Buffer.from(
    goJson({
      kdf: { name: 'scrypt', params: { N: DEFAULT_PARAMS.N, r: DEFAULT_PARAMS.r, p: DEFAULT_PARAMS.p }, salt: b64(salt) },
      cipher: { name: 'nacl/secretbox', nonce: b64(nonce) },
      ciphertext: b64(ciphertext),
    }),
  );
}

/** Open a sealed key. Errors never include key bytes or the password. */
export async function openPrivateKey(sealed: Uint8Array, password: string | Uint8Array): Promise<Buffer> {
  let parsed: z.infer<typeof Sealed>;
  try {
    parsed = Sealed.parse(JSON.parse(Buffer.from(sealed).toString('utf8')));
  } catch {
    throw new KeyDecryptionError('encrypted private key: not a scrypt + nacl/secretbox container');
  }
  const { N, r, p } = parsed.kdf.params;
  if (!ALLOWED_PARAMS.some((a) => a.N === N && a.r === r && a.p === p)) {
    throw new KeyDecryptionError(`encrypted private key: unsupported scrypt parameters N=${N} r=${r} p=${p}`);
  }
  const salt = fromB64(parsed.kdf.salt, 'kdf salt');
  const nonce = fromB64(parsed.cipher.nonce, 'cipher nonce');
  const ciphertext = fromB64(parsed.ciphertext, 'ciphertext');
  if (nonce.length !== NONCE_SIZE) throw new KeyDecryptionError('encrypted private key: incorrect nonce size');
  const key = await scrypt(toBuf(password), salt, { N, r, p });
  const plain = nacl.secretbox.open(ciphertext, nonce, key);
  key.fill(0);
  if (!plain) throw new KeyDecryptionError('encrypted private key: decryption failed (wrong password?)');
  return Buffer.from(plain);
}
