// Sigstore bundle v0.3 (DSSE) signed through sigstore-js, and its OCI 1.1 referrer: the storage cosign v3 writes
// by default. Shapes follow a capture of `cosign sign` v3.1.2: image manifest with artifactType
// application/vnd.dev.sigstore.bundle.v0.3+json, empty config, one bundle layer, subject, and annotations naming the
// content and predicate type; cosign's own "signature" is an in-toto statement of type sigstore.dev/cosign/sign/v1.
import { createHash, type KeyObject } from 'node:crypto';
import { bundleFromJSON, bundleToJSON, isBundleWithDsseEnvelope, type Bundle } from '@sigstore/bundle';
import { DSSEBundleBuilder, type Signer as SigstoreSigner, type Witness } from '@sigstore/sign';
import { toSignedEntity, Verifier, type TrustMaterial } from '@sigstore/verify';
import { assertDigest, OCI_EMPTY, OCI_MANIFEST, type Descriptor, type SubjectDescriptor } from '../model';
import { sha256 as sha256Digest } from '../oci';
import { serializeImageManifest, type Artifact } from './artifacts';
import { INTOTO_PAYLOAD_TYPE } from './dsse';
import { utf8 } from './encoding';
import { serializeStatement, statement, statementCovers, subjectForDigest } from './intoto';
import { loadPublicKey } from './keys';
import type { Signer } from './signer';

export const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
export const BUNDLE_CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';
export const BUNDLE_PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType';
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';
const EMPTY_CONFIG = utf8('{}');

/** cosign's key hint: base64 of SHA-256 over the DER SubjectPublicKeyInfo. */
export function keyHint(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
}

/** Adapt our KMS-shaped Signer to sigstore-js (public key + hint as verification material). */
export async function toSigstoreSigner(signer: Signer): Promise<SigstoreSigner> {
  const pem = await signer.publicKeyPem();
  const hint = keyHint(loadPublicKey(pem));
  return { sign: async (data) => ({ signature: await signer.sign(data), key: { $case: 'publicKey', publicKey: pem, hint } }) };
}

/** The statement cosign v3 signs for `cosign sign` (a plain image signature in bundle form). */
export function cosignSignStatement(digest: string): Buffer {
  return serializeStatement(statement([subjectForDigest(undefined, digest)], COSIGN_SIGN_PREDICATE, {}));
}

/** DSSE-sign an in-toto statement into a v0.3 bundle; witnesses (Rekor, TSA) empty for key-based offline use. */
export async function signStatementBundle(statementBytes: Buffer, signer: SigstoreSigner, witnesses: Witness[] = []): Promise<Bundle> {
  const bundle = await new DSSEBundleBuilder({ signer, witnesses }).create({ data: statementBytes, type: INTOTO_PAYLOAD_TYPE });
  // sigstore-js copies the key hint into the DSSE keyid; Go's DSSE verifier (cosign) then skips the signature
  // because its own key ID differs ("accepted signatures do not match threshold"). cosign writes no keyid; the
  // keyid is outside the PAE, so clearing it changes no signed byte.
  for (const sig of bundle.content.dsseEnvelope.signatures) sig.keyid = '';
  return bundle;
}

export function serializeBundle(bundle: Bundle): Buffer {
  return utf8(JSON.stringify(bundleToJSON(bundle)));
}

export function parseBundle(bytes: Uint8Array): Bundle {
  try {
    return bundleFromJSON(JSON.parse(Buffer.from(bytes).toString('utf8')));
  } catch (e) {
    throw new Error(`sigstore bundle is malformed: ${(e as Error).message}`);
  }
}

