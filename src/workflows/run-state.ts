// The sharded run's state and how events change it (pure, deterministic, no I/O): phases and their shards,
// counters per phase and destination, the bounded failure sample, decisions, pause/abort. The run workflow applies
// events to it; continue-as-new carries it whole and the `runProgress` query answers with it, so it stays small:
// references, counters and at most FAILURE_SAMPLE failures, whatever the run size.
import {
  EDGE_OUTCOMES, FAILURE_SAMPLE, addCounts, emptyCounts, phaseTotals, type DecisionRecord, type DestinationCounts, type FailureSample, type OutcomeCounts, type PhaseStatus,
  type PhaseGates, type PlanPhaseResult, type RolloutPhases, type RunState, type ShardedRunStatus, type ShardedRunInput, type ShardResult, type StateRefList,
} from '../contract';

export type RunEvent =
  | { type: 'phase-status'; phase: number; status: PhaseStatus; at: string }
  | { type: 'planned'; phase: number; plan: PlanPhaseResult }
  | { type: 'shard-started'; phase: number }
  | { type: 'shard-done'; phase: number; result: ShardResult }
  /** Edges accounted without shards (aborted or rejected before they ran). */
  | { type: 'accounted'; phase: number; counts: DestinationCounts; account?: StateRefList[number] }
  | { type: 'compacted'; phase: number; accounts: StateRefList; blocked: StateRefList }
  | { type: 'decision'; record: DecisionRecord }
  | { type: 'awaiting'; phase?: string }
  | { type: 'finished' };

export function initialRunState(input: ShardedRunInput, startedOn: string): RunState {
  return {
    name: input.name,
    phaseIndex: 0,
    phases: input.phases.map((p) => ({ name: p.name, status: 'pending', nextShard: 0, shardsDone: 0, counts: {}, accounts: [], blocked: [] })),
    decisions: [],
    failures: [],
    paused: false,
    aborted: false,
    totalEdges: input.totalEdges,
    startedOn,
    runs: 0,
  };
}

function addFailures(into: FailureSample[], from: readonly FailureSample[]): void {
  for (const f of from) {
    if (into.length >= FAILURE_SAMPLE) return;
    into.push(f);
  }
}

export function applyEvent(s: RunState, e: RunEvent): RunState {
  switch (e.type) {
    case 'phase-status': {
      const p = s.phases[e.phase]!;
      p.status = e.status;
      if (e.status === 'running' && !p.startedAt) p.startedAt = e.at;
      if (['done', 'failed', 'rejected', 'aborted'].includes(e.status)) p.finishedAt = e.at;
      break;
    }
    case 'planned': {
      const p = s.phases[e.phase]!;
      p.planned = e.plan.planned;
      addCounts(p.counts, e.plan.skipped);
      if (e.plan.skippedAccount) p.accounts.push(e.plan.skippedAccount);
      addFailures(s.failures, e.plan.failures);
      break;
    }
    case 'shard-started':
      s.phases[e.phase]!.nextShard++;
      break;
    case 'shard-done': {
      const p = s.phases[e.phase]!;
      p.shardsDone++;
      addCounts(p.counts, e.result.counts);
      if (e.result.account) p.accounts.push(e.result.account);
      if (e.result.blocked) p.blocked.push(e.result.blocked);
      addFailures(s.failures, e.result.failures);
      break;
    }
    case 'accounted': {
      const p = s.phases[e.phase]!;
      addCounts(p.counts, e.counts);
      if (e.account) p.accounts.push(e.account);
      break;
    }
    case 'compacted': {
      const p = s.phases[e.phase]!;
      p.accounts = e.accounts;
      p.blocked = e.blocked;
      break;
    }
    case 'decision':
      s.decisions.push(e.record);
      if (e.record.kind === 'pause') s.paused = true;
      if (e.record.kind === 'resume') s.paused = false;
      if (e.record.kind === 'abort') s.aborted = true;
      break;
    case 'awaiting':
      s.awaiting = e.phase;
      break;
    case 'finished':
      s.finished = true;
      break;
  }
  return s;
}

export function runTotals(s: RunState): OutcomeCounts {
  const t = emptyCounts();
  for (const p of s.phases) {
    const pt = phaseTotals(p.counts);
    for (let i = 0; i < t.length; i++) t[i]! += pt[i]!;
  }
  return t;
}

const at = (o: (typeof EDGE_OUTCOMES)[number]) => EDGE_OUTCOMES.indexOf(o);

/** Did a phase leave anything failed or lost (its own failures; skipped edges are an earlier phase's)? */
export function phaseFailed(counts: DestinationCounts): boolean {
  const t = phaseTotals(counts);
  return t[at('failed')]! + t[at('lost')]! > 0;
}

export function runStatus(s: RunState): ShardedRunStatus {
  if (s.finished) {
    if (s.aborted) return 'aborted';
    if (s.decisions.some((d) => d.kind === 'reject')) return 'rejected';
    const t = runTotals(s);
    return t[at('failed')]! + t[at('lost')]! + t[at('skipped')]! + t[at('aborted')]! > 0 ? 'failed' : 'succeeded';
  }
  if (s.awaiting) return 'awaiting-approval';
  if (s.paused) return 'paused';
  const p = s.phases[s.phaseIndex];
  return p && !p.planned && p.status === 'running' ? 'planning' : 'running';
}

export function doneEdges(s: RunState): number {
  return runTotals(s).reduce((a, b) => a + b, 0);
}

/**
 * The rollout record up to phase `pi` (which is running), from the run's state only, so every attempt of every
 * activity of the phase gets the same record: each earlier phase with its start and end, the soak it served, its
 * verify gate and the approval that released the next phase (who, why, when); phase `pi` with its start.
 */
export function rolloutSoFar(s: RunState, gates: readonly PhaseGates[], pi: number): RolloutPhases {
  return s.phases.slice(0, pi + 1).map((p, k) => {
    const g = gates[k]!;
    const done = k < pi;
    const approval = done && g.approval ? s.decisions.filter((d) => d.kind === 'approve' && d.phase === p.name).at(-1) : undefined;
    return {
      name: p.name,
      startedAt: p.startedAt ?? s.startedOn,
      ...(done && p.finishedAt ? { finishedAt: p.finishedAt } : {}),
      ...(done && g.soakSeconds > 0 ? { soakSeconds: g.soakSeconds } : {}),
      ...(g.verify ? { verifyGate: true } : {}),
      ...(approval ? { approval: { by: approval.by, ...(approval.reason ? { reason: approval.reason } : {}), at: approval.at } } : {}),
    };
  });
}
