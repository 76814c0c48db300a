// The signing steps of a promotion, over registries passed in as ArtifactStores: sign (and attest) a promoted
// digest once at its signing home, replicate the .sig/.att images and bundle referrers to a mirror, and verify
// what a destination holds. Idempotent on what exists and verifies, so a retry never signs twice. Temporal-free:
// src/activities adapts these to activities (credentials, heartbeats, failure types).
import { isBundleWithDsseEnvelope } from '@sigstore/bundle';
import type { TrustMaterial } from '@sigstore/verify';
import { sha256 as sha256Digest } from '../oci';
import { attestationTag, signatureTag, type SubjectDescriptor } from '../model';
import { mergeCosignImage, parseImageManifest, type Artifact } from './artifacts';
import { BUNDLE_PREDICATE_ANNOTATION, BUNDLE_V03, COSIGN_SIGN_PREDICATE, parseBundle, type IdentityPolicy } from './bundle';
import { parseStatement, type ParsedStatement } from './intoto';
import { signImageKeyless, verifyKeylessBundle, type KeylessOptions } from './keyless';
import { planMirrorPush, readCosignImage } from './replicate';
import { signDigest, type ProvenanceInputs } from './sign-image';
import type { Signer } from './signer';
import { SLSA_PROVENANCE_V1 } from './slsa-provenance';
import { SLSA_VSA_V1 } from './vsa';
import type { ArtifactStore } from './store';
import { verifyImageAttestations, verifyImageBundles, verifyImageSignatures, type ArtifactReader, type PublicKeyInput } from './verify';

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

/** The attestations a digest carries: the provenance and, when the run records what it verified, the VSA. */
export function attestationPredicates(attest: boolean, vsa: boolean): string[] {
  return attest ? [SLSA_PROVENANCE_V1, ...(vsa ? [SLSA_VSA_V1] : [])] : [];
}

/** The tags a digest's cosign images live under: the signature, and the attestations when the run attests. */
const cosignTags = (digest: string, attest: boolean): string[] => (attest ? [signatureTag(digest), attestationTag(digest)] : [signatureTag(digest)]);

/** The statements bundles carry: cosign's plain "sign" statement, then each attestation. */
const bundlePredicates = (attestations: string[]): string[] => [COSIGN_SIGN_PREDICATE, ...attestations];

/**
 * Key-based: sign every digest (children first, then the top) that lacks a valid signature, attestation or bundle,
 * writing only what is missing, predicate type by predicate type: one signature, one provenance and one VSA per
 * (key, digest), whatever the re-runs (ECDSA is randomised: signing again would add a second, different layer).
 */
export async function signWithKey(store: ArtifactStore, digests: string[], subjects: SubjectDescriptor[], s: KeySigning, progress: () => void = () => undefined): Promise<SignCounts> {
  const publicKey = await s.signer.publicKeyPem();
  const result: SignCounts = { signed: 0, attested: 0, alreadySigned: 0 };
  const attestations = attestationPredicates(s.attest, !!s.provenance.verification);
  for (const digest of digests) {
    // Idempotent on what exists and verifies, never on whether the image exists (kpromo #1946): a retry after
    // a failed attest signs nothing twice and still writes the missing attestation.
    const needSignature = !(await verifyImageSignatures(store, { publicKey, digest, dockerReference: s.dockerReference })).ok;
    const needAtt: string[] = [];
    for (const predicateType of attestations) if (!(await verifyImageAttestations(store, { publicKey, digest, predicateType })).ok) needAtt.push(predicateType);
    const needBundles: string[] = [];
    if (s.bundles) for (const predicateType of bundlePredicates(attestations)) if (!(await verifyImageBundles(store, { publicKey, digest, predicateType })).ok) needBundles.push(predicateType);
    if (!needSignature && needAtt.length === 0 && needBundles.length === 0) {
      result.alreadySigned++;
      continue;
    }
    const signed = await signDigest(digest, {
      signer: s.signer,
      dockerReference: s.dockerReference,
      ...(attestations.length ? { provenance: s.provenance } : {}),
      ...(needBundles.length ? { bundles: { created: s.provenance.finishedOn, subjects } } : {}),
    });
    if (needSignature) {
      const merged = mergeCosignImage(await store.manifest(signed.signature.tag), signed.signature).artifact;
      if (merged) await store.push(signed.signature.tag, merged);
      result.signed++;
    }
    const layers = (signed.attestationLayers ?? []).filter((l) => needAtt.includes(l.predicateType)).map((l) => l.layer);
    if (layers.length) {
      const tag = attestationTag(digest);
      const merged = mergeCosignImage(await store.manifest(tag), layers).artifact;
      if (merged) await store.push(tag, merged);
      result.attested++;
    }
    for (const r of signed.referrers ?? []) if (needBundles.includes(r.predicateType)) await store.pushReferrer(r.artifact);
    progress();
  }
  return result;
}

export interface KeylessVerification {
  /** Read only when a bundle is there to verify (a file, or the instance's root through TUF). */
  trust: () => Promise<TrustMaterial>;
  identity: IdentityPolicy;
}

