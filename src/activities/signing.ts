// Signing activities: thin adapters over src/signing's promotion steps (sign once at the signing home, replicate
// to each mirror, verify at each destination). They register endpoints' credentials, resolve key references on the
// worker (the deps' KeyRing; password from COSIGN_PASSWORD there), heartbeat, and turn errors into the taxonomy's typed failures (failures.ts).
// Nothing secret enters a workflow payload, result or log.
import { Context } from '@temporalio/activity';
import {
  type DestinationRef,
  type ReplicateInput,
  type ReplicateResult,
  type SignatureProblem,
  type SignInput,
  type SignResult,
  type SigningRef,
  type VerifySignaturesInput,
} from '../contract';
import type { KeylessPolicy } from '../manifest';
import { repositoryIn } from '../model';
import {
  imagesReader,
  readCosignImages,
  replicateImages,
  replicateSignatures,
  requireSigstoreURL,
  signKeyless,
  signWithKey,
  verifyKeyless,
  verifyWithKey,
  type IdentityPolicy,
  type KeylessVerification,
  type KeyRing,
  type SigningPolicy,
  loadPublicKey,
  publicKeyFingerprint,
} from '../signing';
import { PROMOFLOW_VERSION } from '../version';
import { artifactStore } from './artifacts';
import type { ActivityDeps } from './deps';
import { classify } from './failures';
import { KeyRefError } from './key-refs';

/** The identity a keyless policy demands; a policy without one (an old run's input) is refused, never matched loosely. */
export function identityOf(policy: Pick<KeylessPolicy, 'issuer' | 'subject' | 'subjectRegExp'>): IdentityPolicy & { issuer: string } {
  if (policy.subject !== undefined && policy.subjectRegExp === undefined) return { subject: policy.subject, issuer: policy.issuer };
  if (policy.subjectRegExp !== undefined && policy.subject === undefined) return { subjectRegExp: policy.subjectRegExp, issuer: policy.issuer };
  throw new KeyRefError('keyless: exactly one of subject or subjectRegExp is required');
}

function keylessVerification(keys: KeyRing, policy: KeylessPolicy): KeylessVerification {
  return { trust: () => keys.trustedRoot(policy.trustedRoot), identity: identityOf(policy) };
}

/**
 * The CI's OIDC token, read from the worker's environment (never from a workflow input), and only for a Fulcio and
 * Rekor over HTTPS: they receive it.
 */
function identityToken(policy: KeylessPolicy): string {
  try {
    requireSigstoreURL(policy.fulcioURL ?? 'https://fulcio.sigstore.dev', 'fulcioURL');
    requireSigstoreURL(policy.rekorURL ?? 'https://rekor.sigstore.dev', 'rekorURL');
  } catch (e) {
    throw new KeyRefError((e as Error).message);
  }
  // The operator's variable, never a manifest's (a manifest naming one could send any worker secret to Fulcio).
  const tokenEnv = 'SIGSTORE_ID_TOKEN';
  const token = process.env[tokenEnv];
  if (!token) throw new KeyRefError(`keyless signing: ${tokenEnv} is not set on the worker (the CI's OIDC token)`);
  return token;
}

const publicKeyOf = async (keys: KeyRing, signing: SigningRef): Promise<string> => (await keys.signer(signing.key)).publicKeyPem();