/** The referrer manifest for one bundle. `created` is passed in so a retry produces the same bytes. */
export function bundleReferrer(bundleBytes: Buffer, predicateType: string, subject: SubjectDescriptor, created: string): Artifact {
  assertDigest(subject.digest, 'referrer subject');
  const config: Descriptor = { mediaType: OCI_EMPTY, size: EMPTY_CONFIG.length, digest: sha256Digest(EMPTY_CONFIG), artifactType: BUNDLE_V03 };
  const layer: Descriptor = { mediaType: BUNDLE_V03, size: bundleBytes.length, digest: sha256Digest(bundleBytes) };
  const bytes = serializeImageManifest({
    config,
    layers: [layer],
    annotations: { [BUNDLE_CONTENT_ANNOTATION]: 'dsse-envelope', [BUNDLE_PREDICATE_ANNOTATION]: predicateType, [CREATED_ANNOTATION]: created },
    subject: { mediaType: subject.mediaType, size: subject.size, digest: subject.digest },
    artifactType: BUNDLE_V03,
  });
  return {
    manifest: { bytes, mediaType: OCI_MANIFEST, digest: sha256Digest(bytes) },
    blobs: [
      { digest: config.digest, mediaType: OCI_EMPTY, bytes: EMPTY_CONFIG },
      { digest: layer.digest, mediaType: BUNDLE_V03, bytes: bundleBytes },
    ],
  };
}

export interface BundleCheck {
  digest: string;
  predicateType?: string;
}

/** Verify a DSSE bundle against a public key (no tlog/timestamp required) and check its statement. */
export function verifyBundleWithKey(bundleBytes: Buffer, publicKey: KeyObject | string, check: BundleCheck): { ok: true } | { ok: false; reason: string } {
  const key = typeof publicKey === 'string' ? loadPublicKey(publicKey) : publicKey;
  const trust: TrustMaterial = { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [], publicKey: () => ({ publicKey: key, validFor: () => true }) };
  return verifyBundle(bundleBytes, trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }, check);
}

/**
 * Who must have signed, for keyless bundles: the certificate SAN, exactly (`subject`) or as a whole-string match of
 * a regular expression (`subjectRegExp`), and the OIDC issuer (Fulcio extension), exactly (`issuer`) or, for a
 * consumer's check only (`promoflow verify`, as cosign's --certificate-oidc-issuer-regexp), as a whole-string match
 * (`issuerRegExp`).
 */
export type IdentityPolicy = ({ issuer: string; issuerRegExp?: undefined } | { issuerRegExp: string; issuer?: undefined }) & ({ subject: string; subjectRegExp?: undefined } | { subjectRegExp: string; subject?: undefined });

/** An identity in one phrase, for verdict lines: `ci@example.com (issuer https://ci.example)`, patterns in slashes. */
export function describeIdentity(i: IdentityPolicy): string {
  return `${i.subject ?? `/${i.subjectRegExp}/`} (issuer ${i.issuer ?? `/${i.issuerRegExp}/`})`;
}

/**
 * The SAN pattern handed to sigstore-js, which matches it as an unanchored regular expression (String.match): an
 * exact subject is escaped and anchored, a regular expression anchored, so `ci@example.com` never accepts
 * `evil-ci@example.com.attacker.net`.
 */
export function sanPattern(identity: IdentityPolicy): string {
  if (identity.subject !== undefined) return `^${identity.subject.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')}$`;
  return `^(?:${identity.subjectRegExp})$`;
}

export function verifyBundle(bundleBytes: Buffer, trust: TrustMaterial, opts: ConstructorParameters<typeof Verifier>[1], check: BundleCheck, identity?: IdentityPolicy): { ok: true } | { ok: false; reason: string } {
  let bundle: Bundle;
  try {
    bundle = parseBundle(bundleBytes);
    const signer = new Verifier(trust, opts).verify(toSignedEntity(bundle), identity ? { subjectAlternativeName: sanPattern(identity), ...(identity.issuer !== undefined ? { extensions: { issuer: identity.issuer } } : {}) } : undefined);
    // sigstore-js compares extensions exactly; an issuer pattern is matched here, anchored like the SAN's.
    if (identity?.issuerRegExp !== undefined) {
      const got = signer.identity?.extensions?.issuer;
      if (got === undefined || !new RegExp(`^(?:${identity.issuerRegExp})$`).test(got)) return { ok: false, reason: `bundle does not verify: certificate issuer ${got ?? '(none)'} does not match /${identity.issuerRegExp}/` };
    }
  } catch (e) {
    return { ok: false, reason: `bundle does not verify: ${(e as Error).message}` };
  }
  if (!isBundleWithDsseEnvelope(bundle)) return { ok: false, reason: 'bundle holds no DSSE envelope' };
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE) return { ok: false, reason: `DSSE payloadType is ${env.payloadType}` };
  return statementCovers(env.payload, check);
}
