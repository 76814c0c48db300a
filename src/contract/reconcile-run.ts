// The Temporal boundary of the sharded reconcile (workflow type `reconcileRun`): where its desired state comes from
// (a bundle the CLI stored, or a source a scheduled run resolves at its current head), its continue-as-new state,
// query answer and result, and its activities. Bounded whatever the drift: findings live in the state store as a
// tree of documents and travel as `sha256:` references; history holds counts per destination and kind and a
// sample of at most FINDING_SAMPLE findings.
import type { DriftItem, DriftKind, DriftPolicy } from '../plan';
import type { StateRef } from '../state';
import type { FailureSample, OutcomeCounts, PlannedPhase, ShardedRunStatus } from './sharded-run';

/** Findings any state, result or query answer carries. */
export const FINDING_SAMPLE = 20;

/**
 * Where the manifests are. `bundle`: stored by the CLI (a one-off reconcile). `git`: a repository (URL or path the
 * worker can reach), a ref (branch or tag) and the manifest path inside it; each run fetches the ref and reconciles
 * that commit. `dir`: a directory (or file) every worker can read, re-read by each run.
 */
export type ReconcileSource =
  | { kind: 'bundle'; bundle: StateRef; policy: { policy: DriftPolicy; publicKey?: string } }
  | { kind: 'git'; repository: string; ref: string; path: string }
  | { kind: 'dir'; path: string };

export interface ReconcileTuning {
  /** Inventory activities in flight (default 8). */
  window?: number;
  /** Edges (digest × destination) per inventory activity; a repository is never split (default 2,048). */
  batchEdges?: number;
  /** Edges per inventory shard (default 16,384). */
  shardEdges?: number;
  /** Continue as new after this many inventory batches in one execution (default 500, or Temporal's suggestion). */
  batchesPerRun?: number;
  /** The repair promotion's window of shard workflows (default: the sharded run's, 16). */
  repairWindow?: number;
}

export interface ReconcileRunInput {
  name: string;
  source: ReconcileSource;
  /**
   * Public key reference (`file://…` / `env://…`) for signature validity and verified peer copies; absent: the
   * `.pub` beside a `file://….key` signing key of the manifests, if any.
   */
  publicKey?: string;
  repair: boolean;
  tuning?: ReconcileTuning;
  /** Set by continue-as-new only. */
  state?: ReconcileState;
}

/** destination → drift kind → count. */
export type FindingCounts = Record<string, Partial<Record<DriftKind, number>>>;

export type ReconcilePhase = 'resolving' | 'inventory' | 'repairing' | 'done';
export type ReconcileStatus = 'clean' | 'drift' | 'repaired' | 'partially-repaired';

export interface ReconcileState {
  phase: ReconcilePhase;
  bundle?: StateRef;
  /** What the manifests ask for (signatures, attestations), and the key that checks them: resolved with the bundle. */
  policy?: DriftPolicy;
  publicKey?: string;
  commit?: string;
  manifestFiles?: string[];
  /** The inventory plan: shards (by reference) and their [edges, batches]. */
  planned?: PlannedPhase;
  /** Inventory cursor: the next (shard, batch) to start, and how many batches are done. */
  nextShard: number;
  nextBatch: number;
  batchesDone: number;
  batchesTotal: number;
  repos: number;
  counts: FindingCounts;
  findings: number;
  repairable: number;
  sample: DriftItem[];
  /** Findings documents (compacted before they grow). */
  findingRefs: StateRef[];
  runs: number;
}

export interface RepairSummary {
  /** The repair promotion (a shardedRun child), when anything needed a promotion. */
  workflowId?: string;
  promotionStatus?: ShardedRunStatus;
  totals?: OutcomeCounts;
  failures: FailureSample[];
  /** Findings repaired / still failing after the repair / that nothing could repair. */
  repaired: number;
  failed: number;
  notRepaired: number;
  /** Per-finding repair records (paged with `status --json`). */
  records?: StateRef;
}

export interface ReconcileRunResult {
  name: string;
  status: ReconcileStatus;
  commit?: string;
  manifestFiles: string[];
  bundle: StateRef;
  repos: number;
  findings: number;
  repairable: number;
  counts: FindingCounts;
  sample: DriftItem[];
  /** Every finding: a tree of documents in the state store (absent when clean). */
  findingsRef?: StateRef;
  repair?: RepairSummary;
  /** Findings still standing (report-only ones included). */
  remaining: number;
}

export interface ReconcileProgress {
  name: string;
  state: ReconcileState;
  repair?: RepairSummary;
}

export interface ResolveSourceInput {
  name: string;
  source: ReconcileSource;
}

export interface ResolveSourceResult {
  bundle: StateRef;
  commit?: string;
  manifestFiles: string[];
  policy: DriftPolicy;
  publicKey?: string;
}

export interface PlanInventoryInput {
  bundle: StateRef;
  batchEdges: number;
  shardEdges: number;
}

export interface InventoryShardBatchInput {
  bundle: StateRef;
  shards: StateRef;
  shard: number;
  batch: number;
  policy: DriftPolicy;
  publicKey?: string;
  /** Set when the batch failed past its retries: nothing is read, every repository is reported unreadable with this. */
  unreadable?: string;
}

export interface InventoryShardBatchResult {
  repos: number;
  counts: FindingCounts;
  findings: number;
  repairable: number;
  sample: DriftItem[];
  /** This batch's findings document, when it found any. */
  ref?: StateRef;
}

export interface PlanRepairInput {
  bundle: StateRef;
  findings: StateRef;
  name: string;
}

/** The repair promotion to start, when any finding needs one (a shardedRun input's parts). */
export interface PlanRepairResult {
  promotion?: { bundle: StateRef; phases: Array<{ name: string; soakSeconds: number; verify: boolean; approval: boolean }>; totalEdges: number };
}

export interface RepairSignaturesFromPeersInput {
  bundle: StateRef;
  findings: StateRef;
  publicKey?: string;
}

export interface SettleRepairsInput {
  findings: StateRef;
  /** The repair promotion's per-edge account. */
  promotion?: StateRef;
  /** The signature repairs' records (from peers). */
  signatures?: StateRef;
  /** Set when the repair promotion could not run (all its findings failed with this). */
  promotionError?: string;
}

export interface SettleRepairsResult {
  repaired: number;
  failed: number;
  notRepaired: number;
  records?: StateRef;
}

/** Add one batch's finding counts into the run's. */
export function addFindingCounts(into: FindingCounts, from: FindingCounts): void {
  for (const [d, kinds] of Object.entries(from)) {
    const t = (into[d] ??= {});
    for (const [k, n] of Object.entries(kinds) as Array<[DriftKind, number]>) t[k] = (t[k] ?? 0) + n;
  }
}
