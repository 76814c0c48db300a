// In-process verification of cosign artifacts: the post-replication gate and the source policy. It answers "does
// this .sig / .att image hold a valid signature by this key for this digest", reading registry content only
// through the functions passed in (untrusted bytes: every blob is digest-checked and every JSON zod-parsed).
// A "no" is a verdict on content only: a reader that fails (network, a read that keeps mismatching) throws through
// these functions, so a fault while reading is never mistaken for an invalid signature.
import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { attestationTag, signatureTag, type Descriptor, type SubjectDescriptor } from '../model';
import { sha256 as sha256Digest } from '../oci';
import { fromB64 } from './encoding';
import { DSSE_LAYER, PREDICATE_TYPE_ANNOTATION, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_LAYER, parseImageManifest } from './artifacts';
import { BUNDLE_V03, verifyBundleWithKey } from './bundle';
import { INTOTO_PAYLOAD_TYPE, pae, parseEnvelope } from './dsse';
import { statementCovers } from './intoto';
import { loadPublicKey } from './keys';
import { parseSimpleSigningPayload } from './simple-signing';

export type Verdict = { ok: true; layerDigest?: string } | { ok: false; reason: string };

export type PublicKeyInput = KeyObject | string;

function toKey(k: PublicKeyInput): KeyObject {
  return typeof k === 'string' ? loadPublicKey(k) : k;
}

export function verifyRaw(publicKey: PublicKeyInput, data: Buffer, derSignature: Buffer): boolean {
  try {
    return cryptoVerify('sha256', data, { key: toKey(publicKey), dsaEncoding: 'der' }, derSignature);
  } catch {
    return false;
  }
}

export interface SignatureCheck {
  publicKey: PublicKeyInput;
  /** The image digest the signature must bind to. */
  digest: string;
  /** When set, critical.identity.docker-reference must equal it. */
  dockerReference?: string;
}

