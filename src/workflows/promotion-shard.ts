// promotionShard: one shard of a phase (a repository group × a destination group). It runs the shard's batches as
// activities with a sliding window (each batch promotes its edges with concurrency inside and heartbeats its
// progress), continues as new carrying only a cursor, counters, the failure sample and compacted account
// references, and returns the same. Cancelled (the run was aborted): its in-flight activities are cancelled and
// every edge not done is accounted as aborted, then it returns normally so the run gets an exact account.
import { CancellationScope, continueAsNew, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { FAILURE_SAMPLE, addCounts, type Activities, type BatchResult, type ShardInput, type ShardResult, type ShardState } from '../contract';

export const SHARD_DEFAULTS = { batchWindow: 4, batchesPerRun: 400, retryWindowSeconds: 6 * 3600, heartbeatSeconds: 20 } as const;

export async function promotionShard(input: ShardInput): Promise<ShardResult> {
  const t = { ...SHARD_DEFAULTS, ...input.tuning };
  const st: ShardState = input.state ?? { cursor: 0, counts: {}, failures: [], accounts: [], blocked: [], runs: 0 };
  const { promoteBatch } = proxyActivities<Activities>({
    ...(input.taskQueue ? { taskQueue: input.taskQueue } : {}),
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: t.heartbeatSeconds * 1000,
    // The retry window: transient registry failures are retried until it closes; then the batch accounts what still
    // fails as failed (it knows the window from its input). A margin covers that last attempt. Those retries back off
    // to 5 minutes by the batch's own count (nextRetryDelay); a lost worker (heartbeat timeout) is retried within 10 s
    // however often it happened: with workers SIGKILLed every few seconds, the attempt number grows with the kills.
    scheduleToCloseTimeout: (t.retryWindowSeconds + 3600) * 1000,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: ['StateCorrupt', 'StateMissingError', 'StateCorruptError'] },
  });
  // Bookkeeping on the run's own queue: small store writes, retried a while (a store outage is transient too).
  const { abortBatches, compactRefs } = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes', heartbeatTimeout: '30 seconds', retry: { maximumAttempts: 50, maximumInterval: '1 minute' } });

  const merge = (r: BatchResult) => {
    addCounts(st.counts, r.counts);
    for (const f of r.failures) if (st.failures.length < FAILURE_SAMPLE) st.failures.push(f);
    st.accounts.push(r.account);
    if (r.blocked) st.blocked.push(r.blocked);
  };
  const compact = async () => {
    if (st.accounts.length > 1) st.accounts = [await compactRefs({ parts: st.accounts })];
    if (st.blocked.length > 1) st.blocked = [await compactRefs({ parts: st.blocked })];
  };

  const completed = new Set<number>();
  let next = st.cursor;
  let thisRun = 0;
  let drain = false;
  let aborted = false;
  const runner = async (): Promise<void> => {
    while (!drain && next < input.batches) {
      const i = next++;
      merge(
        await promoteBatch.executeWithOptions(
          { summary: `batch ${i + 1}/${input.batches} of ${input.phaseName} shard ${input.shard}` },
          [{ bundle: input.bundle, shards: input.shards, shard: input.shard, batch: i, phaseName: input.phaseName, run: input.run, ...(input.rollout ? { rollout: input.rollout } : {}), retryWindowSeconds: t.retryWindowSeconds }],
        ),
      );
      completed.add(i);
      if (++thisRun >= t.batchesPerRun || workflowInfo().continueAsNewSuggested) drain = true;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(t.batchWindow, input.batches - next)) }, runner));
  } catch (e) {
    if (!isCancellation(e)) throw e;
    aborted = true;
  }
  if (aborted) {
    // Cancelled: account every batch not completed (never started, or cancelled in flight) as aborted.
    return CancellationScope.nonCancellable(async () => {
      const ranges: Array<[number, number]> = [];
      for (let i = st.cursor; i < input.batches; i++) {
        if (completed.has(i)) continue;
        const last = ranges[ranges.length - 1];
        if (last && last[1] === i) last[1] = i + 1;
        else ranges.push([i, i + 1]);
      }
      if (ranges.length) merge(await abortBatches({ bundle: input.bundle, shards: input.shards, shard: input.shard, phaseName: input.phaseName, ranges }));
      await compact();
      return { counts: st.counts, failures: st.failures, ...(st.accounts[0] ? { account: st.accounts[0] } : {}), ...(st.blocked[0] ? { blocked: st.blocked[0] } : {}), aborted: true };
    });
  }
  await compact();
  if (next < input.batches) {
    await continueAsNew<typeof promotionShard>({ ...input, state: { ...st, cursor: next, runs: st.runs + 1 } });
  }
  return { counts: st.counts, failures: st.failures, ...(st.accounts[0] ? { account: st.accounts[0] } : {}), ...(st.blocked[0] ? { blocked: st.blocked[0] } : {}), aborted: false };
}
