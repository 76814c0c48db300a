// The source policy: before anything is copied, the staging image must carry a signature by the trusted builder:
// a cosign signature that verifies with its public key, or a sigstore bundle referrer (cosign v3's keyless format)
// by its keyless identity and issuer, verified against the policy's trusted root or the worker's TUF one. Unsigned
// or invalid → SignatureVerificationError (SourceUnsigned, never retried), named with the image and digest.
import type { RegistryClient } from '../oci';
import { type RepositoryRef } from '../model';
import { signatureTag } from '../model';
import { COSIGN_SIGN_PREDICATE, describeIdentity, keylessStatementsAt, loadPublicKey, publicKeyFingerprint, requireSignedImage, SignatureVerificationError, type KeyRing } from '../signing';
import type { SourceEvidence, SourceSignedBy } from '../contract';
import { artifactStore } from './artifacts';
import { readKeyRef } from './key-refs';
import { identityOf } from './signing';

/** Checks the source signature; returns what the VSA names: the source policy and the signatures that verified. */
export async function requireSourceSignature(client: RegistryClient, repo: RepositoryRef, digest: string, signedBy: SourceSignedBy, keys?: KeyRing): Promise<SourceEvidence> {
  const name = `${repo.registry}/${repo.repository}`;
  const store = artifactStore(client, repo);
  if (typeof signedBy === 'string') {
    const publicKey = loadPublicKey(readKeyRef(signedBy, 'source policy key'));
    const v = await requireSignedImage(store, name, { publicKey, digest });
    return { policy: { type: 'key', keyFingerprint: publicKeyFingerprint(publicKey) }, signatures: v.verified.map((layer) => ({ uri: `${name}:${signatureTag(digest)}`, digest: layer })) };
  }
  const policy = signedBy.keyless;
  const identity = identityOf(policy);
  if (!keys) throw new Error('source policy: a keyless source policy needs the worker’s trust roots (KeyRing)');
  const r = await keylessStatementsAt(store, digest, { trust: () => keys.trustedRoot(policy.trustedRoot), identity }, COSIGN_SIGN_PREDICATE);
  if (r.verified.length === 0) throw new SignatureVerificationError(`source policy: ${name}@${digest} is not signed by ${describeIdentity(identity)}: ${r.rejected.length ? r.rejected.join('; ') : 'no sigstore bundle referrer'}`);
  return {
    policy: { type: 'keyless', ...identity },
    signatures: r.verified.map((d) => ({ uri: `${name}@${d.digest}`, digest: d.digest, mediaType: d.mediaType })),
  };
}
