// Inputs, results and checkpoints of the Reconcile workflow and its activities. Only names, references, digests
// and findings travel: the manifests as compact spec-derived data, a public key as a reference (`file://…` or
// `env://…`, read on the worker), never key material or credentials.
import type { DesiredImage, DesiredRepo, DriftPolicy, DriftReport, RepairLine } from '../plan';
import type { DestinationRef, EndpointRef, PhaseRef, ProjectRef, RunSigning, SourceSignedBy } from './runs';

/** A destination with its manifest `limits` (EndpointRef.limits), which the inventory honours. */
export type ReconcileDestination = DestinationRef;

export interface ReconcileInput {
  name: string;
  manifestFiles: string[];
  commit?: string;
  source: EndpointRef;
  destinations: ReconcileDestination[];
  phases: PhaseRef[];
  projects?: ProjectRef[];
  images: DesiredImage[];
  policy: DriftPolicy;
  /** Public key reference for signature/attestation validity (`file://path` or `env://VAR`); absent = presence only. */
  publicKey?: string;
  /**
   * The promotions' signing settings (a key reference, never the key). When present, signature drift is repaired by
   * the repair promotions (sign at the home if needed, replicate, verify); otherwise by copying a verified peer copy.
   */
  signing?: RunSigning;
  /** The source policy's signer: repair promotions refuse an unsigned source as promote does. */
  sourceSignedBy?: SourceSignedBy;
  /** Start promotions (and signature replication) for what is safe to repair. */
  repair: boolean;
  /** Repositories per inventory activity (default 50). */
  batchSize?: number;
  /** Inventory activities in flight at once (default 8; at most one per destination at a time is not required). */
  concurrency?: number;
  /** Continue as new after this many inventory waves (default: only when Temporal suggests it; tests set it low). */
  maxWavesPerRun?: number;
  /** Set by continue-as-new only. */
  checkpoint?: ReconcileCheckpoint;
}

export interface ReconcileCheckpoint {
  /** Index of the next inventory batch to run. */
  nextBatch: number;
  reports: DriftReport[];
  runs: number;
}

export interface InventoryBatchInput {
  destination: ReconcileDestination;
  repos: DesiredRepo[];
  policy: DriftPolicy;
  publicKey?: string;
}

export interface InventoryBatchResult {
  report: DriftReport;
  /** Requests are not counted here; tags read, for the report's scale line. */
  tagsRead: number;
}

export interface RepairSignaturesInput {
  /** Every registry named below: destinations by name, the source as `source`. */
  endpoints: Array<EndpointRef & { name: string }>;
  items: Array<{
    image: string;
    digest: string;
    /** Which artifacts: `sig`, `att` or both. */
    kinds: Array<'sig' | 'att'>;
    /** Endpoint names where a healthy copy may be found, in order of preference. */
    from: string[];
    /** Endpoint names to repair. */
    to: string[];
  }>;
  publicKey?: string;
}

export interface RepairSignaturesResult {
  results: Array<{ image: string; digest: string; destination: string; kind: 'sig' | 'att'; status: 'repaired' | 'present' | 'failed'; from?: string; error?: string }>;
}

export type RepairStatus = 'repaired' | 'failed' | 'not-repaired';

/** One repair of a finding (the rendering's RepairLine, with the status narrowed). */
export interface RepairRecord extends RepairLine {
  status: RepairStatus;
}

export interface ReconcileResult {
  name: string;
  status: 'clean' | 'drift' | 'repaired' | 'partially-repaired';
  report: DriftReport;
  repairs: RepairRecord[];
  /** Findings still standing after repairs (report-only findings included). */
  remaining: number;
  promotions: string[];
}
