// Inputs, results and progress of promoflow's workflows (PromotionRun, ImagePromotion) and the endpoint refs
// every run carries. Only references, digests, names and small counts travel
// through Temporal: never blob bytes, credentials, tokens or keys (payload limit 2 MB, history 50 MB).
import type { KeylessPolicy, RegistryEndpoint, SourceSigner, Spec } from '../manifest';

/**
 * A registry location as workflows and activities see it: the manifest's endpoint as is (a repository prefix, plain
 * HTTP allowed or not, the *name* of a credential the worker's configuration binds to the host, and the per-registry
 * request limits).
 */
export type EndpointRef = RegistryEndpoint;

export interface DestinationRef extends EndpointRef {
  name: string;
  /** Registry-group task queue for this destination's registry work (copy, replicate, verify); default: the run's. */
  taskQueue?: string;
}

export interface PhaseRef {
  name: string;
  destinations: string[];
  soakSeconds: number;
  verify: boolean;
  approval: boolean;
}

/** One image digest to promote, with the tags it should carry at every destination. */
export interface PromotionItem {
  image: string;
  digest: string;
  tags: string[];
  allowTagMove?: boolean;
  /** kpromo thin layout: the project whose source and destinations apply (PromotionRunInput.projects). */
  project?: string;
}

/** A kpromo project: its own source, and which of the run's destinations it promotes to. */
export interface ProjectRef {
  name: string;
  source: EndpointRef;
  destinations: string[];
}

export interface PromotionRunInput {
  name: string;
  manifestFiles: string[];
  commit?: string;
  source: EndpointRef;
  destinations: DestinationRef[];
  phases: PhaseRef[];
  items: PromotionItem[];
  projects?: ProjectRef[];
  signing?: RunSigning;
  /** Refuse source digests without a valid signature by this signer (see SourceSignedBy). */
  sourceSignedBy?: SourceSignedBy;
  /** Maximum ImagePromotion children running at once (bounded well under Temporal's 2,000 pending). */
  concurrency?: number;
  /** Image digests per ImagePromotion child (default: 1 below 100 items, else 8: fewer workflows per edge). */
  batchSize?: number;
  /** Set by continue-as-new only. */
  checkpoint?: PromotionRunCheckpoint;
  tuning?: ActivityTuning;
}

/** Activity timing, overridable per run (tests use short values; production keeps the defaults). */
export interface ActivityTuning {
  /** Heartbeat timeout of copy activities: how fast a dead worker's copy is retried elsewhere (default 30). */
  heartbeatSeconds?: number;
  /** Continue as new after this many children in one run (tests; production follows Temporal's suggestion). */
  childrenPerRun?: number;
}

export type EdgeStatus = 'promoted' | 'present' | 'failed' | 'lost' | 'skipped';

/** The outcome of one image digest at one destination. */
export interface EdgeResult {
  image: string;
  digest: string;
  destination: string;
  phase: string;
  status: EdgeStatus;
  tags: string[];
  bytesCopied?: number;
  blobsCopied?: number;
  manifestsWritten?: number;
  /** Signature (and attestation) state here when the run signs: verified in-process after replication. */
  signature?: 'verified';
  /** Failure type (e.g. DigestMismatch, TagMove, SourceLost) and one-line message, for failed/lost/skipped. */
  errorType?: string;
  error?: string;
}

export interface ImagePromotionInput {
  item: PromotionItem;
  source: EndpointRef;
  destinations: DestinationRef[];
  phase: string;
  /** Large runs: several image digests in one child, each promoted as if it were its own (orchestration cost). */
  batch?: Array<{ item: PromotionItem; source: EndpointRef; destinations: DestinationRef[] }>;
  tuning?: ActivityTuning;
  sourceSignedBy?: SourceSignedBy;
  signing?: RunSigning & { run: { workflowId: string; runId: string; namespace: string; startedOn: string; manifestPath: string; commit?: string; allDestinations: string[] } };
}

/**
 * The source policy's signer as runs carry it: a public key reference (`file://` or `env://`, resolved on the worker;
 * a plain string, as runs have always carried it), or a keyless identity (issuer, subject or subjectRegExp, and an
 * optional `file://` trusted root; without one the worker's TUF trust root).
 */
export type SourceSignedBy = string | { keyless: NonNullable<SourceSigner['keyless']> };

/** The manifest's source policy as a run carries it. */
export function sourceSignedByOf(spec: Spec): SourceSignedBy | undefined {
  const by = spec.sourcePolicy?.signedBy;
  if (!by) return undefined;
  return by.key !== undefined ? by.key : { keyless: by.keyless };
}