export function signingActivities({ scopes, keys, heartbeat }: ActivityDeps) {
  // Inside a batch, the batch's heartbeat (which keeps its progress reference); else this activity's.
  const beat = heartbeat ?? (() => Context.current().heartbeat());
  return {
    async signAtHome(input: SignInput): Promise<SignResult> {
      try {
        const client = scopes.clientFor(input.home);
        const store = artifactStore(client, repositoryIn(input.home.registry, input.image));
        const policy = input.signing.keyless;
        const { verification, ...rest } = input.provenance;
        // The signing policy the VSA names: the key this worker signs with (by fingerprint), or the keyless identity.
        const signingPolicy = async (): Promise<SigningPolicy> =>
          policy
            ? { type: 'keyless', issuer: policy.issuer, ...(policy.subject !== undefined ? { subject: policy.subject } : {}), ...(policy.subjectRegExp !== undefined ? { subjectRegExp: policy.subjectRegExp } : {}) }
            : { type: 'key', keyFingerprint: publicKeyFingerprint(loadPublicKey(await publicKeyOf(keys, input.signing))) };
        const provenance = { ...rest, promoflowVersion: PROMOFLOW_VERSION, ...(verification ? { verification: { ...verification, signingPolicy: verification.signingPolicy ?? (await signingPolicy()) } } : {}) };
        if (policy) {
          return await signKeyless(store, input.subjects ?? [], {
            ...keylessVerification(keys, policy),
            attest: input.signing.attest,
            provenance,
            fulcioURL: policy.fulcioURL ?? 'https://fulcio.sigstore.dev',
            rekorURL: policy.rekorURL ?? 'https://rekor.sigstore.dev',
            identityToken: () => identityToken(policy),
          });
        }
        const signer = await keys.signer(input.signing.key);
        return await signWithKey(
          store,
          [...input.children, input.digest],
          input.subjects ?? [],
          { signer, dockerReference: `${input.signing.dockerReference}/${input.image}`, attest: input.signing.attest, bundles: !!input.signing.bundles, provenance },
          beat,
        );
      } catch (e) {
        throw classify(e);
      }
    },

    async replicateSignatures(input: ReplicateInput): Promise<ReplicateResult> {
      try {
        const client = scopes.clientFor(input.from, input.to);
        const from = artifactStore(client, repositoryIn(input.from.registry, input.image));
        const to = artifactStore(client, repositoryIn(input.to.registry, input.image));
        return await replicateSignatures(
          from,
          to,
          input.digests,
          { attest: input.attest, bundles: !!input.bundles, keyless: !!input.keyless, fromName: input.from.name, image: input.image },
          beat,
        );
      } catch (e) {
        throw classify(e);
      }
    },

    async verifySignatures(input: VerifySignaturesInput): Promise<SignatureProblem[]> {
      try {
        const client = scopes.clientFor(input.destination);
        const store = artifactStore(client, repositoryIn(input.destination.registry, input.image));
        const keyless = input.signing.keyless;
        const publicKey = keyless ? '' : await publicKeyOf(keys, input.signing);
        // Reader faults throw (transient, retried); a problem is a verdict on intact bytes.
        const judge = (digests: string[]): Promise<SignatureProblem[]> => {
          beat();
          return keyless
            ? verifyKeyless(store, digests, keylessVerification(keys, keyless), input.signing.attest, !!input.vsa)
            : verifyWithKey(store, digests, { publicKey, dockerReference: `${input.signing.dockerReference}/${input.image}`, attest: input.signing.attest, vsa: !!input.vsa, bundles: !!input.signing.bundles });
        };
        // ...and stands only if it stands twice: judged again from fresh reads (a write racing the first read, say).
        const first = await judge(input.digests);
        if (first.length === 0) return first;
        const key = (p: SignatureProblem) => `${p.digest}\n${p.problem}`;
        const again = new Set((await judge([...new Set(first.map((p) => p.digest))])).map(key));
        return first.filter((p) => again.has(key(p)));
      } catch (e) {
        throw classify(e);
      }
    },
  };
}

/** Where a digest's verified cosign images stand at one mirror: verified there, its problems, or the error that stopped it. */
export type MirrorOutcome = { ok: true } | { ok: false; problems: SignatureProblem[] } | { ok: false; error: Error };

/**
 * The batch path for key-based signatures (no bundles): a digest's .sig/.att images are read at the signing home once
 * and verified there (in memory: the bytes read are the bytes judged, and a problem stands only if it stands on a
 * second read), then replicated to every mirror and proven there by content address (replicateImages): about two
 * requests per tag and mirror instead of a read of every blob at the home and at the mirror. `home` holds the
 * problems at the home; when there are any, nothing is replicated.
 */
export function replicateToMirrors(deps: ActivityDeps) {
  const sign = signingActivities(deps);
  const beat = deps.heartbeat ?? (() => Context.current().heartbeat());
  return async (input: { image: string; digests: string[]; signing: SigningRef; vsa: boolean; from: DestinationRef; to: DestinationRef[] }): Promise<{ home: SignatureProblem[]; mirrors: MirrorOutcome[] }> => {
    const client = deps.scopes.clientFor(input.from, ...input.to);
    const home = artifactStore(client, repositoryIn(input.from.registry, input.image));
    const expect = { publicKey: await publicKeyOf(deps.keys, input.signing), dockerReference: `${input.signing.dockerReference}/${input.image}`, attest: input.signing.attest, vsa: input.vsa };
    const read = () => readCosignImages(home, input.digests, { attest: input.signing.attest, fromName: input.from.name, image: input.image });
    let images = await read();
    let problems = await verifyWithKey(imagesReader(images), input.digests, expect);
    if (problems.length) {
      images = await read();
      problems = await verifyWithKey(imagesReader(images), input.digests, expect);
    }
    if (problems.length) return { home: problems, mirrors: [] };
    const mirrors = await Promise.all(
      input.to.map(async (d): Promise<MirrorOutcome> => {
        try {
          const r = await replicateImages(images, artifactStore(client, repositoryIn(d.registry, input.image)), beat);
          // A merge (the mirror held other layers under the tag) is not the home's bytes: judged by reading it.
          const found = r.merged.length ? await sign.verifySignatures({ image: input.image, digests: input.digests, destination: d, signing: input.signing, vsa: input.vsa }) : [];
          return found.length ? { ok: false, problems: found } : { ok: true };
        } catch (e) {
          return { ok: false, error: classify(e) };
        }
      }),
    );
    return { home: [], mirrors };
  };
}