/**
 * The statements of `predicateType` about `digest` in bundle referrers that verify against the trusted root and were
 * signed by the expected identity, and why each other referrer was rejected. A malformed referrer (anyone may push
 * one next to the image) is a rejection, never a throw that would hide a good one; reader faults still throw.
 */
export async function keylessStatementsAt(
  store: Pick<ArtifactStore, 'referrers' | 'manifest' | 'blob'>,
  digest: string,
  v: KeylessVerification,
  predicateType: string,
): Promise<{ statements: ParsedStatement[]; rejected: string[]; verified: SubjectDescriptor[] }> {
  const statements: ParsedStatement[] = [];
  const rejected: string[] = [];
  /** The referrers (manifests) whose bundles verified: the evidence a VSA names. */
  const verified: SubjectDescriptor[] = [];
  for (const d of await store.referrers(digest, BUNDLE_V03)) {
    const bytes = await store.manifest(d.digest);
    if (bytes === null) continue;
    let m;
    try {
      m = parseImageManifest(bytes);
    } catch (e) {
      rejected.push(`referrer ${d.digest.slice(0, 19)}: ${(e as Error).message}`);
      continue;
    }
    // A bundle of another statement (cosign's referrers name it) is not read: the verdict would be "wrong predicate
    // type" anyway. Unannotated bundles are read and judged by their signed statement.
    const annotated = m.annotations?.[BUNDLE_PREDICATE_ANNOTATION];
    if (annotated !== undefined && annotated !== predicateType) continue;
    const layer = m.layers.find((l) => l.mediaType === BUNDLE_V03);
    if (!layer) continue;
    const blob = await store.blob(layer.digest, layer.size);
    const r = verifyKeylessBundle(blob, await v.trust(), { digest, predicateType, identity: v.identity });
    if (!r.ok) {
      rejected.push(r.reason);
      continue;
    }
    // Verified above, so the bundle parses and holds a DSSE in-toto statement.
    const b = parseBundle(blob);
    if (isBundleWithDsseEnvelope(b)) {
      statements.push(parseStatement(b.content.dsseEnvelope.payload));
      verified.push(d);
    }
  }
  return { statements, rejected, verified };
}

/** Does a keyless bundle referrer for `digest`, by the expected identity, verify against the trusted root? */
export async function verifyKeylessAt(store: ArtifactStore, digest: string, v: KeylessVerification, predicateType: string): Promise<{ ok: boolean; reason: string }> {
  const { statements, rejected } = await keylessStatementsAt(store, digest, v, predicateType);
  if (statements.length > 0) return { ok: true, reason: '' };
  return { ok: false, reason: rejected.length ? rejected.join('; ') : 'no sigstore bundle referrer' };
}

export interface KeylessSigning extends KeylessVerification {
  attest: boolean;
  fulcioURL: string;
  rekorURL: string;
  /** The OIDC identity token, asked for only when something is to be signed. */
  identityToken: () => string;
  provenance: ProvenanceInputs & { finishedOn: string };
}

