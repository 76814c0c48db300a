// reconcileRun: a reconcile of any size (a corpus-sized lagging mirror gives ~46k findings) on the sharded
// promotion's structure. First an activity resolves where the manifests are (a bundle the CLI stored, or the
// current head of a configured git ref / directory, so a schedule never reconciles a frozen copy) into a bundle in
// the state store. The inventory is planned with the promotion's shard planning (repository group × destination
// group) and runs as a sliding window of batch activities, each writing its findings to the store; history holds
// only references, counts per destination and kind and a sample of findings, and the workflow continues as new
// carrying a cursor. Repair goes through one shardedRun child (its window of promotionShard workflows, the same
// promotion policy as promote, an exact account); signatures without a signing key are copied from verified peers;
// a last activity settles which findings were repaired.
import { allHandlersFinished, condition, continueAsNew, executeChild, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  FINDING_SAMPLE, REGISTRY_RETRY, SA_DRIFT, SA_STATUS, addFindingCounts, reconcileProgressQuery, type Activities, type InventoryShardBatchResult, type ReconcileRunInput,
  type ReconcileRunResult, type ReconcileState, type ReconcileStatus, type RepairSummary, type StateRef,
} from '../contract';
import { renderReconcileDetails } from './reconcile-details';
import { shardedRun } from './sharded-run';
import { failureOf } from './image-promotion';

export const RECONCILE_DEFAULTS = { window: 8, batchEdges: 2048, shardEdges: 16384, batchesPerRun: 500 } as const;
/** Findings references kept before they are compacted into one. */
const MAX_REFS = 64;

const { inventoryShardBatch } = proxyActivities<Activities>({ startToCloseTimeout: '30 minutes', heartbeatTimeout: '2 minutes', retry: REGISTRY_RETRY });
// Bookkeeping (state store reads and writes, git fetch): retried a while, a store or network outage is transient.
const { resolveReconcileSource, planInventory, planRepair, repairSignaturesFromPeers, settleRepairs, compactRefs } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 30, nonRetryableErrorTypes: ['ManifestInvalid', 'SourceUnavailable', 'StateCorrupt', 'StateMissingError', 'StateCorruptError'] },
});

export function initialReconcileState(): ReconcileState {
  return { phase: 'resolving', nextShard: 0, nextBatch: 0, batchesDone: 0, batchesTotal: 0, repos: 0, counts: {}, findings: 0, repairable: 0, sample: [], findingRefs: [], runs: 0 };
}

