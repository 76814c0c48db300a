// Signing activities: sign and attest a promoted digest once (at its signing home, the canonical destination),
// replicate the .sig/.att images byte-for-byte to every other destination (merging, never duplicating, with
// signature layers a mirror already has), and verify them in-process at each destination as a gate. Keys are
// loaded here, inside the worker, from a reference (file:// or env://) with COSIGN_PASSWORD from the worker's
// environment; nothing secret enters a workflow payload, result or log.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { RegistryClient } from '../oci';
import { attestationTag, repositoryIn, signatureTag, type RepositoryRef, type SubjectDescriptor } from '../model';
import { listReferrers } from '../oci/referrers';
import {
  loadPrivateKey, mergeCosignImage, planMirrorPush, readCosignImage, signDigest, signingNeeds, verifyImageAttestations, verifyImageSignatures,
  verifyImageBundles, signImageKeyless, trustMaterialFromTrustedRoot, verifyKeylessBundle, BUNDLE_V03, COSIGN_SIGN_PREDICATE, SLSA_PROVENANCE_V1, KeyDecryptionError, KeyFormatError, type Signer,
} from '../signing';
import { SIGNATURE_MISSING, SIGNING_KEY_UNAVAILABLE, type ReplicateInput, type ReplicateResult, type SignatureProblem, type SignInput, type SignResult, type SigningRef, type VerifySignaturesInput } from '../contract';
import type { KeylessPolicy } from '../manifest/spec';
import type { TrustMaterial } from '@sigstore/verify';
import { artifactReader, pushArtifact, pushReferrerArtifact } from './artifacts';
import { KeyRefError, readKeyRef } from './key-refs';
import { PROMOFLOW_VERSION } from '../version';
import { classify } from './failures';
import type { ActivityDeps } from './deps';


const signers = new Map<string, Promise<Signer>>();

/** The signer for a key reference, loaded once per worker (scrypt key derivation is deliberately slow). */
export function signerFor(keyRef: string): Promise<Signer> {
  let s = signers.get(keyRef);
  if (!s) {
    s = (async () => {
      return loadPrivateKey(readKeyRef(keyRef, 'signing key'), process.env.COSIGN_PASSWORD);
    })();
    s.catch(() => signers.delete(keyRef));
    signers.set(keyRef, s);
  }
  return s;
}

const keyOf = (r: SigningRef): string => {
  if (!r.key) throw new KeyRefError('signing key: none configured (neither key nor keyless)');
  return r.key;
};

const trustCache = new Map<string, TrustMaterial>();

/** The trust material a keyless policy names (a trusted_root.json on the worker), parsed once per worker. */
function trustFor(policy: KeylessPolicy): TrustMaterial {
  const ref = policy.trustedRoot;
  if (!ref) throw new KeyRefError('keyless verification: signing.keyless.trustedRoot is not set');
  let t = trustCache.get(ref);
  if (!t) {
    let json: unknown;
    try {
      json = JSON.parse(readKeyRef(ref, 'trusted root'));
    } catch (e) {
      if (e instanceof KeyRefError) throw e;
      throw new KeyRefError(`trusted root ${ref}: not JSON`);
    }
    t = trustMaterialFromTrustedRoot(json);
    trustCache.set(ref, t);
  }
  return t;
}

/** Does a keyless bundle referrer for `digest`, by the policy's identity, verify against the trusted root? */
async function verifyKeylessAt(client: RegistryClient, repo: RepositoryRef, digest: string, policy: KeylessPolicy, predicateType: string): Promise<{ ok: boolean; reason: string }> {
  const reader = artifactReader(client, repo);
  const reasons: string[] = [];
  for (const d of await listReferrers(client, repo, digest, { artifactType: BUNDLE_V03 })) {
    const bytes = await reader.manifest(d.digest);
    const layer = bytes && (JSON.parse(bytes.toString('utf8')) as { layers: Array<{ digest: string; mediaType: string }> }).layers.find((l) => l.mediaType === BUNDLE_V03);
    if (!layer) continue;
    const v = verifyKeylessBundle(await reader.blob(layer.digest), trustFor(policy), { digest, predicateType, identity: { subjectAlternativeName: policy.subject, issuer: policy.issuer } });
    if (v.ok) return { ok: true, reason: '' };
    reasons.push(v.reason);
  }
  return { ok: false, reason: reasons.length ? reasons.join('; ') : 'no sigstore bundle referrer' };
}

