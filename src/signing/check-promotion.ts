// The consumer's check of a promoted digest, at any registry that holds it (what `promoflow verify` runs): the
// signature, the SLSA provenance and the VSA each verify with the trusted key (cosign .sig/.att images) or, keyless,
// against a sigstore trust root by the expected identity and issuer (bundle referrers, as keyless runs write them),
// and name this digest; their content meets the consumer's policy (builder, required phases, required approvals,
// the source policy). A malformed artifact is a failed check; only a registry fault throws. Registry access
// through an ArtifactStore passed in; no Temporal, no promoflow state.
import { attestationTag, digestHex } from '../model';
import { BlobUnknownError, DigestMismatchError, LimitExceededError, ManifestTooLargeError, ManifestUnknownError, OciError, sha256 as sha256Digest } from '../oci';
import { DSSE_LAYER, PREDICATE_TYPE_ANNOTATION, parseImageManifest } from './artifacts';
import { COSIGN_SIGN_PREDICATE, describeIdentity, type IdentityPolicy } from './bundle';
import { parseEnvelope } from './dsse';
import { parseStatement } from './intoto';
import { loadPublicKey } from './keys';
import { keylessStatementsAt, type KeylessVerification } from './promotion';
import { BUILDER_ID_BASE, SLSA_PROVENANCE_V1, type ProvenanceV1 } from './slsa-provenance';
import type { ArtifactStore } from './store';
import { verifyAttestationEnvelope, verifyImageSignatures } from './verify';
import { SLSA_VSA_V1, type VsaV1 } from './vsa';

/** Who must have signed the promotion: the promoter's key, or a keyless identity under a sigstore trust root. */
export type TrustedSigner = { type: 'key'; publicKey: string } | ({ type: 'keyless' } & KeylessVerification);

/** What the consumer requires (the policy file, validated by the CLI). */
export interface PromotionPolicy {
  signer: TrustedSigner;
  /** The provenance's builder.id must start with this (default: promoflow's builder). */
  builder?: string;
  /** Phases the digest must have gone through (in its provenance's rollout record). */
  requirePhases?: string[];
  /** Approval gates that must have been passed: the phase, and optionally who may have approved. */
  requireApprovals?: Array<{ phase: string; by?: string[] }>;
  /** The VSA's source policy must name this key fingerprint (sha256:<hex> of the DER public key). */
  sourceKeyFingerprint?: string;
  /** The VSA's source policy must be keyless with exactly this issuer and subject (or subjectRegExp). */
  sourceIdentity?: IdentityPolicy & { issuer: string };
}

export type CheckName = 'signature' | 'provenance' | 'vsa';

export interface CheckResult {
  check: CheckName;
  ok: boolean;
  /** One line: what was found, or why it fails. */
  detail: string;
}

export interface PromotionReport {
  digest: string;
  ok: boolean;
  checks: CheckResult[];
  provenance?: ProvenanceV1;
  vsa?: VsaV1;
}

/** The statements of `predicateType` in the digest's .att image that verify with the key and name the digest. */
async function keyStatements(reader: ArtifactStore, digest: string, publicKey: string, predicateType: string): Promise<{ statements: unknown[]; rejected: string[] }> {
  const raw = await reader.manifest(attestationTag(digest));
  if (raw === null) return { statements: [], rejected: [`no attestation image (${attestationTag(digest)})`] };
  const rejected: string[] = [];
  const statements: unknown[] = [];
  let layers;
  try {
    layers = parseImageManifest(raw).layers;
  } catch (e) {
    return { statements, rejected: [`attestation image ${attestationTag(digest)} (${sha256Digest(raw)}): ${firstLine(e)}`] };
  }
  for (const layer of layers) {
    if (layer.mediaType !== DSSE_LAYER || layer.annotations?.[PREDICATE_TYPE_ANNOTATION] !== predicateType) continue;
    const bytes = await reader.blob(layer.digest, layer.size);
    if (sha256Digest(bytes) !== layer.digest) {
      rejected.push(`layer ${layer.digest.slice(0, 19)} does not match its digest`);
      continue;
    }
    const v = verifyAttestationEnvelope(bytes, { publicKey, digest, predicateType });
    if (!v.ok) {
      rejected.push(v.reason);
      continue;
    }
    statements.push(parseStatement(parseEnvelope(bytes).payload).predicate);
  }
  if (statements.length === 0 && rejected.length === 0) rejected.push(`no ${predicateType} layer`);
  return { statements, rejected };
}

