// The activities a promoflow worker serves, as the workflows call them: names, inputs and results. Workflows proxy
// this interface (they never import activity code); src/activities implements it. Only references, digests, names
// and small counts: credentials and keys travel as references resolved on the worker.
import type { KeylessPolicy } from '../manifest';
import type { SubjectDescriptor } from '../model';
import type { InventoryBatchInput, InventoryBatchResult, RepairSignaturesInput, RepairSignaturesResult } from './reconcile';
import type { DestinationRef, EndpointRef, PromotionItem, RolloutRecord, SourceSignedBy } from './runs';
import type { AbortBatchesInput, BatchInput, BatchResult, PlanPhaseInput, PlanPhaseResult, UnrunInput } from './sharded-run';
import type { StateRef } from '../state';
import type {
  InventoryShardBatchInput, InventoryShardBatchResult, PlanInventoryInput, PlanRepairInput, PlanRepairResult, RepairSignaturesFromPeersInput, ResolveSourceInput, ResolveSourceResult,
  SettleRepairsInput, SettleRepairsResult,
} from './reconcile-run';
import type { PlannedPhase } from './sharded-run';

export interface CheckSourceInput {
  image: string;
  digest: string;
  source: EndpointRef;
  /** The source digest must carry a valid signature by this signer (a public key reference, or a keyless identity). */
  requireSignedBy?: SourceSignedBy;
}

/** The source policy as the VSA names it: the key (by fingerprint) or the keyless identity and issuer. */
export type VerifiedSourcePolicy = { type: 'key'; keyFingerprint: string } | { type: 'keyless'; issuer: string; subject?: string; subjectRegExp?: string };

/**
 * What the source policy verified: the policy, and the signatures that verified (.sig layers of a key-signed
 * source; bundle referrer manifests of a keyless one, with their media type).
 */
export interface SourceEvidence {
  policy: VerifiedSourcePolicy;
  signatures: Array<{ uri: string; digest: string; mediaType?: string }>;
}

export interface SourceInfo {
  /** Present when a source policy was checked. */
  sourceEvidence?: SourceEvidence;
  mediaType: string;
  /** Digests of the platform manifests when the source is an index. */
  children: string[];
  /** Descriptors of the manifest and its children (subjects of signature referrers). */
  descriptors: SubjectDescriptor[];
}

export interface CopyActivityInput extends Pick<PromotionItem, 'image' | 'digest' | 'tags' | 'allowTagMove'> {
  source: EndpointRef;
  destination: DestinationRef;
}

export interface CopyActivityResult {
  /** `promoted`: something was written; `present`: the destination already had everything. */
  status: 'promoted' | 'present';
  bytesCopied: number;
  blobsCopied: number;
  manifestsWritten: number;
}

export interface VerifyInput {
  destination: DestinationRef;
  items: Array<{ image: string; digest: string; tags: string[] }>;
}

export interface VerifyProblem {
  image: string;
  digest: string;
  problem: string;
}

export interface SigningRef {
  /** `file://<path>` (cosign.key or PKCS#8 PEM) or `env://<VAR>` (the PEM itself); decrypted with COSIGN_PASSWORD. */
  key?: string;
  /** Keyless instead of a key: bundles only, the OIDC token read from the worker's environment. */
  keyless?: KeylessPolicy;
  attest: boolean;
  /** Also sigstore bundle v0.3 referrers (cosign v3's format), signed with the same key. */
  bundles?: boolean;
  /** docker-reference prefix written into payloads; the image name is appended. */
  dockerReference: string;
}

/** What a promotion's provenance records about the run (SLSA v1 build parameters). */
export interface ProvenanceRef {
  sourceRepository: string;
  destinations: string[];
  manifestPath: string;
  gitCommit?: string;
  workflowId: string;
  runId: string;
  namespace: string;
  startedOn: string;
  /** When the attestation's facts were fixed: from the workflow's state (the phase's start), never the activity's clock. */
  finishedOn: string;
  /** The rollout so far (tags, phases, soak, approvals, verify gates): provenance externalParameters.rollout. */
  rollout?: RolloutRecord;
  /** What was verified before promoting; with it, a VSA is written beside the provenance. */
  verification?: {
    sourcePolicy: VerifiedSourcePolicy | { type: 'none' };
    /** Filled by the signing activity from the key it signs with (or the keyless identity). */
    signingPolicy?: { type: 'key'; keyFingerprint: string } | { type: 'keyless'; issuer: string; subject?: string; subjectRegExp?: string };
    inputAttestations: Array<{ uri: string; digest: string; mediaType?: string }>;
  };
}

export interface SignInput {
  image: string;
  digest: string;
  children: string[];
  /** Descriptors of the digest and its children: the subjects of bundle referrers. */
  subjects?: SubjectDescriptor[];
  home: DestinationRef;
  signing: SigningRef;
  provenance: ProvenanceRef;
}

export interface SignResult {
  signed: number;
  attested: number;
  /** Digests whose valid signature (and attestation) by this key already existed. */
  alreadySigned: number;
}

export interface ReplicateInput {
  image: string;
  digests: string[];
  attest: boolean;
  bundles?: boolean;
  /** Keyless runs hold bundles only: no .sig/.att images to copy. */
  keyless?: boolean;
  from: DestinationRef;
  to: DestinationRef;
}

export interface ReplicateResult {
  pushed: number;
  upToDate: number;
}

export interface VerifySignaturesInput {
  image: string;
  digests: string[];
  destination: DestinationRef;
  signing: SigningRef;
  /** The attestations include a VSA (runs that record their verification). */
  vsa?: boolean;
}

export interface SignatureProblem {
  digest: string;
  problem: string;
}

/** Every activity, by the name Temporal schedules it under. */
export interface Activities {
  checkSource(input: CheckSourceInput): Promise<SourceInfo>;
  copyToDestination(input: CopyActivityInput): Promise<CopyActivityResult>;
  verifyDestination(input: VerifyInput): Promise<VerifyProblem[]>;
  signAtHome(input: SignInput): Promise<SignResult>;
  replicateSignatures(input: ReplicateInput): Promise<ReplicateResult>;
  verifySignatures(input: VerifySignaturesInput): Promise<SignatureProblem[]>;
  inventoryBatch(input: InventoryBatchInput): Promise<InventoryBatchResult>;
  repairSignatures(input: RepairSignaturesInput): Promise<RepairSignaturesResult>;
  // The sharded promotion (state store references in and out; see sharded-run.ts).
  planPhase(input: PlanPhaseInput): Promise<PlanPhaseResult>;
  promoteBatch(input: BatchInput): Promise<BatchResult>;
  abortBatches(input: AbortBatchesInput): Promise<BatchResult>;
  accountUnrun(input: UnrunInput): Promise<BatchResult>;
  compactRefs(input: { parts: StateRef[] }): Promise<StateRef>;
  // The sharded reconcile (see reconcile-run.ts).
  resolveReconcileSource(input: ResolveSourceInput): Promise<ResolveSourceResult>;
  planInventory(input: PlanInventoryInput): Promise<PlannedPhase & { repos: number }>;
  inventoryShardBatch(input: InventoryShardBatchInput): Promise<InventoryShardBatchResult>;
  planRepair(input: PlanRepairInput): Promise<PlanRepairResult>;
  repairSignaturesFromPeers(input: RepairSignaturesFromPeersInput): Promise<{ records?: StateRef }>;
  settleRepairs(input: SettleRepairsInput): Promise<SettleRepairsResult>;
}