/** Keyless: per digest that lacks a verifying bundle, Fulcio certificate + Rekor entry, pushed as referrers. */
async function signKeyless(client: RegistryClient, repo: RepositoryRef, input: SignInput, policy: KeylessPolicy): Promise<SignResult> {
  const result: SignResult = { signed: 0, attested: 0, alreadySigned: 0 };
  const predicateType = input.signing.attest ? SLSA_PROVENANCE_V1 : COSIGN_SIGN_PREDICATE;
  const subjects: SubjectDescriptor[] = [];
  for (const s of input.subjects ?? []) {
    if ((await verifyKeylessAt(client, repo, s.digest, policy, predicateType)).ok) result.alreadySigned++;
    else subjects.push(s);
  }
  if (subjects.length === 0) return result;
  const tokenEnv = policy.tokenEnv ?? 'SIGSTORE_ID_TOKEN';
  const identityToken = process.env[tokenEnv];
  if (!identityToken) throw new KeyRefError(`keyless signing: ${tokenEnv} is not set on the worker (the CI's OIDC token)`);
  const signed = await signImageKeyless({
    subjects,
    created: input.provenance.finishedOn,
    ...(input.signing.attest ? { provenance: { ...input.provenance, promoflowVersion: PROMOFLOW_VERSION } } : {}),
    keyless: { fulcioURL: policy.fulcioURL ?? 'https://fulcio.sigstore.dev', rekorURL: policy.rekorURL ?? 'https://rekor.sigstore.dev', identityToken },
  });
  for (const d of signed) {
    for (const r of d.referrers) await pushReferrerArtifact(client, repo, r.artifact);
    result.signed++;
    if (input.signing.attest) result.attested++;
  }
  return result;
}

const nonRetryable = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