/** The verified predicates of `predicateType` for the digest, by the trusted signer, and why others were rejected. */
async function verifiedStatements(reader: ArtifactStore, digest: string, signer: TrustedSigner, predicateType: string): Promise<{ statements: unknown[]; rejected: string[] }> {
  if (signer.type === 'key') return keyStatements(reader, digest, signer.publicKey, predicateType);
  const r = await keylessStatementsAt(reader, digest, signer, predicateType);
  const statements = r.statements.map((st) => st.predicate);
  if (statements.length === 0 && r.rejected.length === 0) r.rejected.push(`no sigstore bundle referrer of ${predicateType}`);
  return { statements, rejected: r.rejected };
}

/** Signed predicates are read defensively: one that is not a JSON object is rejected, never dereferenced. */
function objects<T>(found: { statements: unknown[]; rejected: string[] }): { statements: T[]; rejected: string[] } {
  const statements = found.statements.filter((p): p is T => typeof p === 'object' && p !== null && !Array.isArray(p));
  const rejected = statements.length < found.statements.length ? [...found.rejected, 'a verified predicate is not a JSON object'] : found.rejected;
  return { statements, rejected };
}

function provenanceProblems(p: ProvenanceV1, policy: PromotionPolicy): string[] {
  const out: string[] = [];
  const builder = policy.builder ?? BUILDER_ID_BASE;
  const id = p.runDetails?.builder?.id ?? '';
  if (!id.startsWith(builder)) out.push(`builder is ${JSON.stringify(id)}, the policy expects ${builder}`);
  const phases = p.buildDefinition?.externalParameters?.rollout?.phases ?? [];
  for (const name of policy.requirePhases ?? []) if (!phases.some((ph) => ph.name === name)) out.push(`required phase ${name} is not in the rollout record (phases: ${phases.map((ph) => ph.name).join(', ') || 'none'})`);
  for (const req of policy.requireApprovals ?? []) {
    const a = phases.find((ph) => ph.name === req.phase)?.approval;
    if (!a) out.push(`required approval of phase ${req.phase} is not in the rollout record`);
    else if (req.by && !req.by.includes(a.by)) out.push(`phase ${req.phase} was approved by ${a.by}, the policy accepts ${req.by.join(', ')}`);
  }
  return out;
}

/** Signed by the trusted key, yet read defensively: a field missing reads as absent, never as a crash. */
function describeProvenance(p: ProvenanceV1): string {
  const phases = p.buildDefinition?.externalParameters?.rollout?.phases ?? [];
  const approvals = phases.filter((ph) => ph.approval).map((ph) => `${ph.name} approved by ${ph.approval!.by}${ph.approval!.reason ? ` (${ph.approval!.reason})` : ''}`);
  return [`builder ${p.runDetails?.builder?.id}`, `run ${p.runDetails?.metadata?.invocationId}`, phases.length ? `phases ${phases.map((ph) => ph.name).join(' → ')}` : 'no rollout record', ...approvals].join('; ');
}

/** The VSA's source policy, in one phrase (read field by field: signed, yet untyped JSON). */
function describeSource(source: Partial<Record<string, unknown>>): string {
  if (source['type'] === 'key') return `key ${String(source['keyFingerprint'])}`;
  if (source['type'] === 'keyless') return `keyless ${source['subject'] !== undefined ? String(source['subject']) : `/${String(source['subjectRegExp'])}/`} (issuer ${String(source['issuer'])})`;
  return 'none';
}

function vsaProblems(v: VsaV1, policy: PromotionPolicy): string[] {
  const out: string[] = [];
  if (v.verificationResult !== 'PASSED') out.push(`verificationResult is ${v.verificationResult}`);
  const source = sourceOf(v);
  if (policy.sourceKeyFingerprint && (source['type'] !== 'key' || source['keyFingerprint'] !== policy.sourceKeyFingerprint)) {
    out.push(`source policy is ${describeSource(source)}, the policy expects key ${policy.sourceKeyFingerprint}`);
  }
  const want = policy.sourceIdentity;
  if (want && (source['type'] !== 'keyless' || source['issuer'] !== want.issuer || source['subject'] !== want.subject || source['subjectRegExp'] !== want.subjectRegExp)) {
    out.push(`source policy is ${describeSource(source)}, the policy expects keyless ${describeIdentity(want)}`);
  }
  return out;
}

/** The VSA's source policy (SourcePolicy as promoflow writes it), read field by field: signed, yet untyped JSON. */
const sourceOf = (v: VsaV1): Partial<Record<string, unknown>> => {
  const s = v.policy?.annotations?.['source'];
  return typeof s === 'object' && s !== null ? (s as Record<string, unknown>) : {};
};

