// SLSA provenance v1 predicate for a promotion: what was copied (source digest), where to, from which manifest
// commit, by which promoflow and which Temporal run. Pure: timestamps and IDs come from the caller, so a retried
// activity rebuilds identical bytes.
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
    };
    internalParameters?: Record<string, unknown>;
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string; version: Record<string, string> };
    metadata: { invocationId: string; startedOn: string; finishedOn: string };
  };
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
}

function rfc3339(value: string, what: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new Error(`${what} must be an RFC 3339 timestamp, got ${JSON.stringify(value)}`);
  }
  return value;
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
