// The Temporal boundary of the sharded promotion (workflow types `shardedRun` and `promotionShard`): their inputs,
// results, continue-as-new state and query answers, and the activities between them. Everything here is small and
// bounded whatever the run size: the desired state, shard work sets and per-edge accounts live in the state store
// (src/state) and travel as `sha256:` references; history holds references, counters and a bounded sample of
// failures only.
import type { StateRef } from '../state';

export type { StateRef };
import type { DecisionRecord, RolloutRecord } from './runs';

/** The rollout of the run up to the current phase, from the run's state: what a digest's provenance records. */
export type RolloutPhases = RolloutRecord['phases'];

/** Outcomes of one image digest at one destination. `aborted`: the run was aborted before it was done. */
export const EDGE_OUTCOMES = ['promoted', 'present', 'failed', 'lost', 'skipped', 'aborted'] as const;
export type EdgeOutcome = (typeof EDGE_OUTCOMES)[number];

/** Counts in EDGE_OUTCOMES order (an array, not an object: per-destination counters stay small at 2,000+ destinations). */
export type OutcomeCounts = [number, number, number, number, number, number];

/** destination name → its counts. */
export type DestinationCounts = Record<string, OutcomeCounts>;

/** A failed, lost or skipped edge, as shown in the bounded failure sample. */
export interface FailureSample {
  image: string;
  digest: string;
  destination: string;
  phase: string;
  outcome: EdgeOutcome;
  errorType: string;
  error: string;
}

/** The bounded sample of failures any result or state carries. */
export const FAILURE_SAMPLE = 20;

/** Gate settings of one phase, as the run workflow needs them (destinations live in the bundle). */
export interface PhaseGates {
  name: string;
  soakSeconds: number;
  verify: boolean;
  approval: boolean;
}

export interface ShardedRunTuning {
  /** Shard workflows in flight per phase (the sliding window; default 16, at most 500). */
  window?: number;
  /** Batch activities in flight per shard (default 4). */
  batchWindow?: number;
  /** Edges per batch activity (default 512). */
  batchEdges?: number;
  /** Edges per shard workflow (default 16,384). */
  shardEdges?: number;
  /** Continue-as-new after this many batches in one shard run, or shards in one parent run (tests; default: Temporal's suggestion, capped). */
  batchesPerRun?: number;
  shardsPerRun?: number;
  /** Transient failures (5xx, 429, resets, timeouts) are retried until this long after a batch was first scheduled (default 6 h). */
  retryWindowSeconds?: number;
  /** Heartbeat timeout of batch activities (default 20 s): what a SIGKILLed worker costs its batches in flight. */
  heartbeatSeconds?: number;
}

export interface ShardedRunInput {
  name: string;
  commit?: string;
  /** The run bundle (src/contract/bundle.ts) in the state store. */
  bundle: StateRef;
  phases: PhaseGates[];
  /** Totals computed by the CLI, for display before planning finishes. */
  totalEdges: number;
  tuning?: ShardedRunTuning;
  /** Set by continue-as-new only. */
  state?: RunState;
}

/** One phase's planned shards: where their work sets are, and their sizes (the parent needs no more). */
export interface PlannedPhase {
  shards: StateRef;
  /** Per shard: [edges, batches]. */
  sizes: Array<[number, number]>;
  /** Task queue per shard index, when a destination group has its own registry-group queue. */
  queues?: Record<number, string>;
}

export type PhaseStatus = 'pending' | 'running' | 'soaking' | 'awaiting-approval' | 'done' | 'failed' | 'rejected' | 'aborted';

export interface PhaseState {
  name: string;
  status: PhaseStatus;
  startedAt?: string;
  finishedAt?: string;
  planned?: PlannedPhase;
  /** Shards started so far / finished. */
  nextShard: number;
  shardsDone: number;
  counts: DestinationCounts;
  /** The phase's account so far: compacted references to per-edge records (see AccountTree). */
  accounts: StateRef[];
  /** References to lists of image@digest keys that must not roll out to later phases. */
  blocked: StateRef[];
}

export type ShardedRunStatus = 'planning' | 'running' | 'paused' | 'awaiting-approval' | 'succeeded' | 'failed' | 'rejected' | 'aborted';

/** The run's whole state: what continue-as-new carries and the `runProgress` query answers. Bounded. */
export interface RunState {
  name: string;
  phaseIndex: number;
  phases: PhaseState[];
  decisions: DecisionRecord[];
  failures: FailureSample[];
  paused: boolean;
  aborted: boolean;
  /** Set when the run has ended. */
  finished?: boolean;
  awaiting?: string;
  totalEdges: number;
  /** When the run started (its first execution), for provenance. */
  startedOn: string;
  runs: number;
}

