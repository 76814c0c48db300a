// shardedRun: a promotion of any size (registry.k8s.io's ~1M edges in one run). The desired state is a bundle in
// the state store, referred to by digest. Per phase: a planning activity cuts the phase into shards (stored); a
// sliding window of promotionShard children runs them; then the phase's gates (soak, approval) run, one function
// each. Pause, resume and abort are Updates; abort cancels the children's scope, and the children account what they
// did not do as aborted. The run's state (src/workflows/run-state.ts) is counters, references and a bounded
// failure sample; it continues as new (drained: no child in flight) when Temporal suggests it. Nothing in its
// history grows with the number of edges.
import {
  CancellationScope, allHandlersFinished, condition, continueAsNew, executeChild, isCancellation, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import { abortUpdate, approveUpdate, decisionInput, pauseUpdate, rejectUpdate, resumeUpdate, runProgressQuery, type DecisionInput } from '../contract';
import { recordCounts, recordPhase } from './metrics';
import { promotionShard } from './promotion-shard';
import { renderRunDetails } from './run-details';
import { applyEvent, doneEdges, initialRunState, phaseFailed, rolloutSoFar, runStatus, runTotals, type RunEvent } from './run-state';
import {
  SA_COMMIT, SA_PHASE, SA_STATUS, type Activities, type DecisionRecord, type PhaseResult, type RunIdentity, type RunState, type ShardedRunStatus, type ShardedRunInput,
  type ShardedRunResult, type StateRef, type StateRefList,
} from '../contract';

export const RUN_DEFAULTS = { window: 16, batchEdges: 512, shardEdges: 16384, shardsPerRun: 500 } as const;

const { planPhase, accountUnrun, compactRefs } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  // They heartbeat while they work: a worker SIGKILLed under one costs this, not the start-to-close timeout.
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 30, nonRetryableErrorTypes: ['StateCorrupt', 'StateMissingError', 'StateCorruptError'] },
});

