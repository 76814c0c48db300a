// The signing steps of a promotion, over registries passed in as ArtifactStores: sign (and attest) a promoted
// digest once at its signing home, replicate the .sig/.att images and bundle referrers to a mirror, and verify
// what a destination holds. Idempotent on what exists and verifies, so a retry never signs twice. Temporal-free:
// src/activities adapts these to activities (credentials, heartbeats, failure types).
import type { TrustMaterial } from '@sigstore/verify';
import { attestationTag, signatureTag, type SubjectDescriptor } from '../model';
import { mergeCosignImage, parseImageManifest, type Artifact } from './artifacts';
import { BUNDLE_V03, COSIGN_SIGN_PREDICATE, type IdentityPolicy } from './bundle';
import { signImageKeyless, verifyKeylessBundle, type KeylessOptions } from './keyless';
import { planMirrorPush, readCosignImage, signingNeeds } from './replicate';
import { signDigest, type ProvenanceInputs } from './sign-image';
import type { Signer } from './signer';
import { SLSA_PROVENANCE_V1 } from './slsa-provenance';
import type { ArtifactStore } from './store';
import { verifyImageAttestations, verifyImageBundles, verifyImageSignatures, type PublicKeyInput } from './verify';

/** The signature or bundle a mirror should receive is not at the source: signing was skipped or lost. */
export class SignatureMissingError extends Error {
  override name = 'SignatureMissingError';
}

export interface SignCounts {
  signed: number;
  attested: number;
  /** Digests whose valid signature (and attestation) by this key already existed. */
  alreadySigned: number;
}

export interface KeySigning {
  signer: Signer;
  /** docker-reference written into payloads (the repository's public name). */
  dockerReference: string;
  attest: boolean;
  bundles?: boolean;
  /** SLSA provenance of the run; its finishedOn also dates bundle referrers (deterministic on retry). */
  provenance: ProvenanceInputs & { finishedOn: string };
}

/** The predicate a bundle carries: the provenance when attesting, else cosign's plain "sign" statement. */
const bundlePredicate = (attest: boolean): string => (attest ? SLSA_PROVENANCE_V1 : COSIGN_SIGN_PREDICATE);

/** Key-based: sign every digest (children first, then the top) that lacks a valid signature/attestation/bundle. */
export async function signWithKey(store: ArtifactStore, digests: string[], subjects: SubjectDescriptor[], s: KeySigning, progress: () => void = () => undefined): Promise<SignCounts> {
  const publicKey = await s.signer.publicKeyPem();
  const result: SignCounts = { signed: 0, attested: 0, alreadySigned: 0 };
  for (const digest of digests) {
    // Idempotent on what exists and verifies, never on whether the image exists (kpromo #1946): a retry after
    // a failed attest signs nothing twice and still writes the missing attestation.
    const needs = await signingNeeds(store, { publicKey, digest, dockerReference: s.dockerReference, predicateType: SLSA_PROVENANCE_V1 });
    const needBundles = !!s.bundles && !(await verifyImageBundles(store, { publicKey, digest, predicateType: bundlePredicate(s.attest) })).ok;
    if (!needs.signature && (!s.attest || !needs.attestation) && !needBundles) {
      result.alreadySigned++;
      continue;
    }
    const withProvenance = s.attest && (needs.attestation || needBundles);
    const signed = await signDigest(digest, {
      signer: s.signer,
      dockerReference: s.dockerReference,
      ...(withProvenance ? { provenance: s.provenance } : {}),
      ...(needBundles ? { bundles: { created: s.provenance.finishedOn, subjects } } : {}),
    });
    if (needs.signature) {
      const merged = mergeCosignImage(await store.manifest(signed.signature.tag), signed.signature).artifact;
      if (merged) await store.push(signed.signature.tag, merged);
      result.signed++;
    }
    if (signed.attestation && needs.attestation) {
      const merged = mergeCosignImage(await store.manifest(signed.attestation.tag), signed.attestation).artifact;
      if (merged) await store.push(signed.attestation.tag, merged);
      result.attested++;
    }
    for (const r of signed.referrers ?? []) await store.pushReferrer(r.artifact);
    progress();
  }
  return result;
}

export interface KeylessVerification {
  /** Read only when a bundle is there to verify (a file, or the instance's root through TUF). */
  trust: () => Promise<TrustMaterial>;
  identity: IdentityPolicy;
}

