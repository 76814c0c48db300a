// Keyless signing: an ephemeral key certified by Fulcio for the caller's OIDC identity, the signature witnessed in
// Rekor, all packed into a sigstore bundle (sigstore-js). The OIDC token is passed in as a value by the activity
// (read from the CI environment there) and is never logged, returned or stored by this module.
import { FulcioSigner, RekorWitness, type Signer as SigstoreSigner, type Witness } from '@sigstore/sign';
import type { Bundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, type TrustMaterial } from '@sigstore/verify';
import type { Artifact } from './artifacts';
import { bundleReferrer, COSIGN_SIGN_PREDICATE, cosignSignStatement, serializeBundle, signStatementBundle, verifyBundle, type BundleCheck, type IdentityPolicy } from './bundle';
import { attestationStatements, type ProvenanceInputs } from './sign-image';
import type { SubjectDescriptor } from '../model';

export interface KeylessOptions {
  fulcioURL: string;
  rekorURL: string;
  /** The OIDC identity token (a value, not a file path or env name). */
  identityToken: string;
  timeoutMs?: number;
  retries?: number;
}

export interface KeylessMaterial {
  signer: SigstoreSigner;
  witnesses: Witness[];
}

/** Loopback hosts, the one exception to HTTPS (offline tests with mock Fulcio/Rekor). */
const LOOPBACK = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;

/**
 * Fulcio and Rekor receive the worker's OIDC token and vouch for signatures: HTTPS only (plain HTTP to loopback
 * for tests). Returns the URL; throws one line naming the field and the fix.
 */
export function requireSigstoreURL(url: string, field: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`keyless.${field} ${JSON.stringify(url)} is not a URL: expected https://host[/path]`);
  }
  if (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.test(u.hostname))) return url;
  throw new Error(`keyless.${field} ${JSON.stringify(url)} is not HTTPS: it receives the worker's OIDC token; use https:// (plain http only to loopback)`);
}

export function keylessMaterial(opts: KeylessOptions): KeylessMaterial {
  const token = opts.identityToken;
  if (!token) throw new Error('keyless signing needs an OIDC identity token');
  requireSigstoreURL(opts.fulcioURL, 'fulcioURL');
  requireSigstoreURL(opts.rekorURL, 'rekorURL');
  const fetchOpts = { timeout: opts.timeoutMs ?? 30_000, retry: opts.retries ?? 2 };
  return {
    signer: new FulcioSigner({ fulcioBaseURL: opts.fulcioURL, identityProvider: { getToken: () => Promise.resolve(token) }, ...fetchOpts }),
    witnesses: [new RekorWitness({ rekorBaseURL: opts.rekorURL, entryType: 'dsse', ...fetchOpts })],
  };
}

/** DSSE-sign an in-toto statement keylessly: a v0.3 bundle with the Fulcio certificate and the Rekor entry. */
export async function signStatementKeyless(statementBytes: Buffer, opts: KeylessOptions): Promise<Bundle> {
  const m = keylessMaterial(opts);
  try {
    return await signStatementBundle(statementBytes, m.signer, m.witnesses);
  } catch (e) {
    // sigstore-js errors may quote the request; make sure the token never travels up in a message.
    const msg = String((e as Error).message ?? e).split(opts.identityToken).join('[token]');
    throw new Error(`keyless signing failed: ${msg}`);
  }
}

export interface KeylessImageInput {
  /** Every manifest to sign (an index and each child), with size and media type for the referrer's subject. */
  subjects: SubjectDescriptor[];
  provenance?: ProvenanceInputs;
  /** org.opencontainers.image.created of the referrers (passed in: deterministic on retry). */
  created: string;
  keyless: KeylessOptions;
}

/**
 * Keyless signing of promoted manifests: per digest a cosign-sign bundle and, with provenance, a SLSA bundle (and a VSA bundle),
 * each as an OCI referrer (cosign v3's format; the legacy .sig of keyless cosign is not produced).
 */
export async function signImageKeyless(input: KeylessImageInput): Promise<Array<{ digest: string; referrers: Array<{ predicateType: string; artifact: Artifact }> }>> {
  const out = [];
  for (const subject of input.subjects) {
    const statements: Array<[string, Buffer]> = [[COSIGN_SIGN_PREDICATE, cosignSignStatement(subject.digest)]];
    if (input.provenance) statements.push(...attestationStatements(input.provenance, subject.digest));
    const referrers = [];
    for (const [predicateType, st] of statements) {
      const bundle = serializeBundle(await signStatementKeyless(st, input.keyless));
      referrers.push({ predicateType, artifact: bundleReferrer(bundle, predicateType, subject, input.created) });
    }
    out.push({ digest: subject.digest, referrers });
  }
  return out;
}

/** Trust material from a sigstore trusted_root.json (public-good from TUF, or a private/mock instance's). */
export function trustMaterialFromTrustedRoot(trustedRootJson: unknown): TrustMaterial {
  return toTrustMaterial(trustedRootFromJson(trustedRootJson));
}

function trustedRootFromJson(json: unknown): TrustedRoot {
  try {
    return TrustedRoot.fromJSON(json);
  } catch (e) {
    throw new Error(`trusted root is malformed: ${(e as Error).message}`);
  }
}

/**
 * Verify a keyless bundle: certificate chains to a trusted Fulcio root, SCT and Rekor entry present and valid, the
 * signature made while the certificate was valid (Rekor's integrated time), and the identity is the expected one.
 */
export function verifyKeylessBundle(bundleBytes: Buffer, trust: TrustMaterial, check: BundleCheck & { identity: IdentityPolicy }): { ok: true } | { ok: false; reason: string } {
  return verifyBundle(bundleBytes, trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }, check, check.identity);
}