export interface ShardedRunResult {
  name: string;
  status: ShardedRunStatus;
  phases: Array<{ name: string; status: PhaseStatus; counts: DestinationCounts; account?: StateRef }>;
  /** Run totals in EDGE_OUTCOMES order. */
  totals: OutcomeCounts;
  failures: FailureSample[];
  decisions: DecisionRecord[];
  /** The whole per-edge account: page through it with `promoflow status --json`. */
  account?: StateRef;
}

export interface ShardInput {
  run: RunIdentity;
  /** The rollout so far (absent in shards started before it was recorded). */
  rollout?: RolloutPhases;
  bundle: StateRef;
  phase: number;
  phaseName: string;
  shards: StateRef;
  shard: number;
  edges: number;
  batches: number;
  taskQueue?: string;
  tuning?: ShardedRunTuning;
  /** Set by continue-as-new only. */
  state?: ShardState;
}

export interface ShardState {
  /** Batches [0, cursor) are done. */
  cursor: number;
  counts: DestinationCounts;
  failures: FailureSample[];
  accounts: StateRef[];
  blocked: StateRef[];
  runs: number;
}

export interface ShardResult {
  counts: DestinationCounts;
  failures: FailureSample[];
  /** The shard's account (one compacted reference), absent when it did nothing. */
  account?: StateRef;
  blocked?: StateRef;
  aborted: boolean;
}

/** A batch of a shard: the activity's input (references and indices only). */
export interface BatchInput {
  bundle: StateRef;
  shards: StateRef;
  shard: number;
  batch: number;
  phaseName: string;
  run: RunIdentity;
  rollout?: RolloutPhases;
  retryWindowSeconds: number;
}

export interface BatchResult {
  counts: DestinationCounts;
  failures: FailureSample[];
  account: StateRef;
  /** image@digest keys this batch must keep out of later phases, when any. */
  blocked?: StateRef;
}

export interface PlanPhaseInput {
  bundle: StateRef;
  phase: number;
  /** Blocked-key lists of earlier phases. */
  blocked: StateRef[];
  batchEdges: number;
  shardEdges: number;
}

export interface PlanPhaseResult {
  planned: PlannedPhase;
  /** Edges skipped because their image failed in an earlier phase (already in `skippedAccount`). */
  skipped: DestinationCounts;
  skippedAccount?: StateRef;
  failures: FailureSample[];
}

/** Cancelled batches of an aborted shard: their edges are written to the account as aborted. */
export interface AbortBatchesInput {
  bundle: StateRef;
  shards: StateRef;
  shard: number;
  phaseName: string;
  /** Batch index ranges [from, to). */
  ranges: Array<[number, number]>;
}

/** Edges of a phase that will never run (abort, rejection, a failed shard), to be accounted with `outcome`. */
export interface UnrunInput {
  bundle: StateRef;
  phase: number;
  blocked: StateRef[];
  shards?: StateRef;
  /** Shard index ranges [from, to) of a planned phase. */
  ranges?: Array<[number, number]>;
  outcome: 'aborted' | 'skipped' | 'failed';
  errorType: string;
  error: string;
}

export interface RunProgress {
  state: RunState;
  status: ShardedRunStatus;
  currentPhase?: string;
  done: number;
  totals: OutcomeCounts;
}

/** A short list of references (compacted before it grows: see compactRefs). */
export type StateRefList = StateRef[];

export const emptyCounts = (): OutcomeCounts => [0, 0, 0, 0, 0, 0];

/** The run a batch belongs to, for provenance (who promoted this digest). */
export interface RunIdentity {
  workflowId: string;
  runId: string;
  namespace: string;
  startedOn: string;
}

/** One edge in a stored account. */
export interface EdgeRecord {
  image: string;
  digest: string;
  destination: string;
  phase: string;
  outcome: EdgeOutcome;
  errorType?: string;
  error?: string;
  bytesCopied?: number;
  signature?: 'verified';
}

/**
 * A stored account or blocked-key list is a tree: leaves hold records or keys, inner nodes hold references to
 * parts, so compacting many references into one is a small write and reading pages through it in order.
 */
export interface AccountNode {
  parts?: StateRef[];
  edges?: EdgeRecord[];
  keys?: string[];
}

/** Add `from` into `into`, destination by destination. */
export function addCounts(into: DestinationCounts, from: DestinationCounts): void {
  for (const [d, c] of Object.entries(from)) {
    const t = (into[d] ??= emptyCounts());
    for (let i = 0; i < t.length; i++) t[i]! += c[i]!;
  }
}

/** One phase's totals over its destinations. */
export function phaseTotals(counts: DestinationCounts): OutcomeCounts {
  const t = emptyCounts();
  for (const c of Object.values(counts)) for (let i = 0; i < t.length; i++) t[i]! += c[i]!;
  return t;
}