export async function reconcileRun(input: ReconcileRunInput): Promise<ReconcileRunResult> {
  const info = workflowInfo();
  const t = { ...RECONCILE_DEFAULTS, ...input.tuning };
  const s: ReconcileState = input.state ?? initialReconcileState();
  let repair: RepairSummary | undefined;
  setHandler(reconcileProgressQuery, () => ({ name: input.name, state: s, ...(repair ? { repair } : {}) }));
  const publish = (status: string) => setCurrentDetails(renderReconcileDetails(input.name, s, status, repair));
  if (!input.state) upsertSearchAttributes([{ key: SA_STATUS, value: 'reconciling' }]);
  publish(s.phase);

  if (s.phase === 'resolving') {
    const r = await resolveReconcileSource({ name: input.name, source: input.source });
    const publicKey = input.publicKey ?? r.publicKey;
    Object.assign(s, { bundle: r.bundle, manifestFiles: r.manifestFiles, policy: r.policy, ...(publicKey ? { publicKey } : {}), ...(r.commit ? { commit: r.commit } : {}) });
    const { repos: _repos, ...planned } = await planInventory({ bundle: r.bundle, batchEdges: t.batchEdges, shardEdges: t.shardEdges });
    s.planned = planned;
    s.batchesTotal = planned.sizes.reduce((n, [, b]) => n + b, 0);
    s.phase = 'inventory';
    publish(s.phase);
  }
  const bundle = s.bundle!;
  const planned = s.planned!;

  // Batches in flight may add references while a compaction runs: those taken are replaced by one, the rest stay.
  const compact = async () => {
    if (s.findingRefs.length <= 1) return;
    const parts = s.findingRefs.splice(0);
    s.findingRefs.unshift(await compactRefs({ parts }));
  };
  const merge = (r: InventoryShardBatchResult) => {
    s.batchesDone++;
    s.repos += r.repos;
    s.findings += r.findings;
    s.repairable += r.repairable;
    addFindingCounts(s.counts, r.counts);
    for (const f of r.sample) if (s.sample.length < FINDING_SAMPLE) s.sample.push(f);
    if (r.ref) s.findingRefs.push(r.ref);
  };

  if (s.phase === 'inventory') {
    let thisRun = 0;
    let drain = false;
    /** The next (shard, batch) of the plan, advancing the cursor; undefined when every batch has started. */
    const take = (): { shard: number; batch: number } | undefined => {
      while (s.nextShard < planned.sizes.length && s.nextBatch >= planned.sizes[s.nextShard]![1]) {
        s.nextShard++;
        s.nextBatch = 0;
      }
      if (s.nextShard >= planned.sizes.length) return undefined;
      return { shard: s.nextShard, batch: s.nextBatch++ };
    };
    // Batches in flight when a drain starts finish first, so the cursor saved for continue-as-new is exact.
    const runner = async (): Promise<void> => {
      for (let next = take(); next; next = drain ? undefined : take()) {
        const queue = planned.queues?.[next.shard];
        const args = { bundle, shards: planned.shards, shard: next.shard, batch: next.batch, policy: s.policy!, ...(s.publicKey ? { publicKey: s.publicKey } : {}) };
        const opts = { summary: `inventory batch ${next.batch + 1}/${planned.sizes[next.shard]![1]} of shard ${next.shard}`, ...(queue ? { taskQueue: queue } : {}) };
        let r: InventoryShardBatchResult;
        try {
          r = await inventoryShardBatch.executeWithOptions(opts, [args]);
        } catch (e) {
          // Past its retries: every repository of the batch is reported unreadable, with the reason (nothing read).
          const f = failureOf(e);
          r = await inventoryShardBatch.executeWithOptions({ summary: `${opts.summary}: unreadable` }, [{ ...args, unreadable: `${f.type}: ${f.message}`.slice(0, 300) }]);
        }
        merge(r);
        if (s.findingRefs.length >= MAX_REFS) await compact();
        if (++thisRun >= t.batchesPerRun || workflowInfo().continueAsNewSuggested) drain = true;
        publish('inventory');
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, t.window) }, runner));
    if (s.batchesDone < s.batchesTotal) {
      await compact();
      await condition(allHandlersFinished);
      s.runs++;
      return continueAsNew<typeof reconcileRun>({ ...input, state: s });
    }
    await compact();
    s.phase = input.repair && s.repairable > 0 ? 'repairing' : 'done';
    upsertSearchAttributes([{ key: SA_DRIFT, value: s.findings }]);
    publish(s.findings ? 'drift found' : 'clean');
  }

  const findingsRef: StateRef | undefined = s.findingRefs[0];
  if (s.phase === 'repairing' && findingsRef) {
    repair = { failures: [], repaired: 0, failed: 0, notRepaired: 0 };
    publish('repairing');
    const plan = await planRepair({ bundle, findings: findingsRef, name: input.name });
    let promotion: StateRef | undefined;
    let promotionError: string | undefined;
    if (plan.promotion) {
      const workflowId = `${info.workflowId}/repair`;
      repair.workflowId = workflowId;
      publish('repairing');
      try {
        const r = await executeChild(shardedRun, {
          workflowId,
          args: [{ name: `${input.name}-repair`, ...(s.commit ? { commit: s.commit } : {}), bundle: plan.promotion.bundle, phases: plan.promotion.phases, totalEdges: plan.promotion.totalEdges, ...(t.repairWindow ? { tuning: { window: t.repairWindow } } : {}) }],
          staticSummary: `repair ${s.repairable} finding(s) of ${input.name}`,
        });
        Object.assign(repair, { promotionStatus: r.status, totals: r.totals, failures: r.failures });
        promotion = r.account;
      } catch (e) {
        const f = failureOf(e);
        promotionError = `${f.type}: ${f.message}`.slice(0, 300);
      }
    }
    const sig = await repairSignaturesFromPeers({ bundle, findings: findingsRef, ...(s.publicKey ? { publicKey: s.publicKey } : {}) });
    const settled = await settleRepairs({ findings: findingsRef, ...(promotion ? { promotion } : {}), ...(sig.records ? { signatures: sig.records } : {}), ...(promotionError ? { promotionError } : {}) });
    Object.assign(repair, { repaired: settled.repaired, failed: settled.failed, notRepaired: settled.notRepaired, ...(settled.records ? { records: settled.records } : {}) });
    s.phase = 'done';
  }

  const repaired = repair?.repaired ?? 0;
  const remaining = s.findings - repaired;
  const status: ReconcileStatus = s.findings === 0 ? 'clean' : !input.repair || repaired === 0 ? 'drift' : remaining === s.findings - s.repairable ? 'repaired' : 'partially-repaired';
  upsertSearchAttributes([{ key: SA_DRIFT, value: remaining }, { key: SA_STATUS, value: status }]);
  publish(status);
  await condition(allHandlersFinished);
  return {
    name: input.name,
    status,
    ...(s.commit ? { commit: s.commit } : {}),
    manifestFiles: s.manifestFiles ?? [],
    bundle,
    repos: s.repos,
    findings: s.findings,
    repairable: s.repairable,
    counts: s.counts,
    sample: s.sample,
    ...(findingsRef ? { findingsRef } : {}),
    ...(repair ? { repair } : {}),
    remaining,
  };
}
