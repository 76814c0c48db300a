// promoflow's workflow-side metrics: edges by outcome and phase durations, through the workflow metric meter (a
// sink: never a history command, and silent during replay, so adding or changing a metric never breaks
// determinism). Exported by the worker's Prometheus endpoint next to Temporal's runtime metrics. Tags stay low
// cardinality (phase, destination, status): never image names or digests.
import { metricMeter } from '@temporalio/workflow';
import { EDGE_OUTCOMES, type DestinationCounts, type EdgeResult, type PhaseResult } from '../contract';

export const METRIC_EDGES = 'promoflow_edges';
export const METRIC_PHASE_DURATION = 'promoflow_phase_duration';

/** Count finished edges (image × destination) by outcome: promoted/present are done, failed/lost/skipped are not. */
export function recordEdges(edges: readonly EdgeResult[]): void {
  const counter = metricMeter.createCounter(METRIC_EDGES, 'edges', 'image × destination outcomes of promotion runs');
  for (const e of edges) counter.add(1, { status: e.status, phase: e.phase, destination: e.destination });
}

/** Record a finished phase's wall time (copies, verification, soak and approval wait included). */
export function recordPhase(phase: PhaseResult): void {
  if (!phase.startedAt || !phase.finishedAt) return;
  const ms = Date.parse(phase.finishedAt) - Date.parse(phase.startedAt);
  metricMeter
    .createHistogram(METRIC_PHASE_DURATION, 'int', 'ms', 'wall time of a rollout phase, gates included')
    .record(Math.max(0, ms), { phase: phase.name, status: phase.status });
}

/** Count a shard's or a plan's outcomes (sharded runs: counters per destination instead of edge lists). */
export function recordCounts(phase: string, counts: DestinationCounts): void {
  const counter = metricMeter.createCounter(METRIC_EDGES, 'edges', 'image × destination outcomes of promotion runs');
  for (const [destination, c] of Object.entries(counts)) c.forEach((n, i) => n > 0 && counter.add(n, { status: EDGE_OUTCOMES[i]!, phase, destination }));
}
