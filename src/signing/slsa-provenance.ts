// SLSA provenance v1 predicate for a promotion: what was copied (source digest), where to, from which manifest
// commit, by which promoflow and which Temporal run, and the rollout record (tags, phases with their timestamps,
// soak served, approvals, verify gates). Pure: timestamps and IDs come from the caller (the workflow's state), so a
// retried activity rebuilds identical bytes.
import { assertDigest } from '../model';
import { statement, subjectForDigest, type Statement } from './intoto';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const PROMOTION_BUILD_TYPE = 'https://promoflow.dev/promotion/v1';
export const BUILDER_ID_BASE = 'https://promoflow.dev/builder';

export interface ResourceDescriptor {
  uri?: string;
  name?: string;
  digest?: Record<string, string>;
}

export interface ProvenanceV1 {
  buildDefinition: {
    buildType: string;
    externalParameters: {
      source: string;
      destinations: string[];
      manifestPath: string;
      gitCommit?: string;
      rollout?: RolloutRecord;
    };
    internalParameters?: Record<string, unknown>;
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string; version: Record<string, string> };
    metadata: { invocationId: string; startedOn: string; finishedOn: string };
  };
}

/** One phase of the rollout as the workflow recorded it (its timestamps are the workflow's, not the activity's). */
export interface RolloutPhase {
  name: string;
  startedAt: string;
  /** Absent for the phase the attestation is written in (it is still running). */
  finishedAt?: string;
  /** The soak served after the phase (the durable timer ran out: an aborted soak ends the rollout). */
  soakSeconds?: number;
  /** The phase's verify gate (digest and tags read back at every destination) ran. */
  verifyGate?: boolean;
  /** The approval Update that released the next phase: who, why, when. */
  approval?: { by: string; reason?: string; at: string };
}

/** How this digest rolled out, up to the phase its attestations were written in. No secret: names, times, people. */
export interface RolloutRecord {
  tags: string[];
  phases: RolloutPhase[];
}

export interface PromotionProvenanceInput {
  /** The promoted digest: the attestation subject. */
  digest: string;
  /** Source repository, without tag or digest (e.g. us-docker.pkg.dev/k8s-staging/pause). */
  sourceRepository: string;
  /** Destination repositories (with tags if any), as declared. */
  destinations: string[];
  manifestPath: string;
  gitCommit?: string;
  promoflowVersion: string;
  workflowId: string;
  runId: string;
  namespace?: string;
  /** RFC 3339; the workflow's start and the moment the attestation is built. */
  startedOn: string;
  finishedOn: string;
  /** Subject name; defaults to the first destination's repository. */
  subjectName?: string;
  rollout?: RolloutRecord;
}

function rfc3339(value: string, what: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new Error(`${what} must be an RFC 3339 timestamp, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The record with its timestamps checked and its keys in one order (the same record, the same bytes). */
function rolloutOf(r: RolloutRecord): RolloutRecord {
  return {
    tags: [...r.tags],
    phases: r.phases.map((p) => ({
      name: p.name,
      startedAt: rfc3339(p.startedAt, `rollout phase ${p.name} startedAt`),
      ...(p.finishedAt ? { finishedAt: rfc3339(p.finishedAt, `rollout phase ${p.name} finishedAt`) } : {}),
      ...(p.soakSeconds ? { soakSeconds: p.soakSeconds } : {}),
      ...(p.verifyGate ? { verifyGate: true } : {}),
      ...(p.approval ? { approval: { by: p.approval.by, ...(p.approval.reason ? { reason: p.approval.reason } : {}), at: rfc3339(p.approval.at, `rollout phase ${p.name} approval time`) } } : {}),
    })),
  };
}

export function promotionProvenance(input: PromotionProvenanceInput): ProvenanceV1 {
  assertDigest(input.digest, 'provenance digest');
  const hex = input.digest.slice('sha256:'.length);
  return {
    buildDefinition: {
      buildType: PROMOTION_BUILD_TYPE,
      externalParameters: {
        source: `${input.sourceRepository}@${input.digest}`,
        destinations: [...input.destinations],
        manifestPath: input.manifestPath,
        ...(input.gitCommit ? { gitCommit: input.gitCommit } : {}),
        ...(input.rollout ? { rollout: rolloutOf(input.rollout) } : {}),
      },
      internalParameters: { temporal: { namespace: input.namespace ?? 'default', workflowId: input.workflowId, runId: input.runId } },
      resolvedDependencies: [{ uri: `${input.sourceRepository}@${input.digest}`, name: input.sourceRepository, digest: { sha256: hex } }],
    },
    runDetails: {
      builder: { id: `${BUILDER_ID_BASE}@v${input.promoflowVersion}`, version: { promoflow: input.promoflowVersion } },
      metadata: {
        invocationId: `${input.workflowId}/${input.runId}`,
        startedOn: rfc3339(input.startedOn, 'startedOn'),
        finishedOn: rfc3339(input.finishedOn, 'finishedOn'),
      },
    },
  };
}

export function promotionProvenanceStatement(input: PromotionProvenanceInput): Statement<ProvenanceV1> {
  const name = input.subjectName ?? (input.destinations[0] ?? input.sourceRepository).replace(/[@:][^/]*$/, '');
  return statement([subjectForDigest(name, input.digest)], SLSA_PROVENANCE_V1, promotionProvenance(input));
}