export function signingActivities({ client, credentials }: ActivityDeps) {
  return {
    async signAtHome(input: SignInput): Promise<SignResult> {
      try {
        credentials.register(input.home);
        const repo = repositoryIn(input.home.registry, input.image);
        if (input.signing.keyless) return await signKeyless(client, repo, input, input.signing.keyless);
        const reader = artifactReader(client, repo);
        const signer = await signerFor(keyOf(input.signing));
        const publicKey = await signer.publicKeyPem();
        const dockerReference = `${input.signing.dockerReference}/${input.image}`;
        const result: SignResult = { signed: 0, attested: 0, alreadySigned: 0 };
        for (const digest of [...input.children, input.digest]) {
          // Idempotent on what exists and verifies, never on whether the image exists (kpromo #1946): a retry after
          // a failed attest signs nothing twice and still writes the missing attestation.
          const needs = await signingNeeds(reader, { publicKey, digest, dockerReference, predicateType: SLSA_PROVENANCE_V1 });
          const bundlePredicate = input.signing.attest ? SLSA_PROVENANCE_V1 : COSIGN_SIGN_PREDICATE;
          const needBundles = !!input.signing.bundles && !(await verifyImageBundles(reader, { publicKey, digest, predicateType: bundlePredicate })).ok;
          if (!needs.signature && (!input.signing.attest || !needs.attestation) && !needBundles) {
            result.alreadySigned++;
            continue;
          }
          const withProvenance = input.signing.attest && (needs.attestation || needBundles);
          const signed = await signDigest(digest, {
            signer,
            dockerReference,
            ...(withProvenance ? { provenance: { ...input.provenance, promoflowVersion: PROMOFLOW_VERSION } } : {}),
            ...(needBundles ? { bundles: { created: input.provenance.finishedOn, subjects: input.subjects ?? [] } } : {}),
          });
          if (needs.signature) {
            const merged = mergeCosignImage(await reader.manifest(signed.signature.tag), signed.signature).artifact;
            if (merged) await pushArtifact(client, repo, signed.signature.tag, merged);
            result.signed++;
          }
          if (signed.attestation && needs.attestation) {
            const merged = mergeCosignImage(await reader.manifest(signed.attestation.tag), signed.attestation).artifact;
            if (merged) await pushArtifact(client, repo, signed.attestation.tag, merged);
            result.attested++;
          }
          for (const r of signed.referrers ?? []) await pushReferrerArtifact(client, repo, r.artifact);
          Context.current().heartbeat();
        }
        return result;
      } catch (e) {
        if (e instanceof KeyRefError || e instanceof KeyDecryptionError || e instanceof KeyFormatError) throw nonRetryable(SIGNING_KEY_UNAVAILABLE, e.message);
        throw classify(e);
      }
    },

    async replicateSignatures(input: ReplicateInput): Promise<ReplicateResult> {
      try {
        credentials.register(input.from);
        credentials.register(input.to);
        const from = artifactReader(client, repositoryIn(input.from.registry, input.image));
        const toRepo = repositoryIn(input.to.registry, input.image);
        const to = artifactReader(client, toRepo);
        let pushed = 0;
        let upToDate = 0;
        for (const digest of input.digests) {
          for (const tag of input.keyless ? [] : input.attest ? [signatureTag(digest), attestationTag(digest)] : [signatureTag(digest)]) {
            const src = await readCosignImage(from, tag);
            if (!src) throw nonRetryable(SIGNATURE_MISSING, `${input.from.name} has no ${tag} for ${input.image}: nothing to replicate (was signing skipped?)`);
            const plan = await planMirrorPush(src, to, tag);
            if (plan) {
              await pushArtifact(client, toRepo, tag, plan);
              pushed++;
            } else upToDate++;
          }
          if (input.bundles) {
            const fromRepo = repositoryIn(input.from.registry, input.image);
            const have = new Set((await listReferrers(client, toRepo, digest, { artifactType: BUNDLE_V03 })).map((d) => d.digest));
            for (const d of await listReferrers(client, fromRepo, digest, { artifactType: BUNDLE_V03 })) {
              if (have.has(d.digest)) {
                upToDate++;
                continue;
              }
              const bytes = await from.manifest(d.digest);
              if (!bytes) throw nonRetryable(SIGNATURE_MISSING, `${input.from.name} lists bundle ${d.digest} for ${input.image} but does not hold it`);
              const m = JSON.parse(bytes.toString('utf8')) as { config: { digest: string; mediaType: string }; layers: Array<{ digest: string; mediaType: string }> };
              const blobs = await Promise.all([m.config, ...m.layers].map(async (l) => ({ digest: l.digest, mediaType: l.mediaType, bytes: await from.blob(l.digest) })));
              await pushReferrerArtifact(client, toRepo, { manifest: { bytes, mediaType: d.mediaType, digest: d.digest }, blobs });
              pushed++;
            }
          }
          Context.current().heartbeat();
        }
        return { pushed, upToDate };
      } catch (e) {
        throw e instanceof ApplicationFailure ? e : classify(e);
      }
    },

    async verifySignatures(input: VerifySignaturesInput): Promise<SignatureProblem[]> {
      try {
        credentials.register(input.destination);
        const repo = repositoryIn(input.destination.registry, input.image);
        if (input.signing.keyless) {
          const problems: SignatureProblem[] = [];
          for (const digest of input.digests) {
            const v = await verifyKeylessAt(client, repo, digest, input.signing.keyless, input.signing.attest ? SLSA_PROVENANCE_V1 : COSIGN_SIGN_PREDICATE);
            if (!v.ok) problems.push({ digest, problem: `keyless bundle does not verify: ${v.reason}` });
          }
          return problems;
        }
        const reader = artifactReader(client, repo);
        const publicKey = await (await signerFor(keyOf(input.signing))).publicKeyPem();
        const dockerReference = `${input.signing.dockerReference}/${input.image}`;
        const problems: SignatureProblem[] = [];
        for (const digest of input.digests) {
          const sig = await verifyImageSignatures(reader, { publicKey, digest, dockerReference });
          if (!sig.ok) problems.push({ digest, problem: `signature does not verify: ${sig.reason ?? 'no valid layer'}` });
          if (input.signing.attest) {
            const att = await verifyImageAttestations(reader, { publicKey, digest, predicateType: SLSA_PROVENANCE_V1 });
            if (!att.ok) problems.push({ digest, problem: `attestation does not verify: ${att.reason ?? 'no valid layer'}` });
          }
          if (input.signing.bundles) {
            const b = await verifyImageBundles(reader, { publicKey, digest, predicateType: input.signing.attest ? SLSA_PROVENANCE_V1 : COSIGN_SIGN_PREDICATE });
            if (!b.ok) problems.push({ digest, problem: `sigstore bundle does not verify: ${b.reason ?? 'none valid'}` });
          }
        }
        return problems;
      } catch (e) {
        if (e instanceof KeyRefError || e instanceof KeyDecryptionError || e instanceof KeyFormatError) throw nonRetryable(SIGNING_KEY_UNAVAILABLE, e.message);
        throw classify(e);
      }
    },
  };
}