/** Does a keyless bundle referrer for `digest`, by the expected identity, verify against the trusted root? */
export async function verifyKeylessAt(store: ArtifactStore, digest: string, v: KeylessVerification, predicateType: string): Promise<{ ok: boolean; reason: string }> {
  const reasons: string[] = [];
  for (const d of await store.referrers(digest, BUNDLE_V03)) {
    const bytes = await store.manifest(d.digest);
    const layer = bytes && parseImageManifest(bytes).layers.find((l) => l.mediaType === BUNDLE_V03);
    if (!layer) continue;
    const r = verifyKeylessBundle(await store.blob(layer.digest, layer.size), await v.trust(), { digest, predicateType, identity: v.identity });
    if (r.ok) return { ok: true, reason: '' };
    reasons.push(r.reason);
  }
  return { ok: false, reason: reasons.length ? reasons.join('; ') : 'no sigstore bundle referrer' };
}

export interface KeylessSigning extends KeylessVerification {
  attest: boolean;
  fulcioURL: string;
  rekorURL: string;
  /** The OIDC identity token, asked for only when something is to be signed. */
  identityToken: () => string;
  provenance: ProvenanceInputs & { finishedOn: string };
}

/** Keyless: per subject that lacks a verifying bundle, Fulcio certificate + Rekor entry, pushed as referrers. */
export async function signKeyless(store: ArtifactStore, subjects: SubjectDescriptor[], s: KeylessSigning): Promise<SignCounts> {
  const result: SignCounts = { signed: 0, attested: 0, alreadySigned: 0 };
  const predicateType = bundlePredicate(s.attest);
  const todo: SubjectDescriptor[] = [];
  for (const subject of subjects) {
    if ((await verifyKeylessAt(store, subject.digest, s, predicateType)).ok) result.alreadySigned++;
    else todo.push(subject);
  }
  if (todo.length === 0) return result;
  const keyless: KeylessOptions = { fulcioURL: s.fulcioURL, rekorURL: s.rekorURL, identityToken: s.identityToken() };
  const signed = await signImageKeyless({ subjects: todo, created: s.provenance.finishedOn, ...(s.attest ? { provenance: s.provenance } : {}), keyless });
  for (const d of signed) {
    for (const r of d.referrers) await store.pushReferrer(r.artifact);
    result.signed++;
    if (s.attest) result.attested++;
  }
  return result;
}

export interface ReplicateOptions {
  attest: boolean;
  bundles?: boolean;
  /** Keyless runs hold bundles only: no .sig/.att images to copy. */
  keyless?: boolean;
  /** Names the source in errors. */
  fromName: string;
  image: string;
}

/** Copy each digest's .sig/.att (merged, never duplicated) and bundle referrers from one registry to another. */
export async function replicateSignatures(from: ArtifactStore, to: ArtifactStore, digests: string[], o: ReplicateOptions, progress: () => void = () => undefined): Promise<{ pushed: number; upToDate: number }> {
  let pushed = 0;
  let upToDate = 0;
  for (const digest of digests) {
    for (const tag of o.keyless ? [] : o.attest ? [signatureTag(digest), attestationTag(digest)] : [signatureTag(digest)]) {
      const src = await readCosignImage(from, tag);
      if (!src) throw new SignatureMissingError(`${o.fromName} has no ${tag} for ${o.image}: nothing to replicate (was signing skipped?)`);
      const plan = await planMirrorPush(src, to, tag);
      if (plan) {
        await to.push(tag, plan);
        pushed++;
      } else upToDate++;
    }
    if (o.bundles) {
      const have = new Set((await to.referrers(digest, BUNDLE_V03)).map((d) => d.digest));
      for (const d of await from.referrers(digest, BUNDLE_V03)) {
        if (have.has(d.digest)) {
          upToDate++;
          continue;
        }
        const bytes = await from.manifest(d.digest);
        if (!bytes) throw new SignatureMissingError(`${o.fromName} lists bundle ${d.digest} for ${o.image} but does not hold it`);
        const m = parseImageManifest(bytes);
        const blobs = await Promise.all([m.config, ...m.layers].map(async (l) => ({ digest: l.digest, mediaType: l.mediaType, bytes: await from.blob(l.digest, l.size) })));
        await to.pushReferrer({ manifest: { bytes, mediaType: d.mediaType, digest: d.digest }, blobs });
        pushed++;
      }
    }
    progress();
  }
  return { pushed, upToDate };
}