/** Keyless: per subject, the bundles (sign, provenance, VSA) it lacks, each with a Fulcio certificate + Rekor entry. */
export async function signKeyless(store: ArtifactStore, subjects: SubjectDescriptor[], s: KeylessSigning): Promise<SignCounts> {
  const result: SignCounts = { signed: 0, attested: 0, alreadySigned: 0 };
  const predicates = bundlePredicates(attestationPredicates(s.attest, !!s.provenance.verification));
  const todo: Array<{ subject: SubjectDescriptor; missing: string[] }> = [];
  for (const subject of subjects) {
    const missing: string[] = [];
    for (const p of predicates) if (!(await verifyKeylessAt(store, subject.digest, s, p)).ok) missing.push(p);
    if (missing.length === 0) result.alreadySigned++;
    else todo.push({ subject, missing });
  }
  if (todo.length === 0) return result;
  const keyless: KeylessOptions = { fulcioURL: s.fulcioURL, rekorURL: s.rekorURL, identityToken: s.identityToken() };
  const signed = await signImageKeyless({ subjects: todo.map((t) => t.subject), created: s.provenance.finishedOn, ...(s.attest ? { provenance: s.provenance } : {}), keyless });
  for (const d of signed) {
    const missing = todo.find((t) => t.subject.digest === d.digest)!.missing;
    for (const r of d.referrers) if (missing.includes(r.predicateType)) await store.pushReferrer(r.artifact);
    if (missing.includes(COSIGN_SIGN_PREDICATE)) result.signed++;
    if (missing.some((p) => p !== COSIGN_SIGN_PREDICATE)) result.attested++;
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
    for (const tag of o.keyless ? [] : cosignTags(digest, o.attest)) {
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

/** A run's .sig/.att images (tag → image), read once from the signing home with every blob digest-checked. */
export type CosignImages = Map<string, Artifact>;

/** Read the digests' .sig (and .att) images from the signing home, once for all of a digest's mirrors. */
export async function readCosignImages(from: ArtifactReader, digests: string[], o: { attest: boolean; fromName: string; image: string }): Promise<CosignImages> {
  const images: CosignImages = new Map();
  for (const digest of digests) {
    for (const tag of cosignTags(digest, o.attest)) {
      const a = await readCosignImage(from, tag);
      if (!a) throw new SignatureMissingError(`${o.fromName} has no ${tag} for ${o.image}: nothing to replicate (was signing skipped?)`);
      images.set(tag, a);
    }
  }
  return images;
}

/** The images as an ArtifactReader: verifying what was read costs no request. */
export function imagesReader(images: CosignImages): ArtifactReader {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Buffer>();
  for (const [tag, a] of images) {
    manifests.set(tag, a.manifest.bytes);
    for (const b of a.blobs) blobs.set(b.digest, b.bytes);
  }
  return {
    manifest: async (tag) => manifests.get(tag) ?? null,
    blob: async (digest) => {
      const b = blobs.get(digest);
      if (!b) throw new Error(`blob ${digest} was not read with the images`);
      return b;
    },
  };
}

/** A mirror's read-back does not show what was just written there: transient (a lagging or racing registry). */
export class ReadBackError extends Error {
  override name = 'ReadBackError';
}

/**
 * Replicate images read and verified at the home to one mirror, and prove them there by content address: a tag that
 * resolves to the digest of the verified manifest holds the verified bytes (its blobs are addressed by digest from
 * it, and a registry commits a blob only under its digest and a manifest only with its blobs present), so nothing is
 * read back but that digest (one GET before, one HEAD after a push). A mirror holding other layers under the tag
 * gets the merge, which is not the home's bytes: those tags are returned, for the caller to verify by reading.
 */
export async function replicateImages(images: CosignImages, to: ArtifactStore, progress: () => void = () => undefined): Promise<{ pushed: number; upToDate: number; merged: string[] }> {
  let pushed = 0;
  let upToDate = 0;
  const merged: string[] = [];
  for (const [tag, src] of images) {
    const existing = await to.manifest(tag);
    if (existing !== null && sha256Digest(existing) === src.manifest.digest) {
      upToDate++;
      continue;
    }
    const plan = existing === null ? src : mergeCosignImage(existing, src).artifact;
    if (plan) {
      await to.push(tag, plan);
      pushed++;
    }
    if (existing !== null) {
      merged.push(tag);
      continue;
    }
    const there = await to.digest(tag);
    if (there !== src.manifest.digest) throw new ReadBackError(`${tag} reads back as ${there ?? 'missing'} after writing ${src.manifest.digest}`);
    progress();
  }
  return { pushed, upToDate, merged };
}

/** One digest whose signature material does not verify at a destination, and why. */
type SignatureProblem = { digest: string; problem: string };

/** What a destination must hold: attestations (provenance, and the VSA when the run writes one) and bundles. */
export interface SignatureExpectation {
  publicKey: string;
  dockerReference: string;
  attest: boolean;
  vsa?: boolean;
  bundles?: boolean;
}

/** Key-based: every digest's signature (and attestations, and bundles when written) verifies at this destination. */
export async function verifyWithKey(store: ArtifactReader & Partial<Pick<ArtifactStore, 'referrers'>>, digests: string[], c: SignatureExpectation): Promise<SignatureProblem[]> {
  const problems: SignatureProblem[] = [];
  const attestations = attestationPredicates(c.attest, !!c.vsa);
  for (const digest of digests) {
    const sig = await verifyImageSignatures(store, { publicKey: c.publicKey, digest, dockerReference: c.dockerReference });
    if (!sig.ok) problems.push({ digest, problem: `signature does not verify: ${sig.reason ?? 'no valid layer'}` });
    for (const predicateType of attestations) {
      const att = await verifyImageAttestations(store, { publicKey: c.publicKey, digest, predicateType });
      if (!att.ok) problems.push({ digest, problem: `${predicateType} attestation does not verify: ${att.reason ?? 'no valid layer'}` });
    }
    if (c.bundles) {
      const lister = store.referrers ? (store as ArtifactReader & Pick<ArtifactStore, 'referrers'>) : undefined;
      if (!lister) throw new Error('verifying bundles needs a store that lists referrers');
      for (const predicateType of bundlePredicates(attestations)) {
        const b = await verifyImageBundles(lister, { publicKey: c.publicKey, digest, predicateType });
        if (!b.ok) problems.push({ digest, problem: `sigstore bundle (${predicateType}) does not verify: ${b.reason ?? 'none valid'}` });
      }
    }
  }
  return problems;
}

/** Keyless: every digest has bundles (sign, and attestations) by the expected identity that verify against the trusted root. */
export async function verifyKeyless(store: ArtifactStore, digests: string[], v: KeylessVerification, attest: boolean, vsa = false): Promise<SignatureProblem[]> {
  const problems: SignatureProblem[] = [];
  for (const digest of digests) {
    for (const p of bundlePredicates(attestationPredicates(attest, vsa))) {
      const r = await verifyKeylessAt(store, digest, v, p);
      if (!r.ok) problems.push({ digest, problem: `keyless bundle (${p}) does not verify: ${r.reason}` });
    }
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