export async function shardedRun(input: ShardedRunInput): Promise<ShardedRunResult> {
  const info = workflowInfo();
  const t = { ...RUN_DEFAULTS, ...input.tuning, window: Math.min(500, input.tuning?.window ?? RUN_DEFAULTS.window) };
  const s: RunState = input.state ?? initialRunState(input, info.startTime.toISOString());
  const run: RunIdentity = { workflowId: info.workflowId, runId: info.firstExecutionRunId, namespace: info.namespace, startedOn: s.startedOn };
  const apply = (e: RunEvent) => applyEvent(s, e);
  const now = () => new Date().toISOString();
  let gate: 'approve' | 'reject' | undefined;
  /** Shards finished in this execution (history grows with them): continue as new after tuning.shardsPerRun. */
  let thisRun = 0;
  let children: CancellationScope | undefined;

  let shownStatus: ShardedRunStatus | undefined;
  const publish = () => {
    const st = runStatus(s);
    setCurrentDetails(renderRunDetails(s, st, doneEdges(s)));
    // Each upsert is a history event: only on a change of status.
    if (st !== shownStatus) upsertSearchAttributes([{ key: SA_STATUS, value: (shownStatus = st) }]);
  };

  const decide = (kind: DecisionRecord['kind'], d: DecisionInput): DecisionRecord => {
    const rec: DecisionRecord = { kind, by: d.by, ...(d.reason ? { reason: d.reason } : {}), ...((d.phase ?? s.awaiting) ? { phase: d.phase ?? s.awaiting } : {}), at: now() };
    apply({ type: 'decision', record: rec });
    publish();
    return rec;
  };
  const validGate = (d: DecisionInput) => {
    decisionInput.parse(d);
    if (!s.awaiting) throw new Error(`no gate is awaiting approval (run status: ${runStatus(s)})`);
    if (d.phase && d.phase !== s.awaiting) throw new Error(`phase ${d.phase} is not awaiting approval; ${s.awaiting} is`);
  };
  const validRunning = (d: DecisionInput) => {
    decisionInput.parse(d);
    if (s.finished) throw new Error('the run has already ended');
  };
  setHandler(runProgressQuery, () => ({ state: s, status: runStatus(s), currentPhase: s.finished ? undefined : s.phases[s.phaseIndex]?.name, done: doneEdges(s), totals: runTotals(s) }));
  setHandler(approveUpdate, (d) => ((gate = 'approve'), decide('approve', d)), { validator: validGate });
  setHandler(rejectUpdate, (d) => ((gate = 'reject'), decide('reject', d)), { validator: validGate });
  setHandler(pauseUpdate, (d) => decide('pause', d), {
    validator: (d) => {
      validRunning(d);
      if (s.paused) throw new Error('the run is already paused');
    },
  });
  setHandler(resumeUpdate, (d) => decide('resume', d), {
    validator: (d) => {
      validRunning(d);
      if (!s.paused) throw new Error('the run is not paused');
    },
  });
  setHandler(abortUpdate, (d) => {
    const rec = decide('abort', d);
    children?.cancel();
    return rec;
  }, { validator: (d) => {
    validRunning(d);
    if (s.aborted) throw new Error('the run is already aborted');
  } });

  if (!input.state && input.commit) upsertSearchAttributes([{ key: SA_COMMIT, value: input.commit }]);
  publish();

  const blockedBefore = (pi: number): StateRef[] => s.phases.slice(0, pi).flatMap((p) => p.blocked);
  const compactPhase = async (pi: number) => {
    const p = s.phases[pi]!;
    const one = async (refs: StateRefList) => (refs.length > 1 ? [await compactRefs({ parts: refs })] : refs);
    if (p.accounts.length > 1 || p.blocked.length > 1) apply({ type: 'compacted', phase: pi, accounts: await one(p.accounts), blocked: await one(p.blocked) });
  };
  /** Account edges that will never run: shard ranges of a planned phase, or a whole unplanned phase. */
  const unrun = async (pi: number, ranges: Array<[number, number]> | undefined, outcome: 'aborted' | 'skipped' | 'failed', errorType: string, error: string) => {
    const p = s.phases[pi]!;
    if (p.planned && !ranges?.length) return;
    const r = await accountUnrun({ bundle: input.bundle, phase: pi, blocked: blockedBefore(pi), ...(p.planned ? { shards: p.planned.shards, ranges } : {}), outcome, errorType, error });
    apply({ type: 'accounted', phase: pi, counts: r.counts, account: r.account });
    recordCounts(p.name, r.counts);
  };
  const endLaterPhases = async (pi: number, outcome: 'aborted' | 'skipped', errorType: string, error: string) => {
    for (let k = pi + 1; k < s.phases.length; k++) {
      await unrun(k, undefined, outcome, errorType, error);
      apply({ type: 'phase-status', phase: k, status: outcome === 'aborted' ? 'aborted' : 'rejected', at: now() });
      await compactPhase(k);
    }
  };
  const finishPhase = (pi: number) => {
    apply({ type: 'phase-status', phase: pi, status: phaseFailed(s.phases[pi]!.counts) ? 'failed' : 'done', at: now() });
    recordPhase(s.phases[pi] as PhaseResult);
    publish();
  };

  /** The sliding window of shard children: 'done', 'drain' (continue as new first) or 'aborted'. */
  const runShards = async (pi: number): Promise<'done' | 'drain' | 'aborted'> => {
    const p = s.phases[pi]!;
    const planned = p.planned!;
    const n = planned.sizes.length;
    let drain = false;
    const lost: Array<[number, number]> = [];
    children = new CancellationScope();
    await children.run(async () => {
      const runner = async (): Promise<void> => {
        for (;;) {
          try {
            await condition(() => !s.paused || s.aborted);
          } catch (e) {
            if (isCancellation(e)) return;
            throw e;
          }
          if (s.aborted || drain || p.nextShard >= n) return;
          const i = p.nextShard;
          apply({ type: 'shard-started', phase: pi });
          const [edges, batches] = planned.sizes[i]!;
          try {
            const r = await executeChild(promotionShard, {
              workflowId: `${info.workflowId}/${p.name}/shard-${i}`,
              args: [{ run, rollout: rolloutSoFar(s, input.phases, pi), bundle: input.bundle, phase: pi, phaseName: p.name, shards: planned.shards, shard: i, edges, batches, ...(planned.queues?.[i] ? { taskQueue: planned.queues[i] } : {}), ...(input.tuning ? { tuning: input.tuning } : {}) }],
            });
            apply({ type: 'shard-done', phase: pi, result: r });
            recordCounts(p.name, r.counts);
          } catch (e) {
            // Cancelled before it started (abort), or the shard workflow itself failed: its edges are accounted below.
            apply({ type: 'shard-done', phase: pi, result: { counts: {}, failures: [], aborted: true } });
            if (isCancellation(e) || s.aborted) lost.push([i, i + 1]);
            else await unrun(pi, [[i, i + 1]], 'failed', 'ShardFailed', `shard ${i} failed: ${(e as Error).message.slice(0, 300)}`);
          }
          if (++thisRun >= t.shardsPerRun || workflowInfo().continueAsNewSuggested) drain = true;
          publish();
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(t.window, n - p.nextShard)) }, runner));
    });
    children = undefined;
    if (s.aborted) {
      await unrun(pi, lost, 'aborted', 'Aborted', 'not promoted: the run was aborted');
      return 'aborted';
    }
    return drain && p.nextShard < n ? 'drain' : 'done';
  };

  /** Gate: a soak, a durable timer that an abort cuts short. Returns false when aborted. */
  const soakGate = async (seconds: number, phaseName: string): Promise<boolean> => {
    await condition(() => s.aborted, seconds * 1000, { summary: `soak ${seconds}s after ${phaseName}` });
    return !s.aborted;
  };
  /** Gate: manual approval (an Update recording who and why). Returns the decision. */
  const approvalGate = async (phaseName: string): Promise<'approve' | 'reject' | 'abort'> => {
    apply({ type: 'awaiting', phase: phaseName });
    gate = undefined;
    publish();
    await condition(() => gate !== undefined || s.aborted);
    apply({ type: 'awaiting', phase: undefined });
    return s.aborted ? 'abort' : gate!;
  };

  for (let pi = s.phaseIndex; pi < s.phases.length; pi++) {
    s.phaseIndex = pi;
    const p = s.phases[pi]!;
    const gates = input.phases[pi]!;
    const last = pi === s.phases.length - 1;
    if (p.status === 'pending') apply({ type: 'phase-status', phase: pi, status: 'running', at: now() });
    upsertSearchAttributes([{ key: SA_PHASE, value: p.name }]);
    publish();
    if (!p.planned && !s.aborted) {
      apply({ type: 'planned', phase: pi, plan: await planPhase({ bundle: input.bundle, phase: pi, blocked: blockedBefore(pi), batchEdges: t.batchEdges, shardEdges: t.shardEdges }) });
      publish();
    }
    if (!s.aborted && p.planned && p.shardsDone < p.planned.sizes.length) {
      const outcome = await runShards(pi);
      if (outcome === 'drain') {
        await compactPhase(pi);
        await condition(allHandlersFinished);
        s.runs++;
        return continueAsNew<typeof shardedRun>({ ...input, state: s });
      }
    }
    if (s.aborted) {
      // Shards never started (or the whole phase, when the abort came before it was planned) are accounted as aborted.
      const n = p.planned?.sizes.length ?? 0;
      if (!p.planned || p.nextShard < n) await unrun(pi, p.planned ? [[p.nextShard, n]] : undefined, 'aborted', 'Aborted', 'not promoted: the run was aborted');
      await compactPhase(pi);
      apply({ type: 'phase-status', phase: pi, status: 'aborted', at: now() });
      await endLaterPhases(pi, 'aborted', 'Aborted', 'not promoted: the run was aborted');
      break;
    }
    await compactPhase(pi);
    if (gates.soakSeconds > 0 && !last) {
      apply({ type: 'phase-status', phase: pi, status: 'soaking', at: now() });
      publish();
      if (!(await soakGate(gates.soakSeconds, p.name))) {
        finishPhase(pi);
        await endLaterPhases(pi, 'aborted', 'Aborted', 'not promoted: the run was aborted');
        break;
      }
    }
    if (gates.approval && !last) {
      apply({ type: 'phase-status', phase: pi, status: 'awaiting-approval', at: now() });
      const d = await approvalGate(p.name);
      if (d !== 'approve') {
        finishPhase(pi);
        if (d === 'abort') await endLaterPhases(pi, 'aborted', 'Aborted', 'not promoted: the run was aborted');
        else await endLaterPhases(pi, 'skipped', 'Rejected', `not promoted: rejected at the ${p.name} gate`);
        break;
      }
    }
    finishPhase(pi);
  }
  apply({ type: 'finished' });
  publish();
  const parts = s.phases.flatMap((p) => p.accounts);
  const account = parts.length > 1 ? await compactRefs({ parts }) : parts[0];
  await condition(allHandlersFinished);
  return {
    name: s.name,
    status: runStatus(s),
    phases: s.phases.map((p) => ({ name: p.name, status: p.status, counts: p.counts, ...(p.accounts[0] ? { account: p.accounts[0] } : {}) })),
    totals: runTotals(s),
    failures: s.failures,
    decisions: s.decisions,
    ...(account ? { account } : {}),
  };
}
