// The one signing abstraction the rest of promoflow sees: KMS-shaped (asynchronous, key never leaves it), so a
// local cosign.key, a PKCS#8 file or a cloud KMS can stand behind it.
export type SigningAlgorithm = 'ecdsa-p256-sha256';

export interface Signer {
  /** Opaque identifier of the key (a KMS key name, or a fingerprint); never key material. */
  keyId?: string;
  algorithm: SigningAlgorithm;
  /** SubjectPublicKeyInfo PEM ("PUBLIC KEY"), as cosign.pub holds it. */
  publicKeyPem(): Promise<string>;
  /** ECDSA P-256 over SHA-256 of data, ASN.1 DER encoded (what cosign writes). */
  sign(data: Buffer): Promise<Buffer>;
}