/** How a digest rolled out up to the phase its attestations are written in (built from the run's state). */
export interface RolloutRecord {
  tags: string[];
  phases: Array<{ name: string; startedAt: string; finishedAt?: string; soakSeconds?: number; verifyGate?: boolean; approval?: { by: string; reason?: string; at: string } }>;
}

/** How a run signs: a key reference (never the key), attestation on/off, and where signatures are first written. */
export interface RunSigning {
  /** `file://PATH` or `env://VAR`, resolved on the worker (password from COSIGN_PASSWORD there). Absent: keyless. */
  key?: string;
  /** Keyless: Fulcio + Rekor URLs, the expected identity, where the worker finds its OIDC token, the trusted root. */
  keyless?: KeylessPolicy;
  attest: boolean;
  /** docker-reference prefix for payloads (the image name is appended), e.g. the canonical public name. */
  dockerReference: string;
  /** The signing home: the destination where each digest is signed once; others receive copies. */
  home: DestinationRef;
  /** Also write sigstore bundle v0.3 referrers (cosign v3's format), signed with the same key. */
  bundles?: boolean;
}

/**
 * The signing settings a manifest asks for: its key reference as written (never the key) or keyless policy, and the
 * signing home, the canonical destination (else the first phase's first destination). Keyless writes sigstore
 * bundles only (cosign v3's format), as keyless cosign does. Promote and reconcile's repairs both sign this way.
 */
export function runSigningOf(spec: Spec): RunSigning | undefined {
  const policy = spec.signing;
  if (!policy) return undefined;
  const home = spec.destinations.find((d) => d.canonical) ?? spec.destinations.find((d) => d.name === spec.phases[0]?.destinations[0]) ?? spec.destinations[0]!;
  return {
    ...(policy.key ? { key: policy.key } : {}),
    ...(policy.keyless ? { keyless: policy.keyless } : {}),
    attest: policy.attest,
    ...(policy.formats.includes('bundle-referrer') || policy.keyless ? { bundles: true } : {}),
    dockerReference: policy.dockerReference ?? home.registry,
    home: { name: home.name, registry: home.registry, insecure: home.insecure, credentials: home.credentials },
  };
}

export interface ImagePromotionResult {
  image: string;
  digest: string;
  edges: EdgeResult[];
  /** One result per batch entry, when the child promoted a batch. */
  batch?: ImagePromotionResult[];
}

export type RunStatus = 'running' | 'paused' | 'awaiting-approval' | 'succeeded' | 'failed' | 'rejected' | 'aborted';

export interface PhaseResult {
  name: string;
  status: 'pending' | 'running' | 'verifying' | 'soaking' | 'awaiting-approval' | 'done' | 'failed' | 'rejected' | 'aborted';
  startedAt?: string;
  finishedAt?: string;
  /** Problems the verification gate found (image@digest → destination: what). */
  verifyProblems?: string[];
}

/** A gate or control decision: who, what, why, when. */
export interface DecisionRecord {
  kind: 'approve' | 'reject' | 'pause' | 'resume' | 'abort';
  by: string;
  reason?: string;
  phase?: string;
  at: string;
}

export interface PromotionRunResult {
  name: string;
  status: RunStatus;
  phases: PhaseResult[];
  edges: EdgeResult[];
  counts: Record<EdgeStatus, number>;
  decisions: DecisionRecord[];
}

/** Progress carried across continue-as-new. */
export interface PromotionRunCheckpoint {
  phaseIndex: number;
  /** Index into items of the next item to start in the current phase. */
  nextItem: number;
  /** Whether the current phase's copies are all done (gates may remain). */
  copiesDone: boolean;
  edges: EdgeResult[];
  phases: PhaseResult[];
  blocked: string[];
  decisions: DecisionRecord[];
  paused: boolean;
  runs: number;
}

/** What the `progress` query returns while a run is in flight. */
export interface PromotionProgress extends PromotionRunResult {
  currentPhase?: string;
  total: number;
  /** Edges per phase (absent from runs started by an older build). */
  phaseTotals?: Record<string, number>;
  done: number;
}

export function countEdges(edges: EdgeResult[]): Record<EdgeStatus, number> {
  const counts: Record<EdgeStatus, number> = { promoted: 0, present: 0, failed: 0, lost: 0, skipped: 0 };
  for (const e of edges) counts[e.status]++;
  return counts;
}
