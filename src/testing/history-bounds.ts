// What a run cost in Temporal terms, read back from the server: every execution (continue-as-new runs included)
// whose workflow ID starts with a prefix, its history length, and the largest payload anywhere in those
// histories (workflow inputs and results, activity inputs and results, child inputs and results, continue-as-new
// inputs, failures' details). Used by the scale benchmark and the bounds test.
import type { Client } from '@temporalio/client';

export interface HistoryBounds {
  executions: number;
  largestHistory: { events: number; workflowId: string; runId: string };
  largestPayload: { bytes: number; workflowId: string; eventType: string };
  totalEvents: number;
}

interface PayloadLike {
  metadata?: Record<string, Uint8Array> | null;
  data?: Uint8Array | null;
}

function isPayload(v: unknown): v is PayloadLike {
  return typeof v === 'object' && v !== null && 'data' in v && (v as PayloadLike).data instanceof Uint8Array && 'metadata' in v;
}

/** The largest payload (data + metadata bytes) inside one event, found by walking it. */
function largestIn(v: unknown, depth = 0): number {
  if (depth > 12 || typeof v !== 'object' || v === null || v instanceof Uint8Array) return 0;
  if (isPayload(v)) return (v.data?.length ?? 0) + Object.entries(v.metadata ?? {}).reduce((n, [k, m]) => n + k.length + m.length, 0);
  let max = 0;
  for (const x of Array.isArray(v) ? v : Object.values(v)) max = Math.max(max, largestIn(x, depth + 1));
  return max;
}

export async function measureHistories(client: Client, workflowIdPrefix: string): Promise<HistoryBounds> {
  const out: HistoryBounds = { executions: 0, largestHistory: { events: 0, workflowId: '', runId: '' }, largestPayload: { bytes: 0, workflowId: '', eventType: '' }, totalEvents: 0 };
  for await (const w of client.workflow.list()) {
    if (!w.workflowId.startsWith(workflowIdPrefix)) continue;
    out.executions++;
    const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    const events = history.events ?? [];
    out.totalEvents += events.length;
    if (events.length > out.largestHistory.events) out.largestHistory = { events: events.length, workflowId: w.workflowId, runId: w.runId };
    for (const e of events) {
      const n = largestIn(e);
      if (n > out.largestPayload.bytes) {
        const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]) ?? 'event';
        out.largestPayload = { bytes: n, workflowId: w.workflowId, eventType: key.replace(/EventAttributes$/, '') };
      }
    }
  }
  return out;
}