/** One .sig layer: payload bytes plus the base64 signature annotation. */
export function verifySignatureLayer(payload: Buffer, signatureB64: string | undefined, check: SignatureCheck): Verdict {
  if (!signatureB64) return { ok: false, reason: 'layer has no signature annotation' };
  let sig: Buffer;
  try {
    sig = fromB64(signatureB64, 'signature annotation');
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  if (!verifyRaw(check.publicKey, payload, sig)) return { ok: false, reason: 'signature does not verify with the given public key' };
  let parsed;
  try {
    parsed = parseSimpleSigningPayload(payload);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const signed = parsed.critical.image['docker-manifest-digest'];
  if (signed !== check.digest) return { ok: false, reason: `signature is for ${signed}, not ${check.digest}` };
  const ref = parsed.critical.identity['docker-reference'];
  if (check.dockerReference !== undefined && ref !== check.dockerReference) {
    return { ok: false, reason: `signature claims docker-reference ${ref}, expected ${check.dockerReference}` };
  }
  return { ok: true };
}

export interface AttestationCheck {
  publicKey: PublicKeyInput;
  digest: string;
  /** When set, the statement's predicateType must equal it. */
  predicateType?: string;
}

/** One .att layer (or any DSSE envelope): signature over PAE, in-toto statement with a subject for digest. */
export function verifyAttestationEnvelope(envelopeBytes: Buffer, check: AttestationCheck): Verdict {
  let env;
  try {
    env = parseEnvelope(envelopeBytes);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  if (env.envelope.payloadType !== INTOTO_PAYLOAD_TYPE) return { ok: false, reason: `DSSE payloadType is ${env.envelope.payloadType}, not ${INTOTO_PAYLOAD_TYPE}` };
  const message = pae(env.envelope.payloadType, env.payload);
  if (!env.signatures.some((s) => verifyRaw(check.publicKey, message, s))) return { ok: false, reason: 'no DSSE signature verifies with the given public key' };
  return statementCovers(env.payload, check);
}

/** Registry access, passed in by the caller (src/oci in production, a fake in unit tests). */
export interface ArtifactReader {
  /** Manifest bytes under a tag of the subject's repository, or null when the tag does not exist. */
  manifest(tag: string): Promise<Buffer | null>;
  /** A blob's bytes; `size` (its descriptor's) lets the reader stop as soon as more arrive. */
  blob(digest: string, size?: number): Promise<Buffer>;
}

/** The blob's bytes, or why they are not the descriptor's (a verdict); reader failures propagate. */
async function checkedBlob(reader: ArtifactReader, d: Descriptor): Promise<{ bytes: Buffer } | { wrong: string }> {
  const bytes = await reader.blob(d.digest, d.size);
  const got = sha256Digest(bytes);
  if (got !== d.digest || bytes.length !== d.size) return { wrong: `blob ${d.digest} does not match its descriptor (read ${bytes.length} bytes with digest ${got}; the descriptor says ${d.size} bytes)` };
  return { bytes };
}

export interface ImageVerdict {
  ok: boolean;
  /** Layers that verified. */
  verified: string[];
  /** Why each other layer was rejected (layer digest → reason); never contains key material. */
  rejected: Array<{ layer: string; reason: string }>;
  reason?: string;
}

async function verifyLayers(reader: ArtifactReader, tag: string, mediaType: string, check: (d: Descriptor, bytes: Buffer) => Verdict, what: string): Promise<ImageVerdict> {
  const raw = await reader.manifest(tag);
  if (raw === null) return { ok: false, verified: [], rejected: [], reason: `no ${what} (tag ${tag} not found)` };
  let manifest;
  try {
    manifest = parseImageManifest(raw);
  } catch (e) {
    return { ok: false, verified: [], rejected: [], reason: `${what} manifest ${tag}: ${(e as Error).message}` };
  }
  const verified: string[] = [];
  const rejected: Array<{ layer: string; reason: string }> = [];
  for (const layer of manifest.layers) {
    if (layer.mediaType !== mediaType) continue;
    const blob = await checkedBlob(reader, layer);
    if ('wrong' in blob) {
      rejected.push({ layer: layer.digest, reason: blob.wrong });
      continue;
    }
    const v = check(layer, blob.bytes);
    if (v.ok) verified.push(layer.digest);
    else rejected.push({ layer: layer.digest, reason: v.reason });
  }
  if (verified.length > 0) return { ok: true, verified, rejected };
  // The evidence: which manifest (by digest) was judged, and why each layer failed.
  const reason = rejected.length === 0 ? `${what} image ${tag} (${sha256Digest(raw)}) has no ${mediaType} layer` : `no valid ${what} in ${tag} (${sha256Digest(raw)}): ${rejected.map((r) => `layer ${r.layer.slice(0, 19)}: ${r.reason}`).join('; ')}`;
  return { ok: false, verified, rejected, reason };
}

/** cosign verify --key, in process: at least one .sig layer verifies. */
export function verifyImageSignatures(reader: ArtifactReader, check: SignatureCheck): Promise<ImageVerdict> {
  const key = toKey(check.publicKey);
  return verifyLayers(reader, signatureTag(check.digest), SIMPLE_SIGNING_LAYER, (d, bytes) => verifySignatureLayer(bytes, d.annotations?.[SIGNATURE_ANNOTATION], { ...check, publicKey: key }), 'signature');
}

/** cosign verify-attestation --key --type, in process: at least one .att layer verifies. */
export function verifyImageAttestations(reader: ArtifactReader, check: AttestationCheck): Promise<ImageVerdict> {
  const key = toKey(check.publicKey);
  return verifyLayers(
    reader,
    attestationTag(check.digest),
    DSSE_LAYER,
    (d, bytes) => {
      const annotated = d.annotations?.[PREDICATE_TYPE_ANNOTATION];
      if (check.predicateType !== undefined && annotated !== undefined && annotated !== check.predicateType) return { ok: false, reason: `layer predicateType annotation is ${annotated}` };
      return verifyAttestationEnvelope(bytes, { ...check, publicKey: key });
    },
    'attestation',
  );
}

export class SignatureVerificationError extends Error {
  override name = 'SignatureVerificationError';
}

/**
 * Source policy: throws a SignatureVerificationError naming the image and why, unless a valid signature exists;
 * returns the verdict (the layers that verified: the evidence a VSA names).
 */
export async function requireSignedImage(reader: ArtifactReader, image: string, check: SignatureCheck): Promise<ImageVerdict> {
  const v = await verifyImageSignatures(reader, check);
  if (!v.ok) throw new SignatureVerificationError(`source policy: ${image}@${check.digest} is not signed by the trusted key: ${v.reason ?? 'unknown'}`);
  return v;
}

/**
 * Bundle referrers (cosign v3 format), listed the way the registry offers them (the OCI referrers API, else the
 * referrers tag schema; the store decides): at least one bundle whose DSSE signature verifies with the key and whose
 * statement names the digest (and predicateType, when given).
 */
export async function verifyImageBundles(reader: ArtifactReader & { referrers(subject: string, artifactType: string): Promise<SubjectDescriptor[]> }, check: AttestationCheck): Promise<ImageVerdict> {
  const key = toKey(check.publicKey);
  const entries = await reader.referrers(check.digest, BUNDLE_V03);
  if (entries.length === 0) return { ok: false, verified: [], rejected: [], reason: 'no sigstore bundle referrer' };
  const verified: string[] = [];
  const rejected: Array<{ layer: string; reason: string }> = [];
  for (const entry of entries) {
    const reason = await (async (): Promise<string | undefined> => {
      const mbytes = await reader.manifest(entry.digest);
      if (mbytes === null || sha256Digest(mbytes) !== entry.digest) return `referrer ${entry.digest} missing or not matching its digest`;
      let m;
      try {
        m = parseImageManifest(mbytes);
      } catch (e) {
        return `referrer ${entry.digest}: ${(e as Error).message}`;
      }
      if (m.subject?.digest !== check.digest) return `referrer ${entry.digest} has another subject`;
      const layer = m.layers.find((l) => l.mediaType === BUNDLE_V03);
      if (!layer) return `referrer ${entry.digest} has no bundle layer`;
      const blob = await checkedBlob(reader, layer);
      if ('wrong' in blob) return blob.wrong;
      const v = verifyBundleWithKey(blob.bytes, key, { digest: check.digest, ...(check.predicateType ? { predicateType: check.predicateType } : {}) });
      return v.ok ? undefined : v.reason;
    })();
    if (reason === undefined) verified.push(entry.digest);
    else rejected.push({ layer: entry.digest, reason });
  }
  if (verified.length > 0) return { ok: true, verified, rejected };
  return { ok: false, verified, rejected, reason: `no valid bundle: ${rejected.map((r) => r.reason).join('; ')}` };
}