/** The signature check: cosign's .sig with the key; keyless, a cosign-sign bundle by the identity. */
async function signatureCheck(reader: ArtifactStore, digest: string, signer: TrustedSigner): Promise<CheckResult> {
  if (signer.type === 'key') {
    const sig = await verifyImageSignatures(reader, { publicKey: loadPublicKey(signer.publicKey), digest });
    return { check: 'signature', ok: sig.ok, detail: sig.ok ? `${sig.verified.length} signature layer(s) verify with the trusted key` : `not signed by the trusted key: ${sig.reason ?? 'no valid layer'}` };
  }
  const r = await keylessStatementsAt(reader, digest, signer, COSIGN_SIGN_PREDICATE);
  const who = describeIdentity(signer.identity);
  return r.statements.length
    ? { check: 'signature', ok: true, detail: `${r.statements.length} sigstore bundle(s) signed by ${who} verify against the trust root` }
    : { check: 'signature', ok: false, detail: `not signed by ${who}: ${r.rejected.length ? r.rejected.join('; ') : 'no sigstore bundle referrer'}` };
}

const firstLine = (e: unknown): string => String((e as Error)?.message ?? e).split('\n')[0] ?? '';

/**
 * A registry fault (unreachable, failing, rate-limiting, refusing our credentials, TLS): not a verdict on the
 * digest, so it throws through checkPromotion. What goes wrong while judging content (bytes that stay other than
 * their digest, a manifest or layer too large, a blob it names missing, an artifact that is not what it claims) is
 * a failed check.
 */
export function isRegistryFault(e: unknown): boolean {
  if (!(e instanceof OciError)) return false;
  const content = e instanceof DigestMismatchError || e instanceof ManifestTooLargeError || e instanceof LimitExceededError || e instanceof BlobUnknownError || e instanceof ManifestUnknownError;
  return !content;
}

/** Run one check; a content problem it throws on is that check's failure (named), a registry fault propagates. */
async function judged(check: CheckName, run: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await run();
  } catch (e) {
    if (isRegistryFault(e)) throw e;
    return { check, ok: false, detail: `malformed ${check} evidence: ${firstLine(e)}` };
  }
}

/** Every check, each with one line; ok only when all pass. Registry faults throw (a fault is not a verdict). */
export async function checkPromotion(reader: ArtifactStore, digest: string, policy: PromotionPolicy): Promise<PromotionReport> {
  digestHex(digest);
  const { signer } = policy;
  const checks: CheckResult[] = [];
  const report: PromotionReport = { digest, ok: false, checks };
  const by = signer.type === 'key' ? 'the trusted key' : `${describeIdentity(signer.identity)}`;
  checks.push(await judged('signature', () => signatureCheck(reader, digest, signer)));

  checks.push(
    await judged('provenance', async () => {
      const prov = objects<ProvenanceV1>(await verifiedStatements(reader, digest, signer, SLSA_PROVENANCE_V1));
      if (prov.statements.length === 0) return { check: 'provenance', ok: false, detail: `no provenance for ${digest} verifies with ${by}: ${prov.rejected.join('; ')}` };
      // One per (signer, digest) is what promoflow writes; any one meeting the policy passes.
      const all = prov.statements;
      const good = all.find((p) => provenanceProblems(p, policy).length === 0);
      report.provenance = good ?? all[0];
      return good ? { check: 'provenance', ok: true, detail: describeProvenance(good) } : { check: 'provenance', ok: false, detail: provenanceProblems(all[0]!, policy).join('; ') };
    }),
  );

  checks.push(
    await judged('vsa', async () => {
      const vsa = objects<VsaV1>(await verifiedStatements(reader, digest, signer, SLSA_VSA_V1));
      if (vsa.statements.length === 0) return { check: 'vsa', ok: false, detail: `no verification summary for ${digest} verifies with ${by}: ${vsa.rejected.join('; ')}` };
      const all = vsa.statements;
      const good = all.find((v) => vsaProblems(v, policy).length === 0);
      report.vsa = good ?? all[0];
      return good
        ? { check: 'vsa', ok: true, detail: `${good.verificationResult} by ${good.verifier?.id} ${good.verifier?.version?.['promoflow'] ?? ''}; source policy: ${describeSource(sourceOf(good))}` }
        : { check: 'vsa', ok: false, detail: vsaProblems(all[0]!, policy).join('; ') };
    }),
  );
  report.ok = checks.every((c) => c.ok);
  return report;
}
