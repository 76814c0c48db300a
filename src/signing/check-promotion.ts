// The consumer's check of a promoted digest, at any registry that holds it (what `promoflow verify` runs): the
// signature, the SLSA provenance and the VSA each verify with the trusted key and name this digest, and their
// content meets the consumer's policy (builder, required phases, required approvals, the source-policy key).
// Registry access through an ArtifactReader passed in; no Temporal, no promoflow state.
import { attestationTag, digestHex } from '../model';
import { sha256 as sha256Digest } from '../oci';
import { DSSE_LAYER, PREDICATE_TYPE_ANNOTATION, parseImageManifest } from './artifacts';
import { parseEnvelope } from './dsse';
import { parseStatement } from './intoto';
import { loadPublicKey } from './keys';
import { BUILDER_ID_BASE, SLSA_PROVENANCE_V1, type ProvenanceV1 } from './slsa-provenance';
import { verifyAttestationEnvelope, verifyImageSignatures, type ArtifactReader } from './verify';
import { SLSA_VSA_V1, type VsaV1 } from './vsa';

/** What the consumer requires (the policy file, validated by the CLI). */
export interface PromotionPolicy {
  /** PEM of the promoter's public key (cosign.pub). */
  publicKey: string;
  /** The provenance's builder.id must start with this (default: promoflow's builder). */
  builder?: string;
  /** Phases the digest must have gone through (in its provenance's rollout record). */
  requirePhases?: string[];
  /** Approval gates that must have been passed: the phase, and optionally who may have approved. */
  requireApprovals?: Array<{ phase: string; by?: string[] }>;
  /** The VSA's source policy must name this key fingerprint (sha256:<hex> of the DER public key). */
  sourceKeyFingerprint?: string;
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
async function verifiedStatements(reader: ArtifactReader, digest: string, publicKey: string, predicateType: string): Promise<{ statements: unknown[]; rejected: string[] }> {
  const raw = await reader.manifest(attestationTag(digest));
  if (raw === null) return { statements: [], rejected: [`no attestation image (${attestationTag(digest)})`] };
  const rejected: string[] = [];
  const statements: unknown[] = [];
  for (const layer of parseImageManifest(raw).layers) {
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

function vsaProblems(v: VsaV1, policy: PromotionPolicy): string[] {
  const out: string[] = [];
  if (v.verificationResult !== 'PASSED') out.push(`verificationResult is ${v.verificationResult}`);
  const source = (v.policy?.annotations?.['source'] ?? {}) as { type?: string; keyFingerprint?: string };
  if (policy.sourceKeyFingerprint && source.keyFingerprint !== policy.sourceKeyFingerprint) {
    out.push(`source policy key is ${source.keyFingerprint ?? '(none)'}, the policy expects ${policy.sourceKeyFingerprint}`);
  }
  return out;
}

/** Every check, each with one line; ok only when all pass. Registry faults throw (a fault is not a verdict). */
export async function checkPromotion(reader: ArtifactReader, digest: string, policy: PromotionPolicy): Promise<PromotionReport> {
  digestHex(digest);
  const key = loadPublicKey(policy.publicKey);
  const checks: CheckResult[] = [];
  const sig = await verifyImageSignatures(reader, { publicKey: key, digest });
  checks.push({ check: 'signature', ok: sig.ok, detail: sig.ok ? `${sig.verified.length} signature layer(s) verify with the trusted key` : `not signed by the trusted key: ${sig.reason ?? 'no valid layer'}` });
  const report: PromotionReport = { digest, ok: false, checks };

  const prov = await verifiedStatements(reader, digest, policy.publicKey, SLSA_PROVENANCE_V1);
  if (prov.statements.length === 0) checks.push({ check: 'provenance', ok: false, detail: `no provenance for ${digest} verifies with the trusted key: ${prov.rejected.join('; ')}` });
  else {
    // One per (key, digest) is what promoflow writes; any one meeting the policy passes.
    const all = prov.statements as ProvenanceV1[];
    const good = all.find((p) => provenanceProblems(p, policy).length === 0);
    report.provenance = good ?? all[0];
    checks.push(good ? { check: 'provenance', ok: true, detail: describeProvenance(good) } : { check: 'provenance', ok: false, detail: provenanceProblems(all[0]!, policy).join('; ') });
  }

  const vsa = await verifiedStatements(reader, digest, policy.publicKey, SLSA_VSA_V1);
  if (vsa.statements.length === 0) checks.push({ check: 'vsa', ok: false, detail: `no verification summary for ${digest} verifies with the trusted key: ${vsa.rejected.join('; ')}` });
  else {
    const all = vsa.statements as VsaV1[];
    const good = all.find((v) => vsaProblems(v, policy).length === 0);
    report.vsa = good ?? all[0];
    const source = (report.vsa!.policy?.annotations?.['source'] ?? {}) as { type?: string; keyFingerprint?: string };
    checks.push(
      good
        ? { check: 'vsa', ok: true, detail: `${good.verificationResult} by ${good.verifier?.id} ${good.verifier?.version?.['promoflow'] ?? ''}; source policy: ${source.type === 'key' ? `key ${source.keyFingerprint}` : 'none'}` }
        : { check: 'vsa', ok: false, detail: vsaProblems(all[0]!, policy).join('; ') },
    );
  }
  report.ok = checks.every((c) => c.ok);
  return report;
}