/** One digest whose signature material does not verify at a destination, and why. */
type SignatureProblem = { digest: string; problem: string };

/** Key-based: every digest's signature (and attestation, and bundle when written) verifies at this destination. */
export async function verifyWithKey(store: ArtifactStore, digests: string[], c: { publicKey: string; dockerReference: string; attest: boolean; bundles?: boolean }): Promise<SignatureProblem[]> {
  const problems: SignatureProblem[] = [];
  for (const digest of digests) {
    const sig = await verifyImageSignatures(store, { publicKey: c.publicKey, digest, dockerReference: c.dockerReference });
    if (!sig.ok) problems.push({ digest, problem: `signature does not verify: ${sig.reason ?? 'no valid layer'}` });
    if (c.attest) {
      const att = await verifyImageAttestations(store, { publicKey: c.publicKey, digest, predicateType: SLSA_PROVENANCE_V1 });
      if (!att.ok) problems.push({ digest, problem: `attestation does not verify: ${att.reason ?? 'no valid layer'}` });
    }
    if (c.bundles) {
      const b = await verifyImageBundles(store, { publicKey: c.publicKey, digest, predicateType: bundlePredicate(c.attest) });
      if (!b.ok) problems.push({ digest, problem: `sigstore bundle does not verify: ${b.reason ?? 'none valid'}` });
    }
  }
  return problems;
}

/** Keyless: every digest has a bundle by the expected identity that verifies against the trusted root. */
export async function verifyKeyless(store: ArtifactStore, digests: string[], v: KeylessVerification, attest: boolean): Promise<SignatureProblem[]> {
  const problems: SignatureProblem[] = [];
  for (const digest of digests) {
    const r = await verifyKeylessAt(store, digest, v, bundlePredicate(attest));
    if (!r.ok) problems.push({ digest, problem: `keyless bundle does not verify: ${r.reason}` });
  }
  return problems;
}

/** One registry by name, for repairs: where a healthy copy may be, or where one is missing. */
export interface NamedStore {
  name: string;
  /** Undefined when the name is unknown (reported as a failed repair). */
  store: ArtifactStore | undefined;
}

export interface RepairOutcome {
  destination: string;
  status: 'repaired' | 'present' | 'failed';
  from?: string;
  error?: string;
}

/**
 * Repair a digest's signature (`sig`) or attestation (`att`) at each target by copying, byte-for-byte or merged,
 * the first copy among `peers` (in order of preference) that verifies with `publicKey` (never an unverified one):
 * no private key involved, since a signature binds to the digest, not to the registry.
 */
export async function repairFromPeers(digest: string, kind: 'sig' | 'att', peers: NamedStore[], targets: NamedStore[], publicKey: PublicKeyInput): Promise<RepairOutcome[]> {
  const tag = kind === 'sig' ? signatureTag(digest) : attestationTag(digest);
  let found: { artifact: Artifact; from: string } | undefined;
  for (const peer of peers) {
    if (!peer.store) continue;
    // Only a copy that verifies is copied: an unverified .sig/.att (from staging or a peer) could be anyone's.
    const v = kind === 'sig' ? await verifyImageSignatures(peer.store, { publicKey, digest }) : await verifyImageAttestations(peer.store, { publicKey, digest, predicateType: SLSA_PROVENANCE_V1 });
    if (!v.ok) continue;
    const artifact = await readCosignImage(peer.store, tag);
    if (artifact) {
      found = { artifact, from: peer.name };
      break;
    }
  }
  const out: RepairOutcome[] = [];
  for (const t of targets) {
    if (!found || !t.store) {
      out.push({ destination: t.name, status: 'failed', error: `no destination or source holds a valid ${kind === 'sig' ? 'signature' : 'attestation'} to copy: it must be signed again (promote)` });
      continue;
    }
    const push = await planMirrorPush(found.artifact, t.store, tag);
    if (push) await t.store.push(tag, push);
    out.push({ destination: t.name, status: push ? 'repaired' : 'present', from: found.from });
  }
  return out;
}
