// `promoflow store gc`: the state store's retention. The roots are every `sha256:` reference that the history of
// an open workflow names (runs, shards, reconciles: their inputs, continue-as-new states and activity results),
// read from Temporal; src/state/gc.ts keeps what they reach and removes the rest once older than --older-than.
// Run it from one host that sees the store (a cron job beside the workers).
import type { Client } from '@temporalio/client';
import { collectGarbage, refsIn, type GcResult } from '../state';
import { connect, resolveTarget } from './connection';
import { CliError, EXIT } from './exit-codes';
import type { Io } from './promote';
import { stateStoreFor } from './state-store';

export interface StoreGcOptions {
  olderThanMs: number;
  dryRun: boolean;
  json: boolean;
  stateDir: string;
  temporalAddress?: string;
  namespace?: string;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** 30s, 5m, 12h, 7d → milliseconds. */
export function parseAge(s: string): number | undefined {
  const m = /^([1-9]\d*)([smhd])$/.exec(s);
  return m ? Number(m[1]) * UNITS[m[2]!]! : undefined;
}

/** Every reference in a history's payloads (their bytes are JSON: decoded as text) and strings, walked in place. */
function collectRefs(v: unknown, into: Set<string>, depth = 0): void {
  if (depth > 40 || v === null || v === undefined) return;
  if (typeof v === 'string') {
    for (const r of refsIn(v)) into.add(r);
  } else if (v instanceof Uint8Array) {
    for (const r of refsIn(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8'))) into.add(r);
  } else if (typeof v === 'object') {
    for (const x of Array.isArray(v) ? v : Object.values(v)) collectRefs(x, into, depth + 1);
  }
}

/** References named by the histories of every open workflow in the namespace. */
export async function openRunRoots(client: Client): Promise<{ roots: Set<string>; workflows: number }> {
  const roots = new Set<string>();
  let workflows = 0;
  for await (const w of client.workflow.list({ query: `ExecutionStatus = 'Running'` })) {
    workflows++;
    const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    collectRefs(history, roots);
  }
  return { roots, workflows };
}

export async function runStoreGc(o: StoreGcOptions, io: Io): Promise<number> {
  const store = stateStoreFor(o.stateDir);
  let client: Client;
  try {
    client = await connect(resolveTarget(o));
  } catch (e) {
    throw new CliError(`promoflow store gc: cannot reach Temporal to find the open runs (nothing removed): ${(e as Error).message.split('\n')[0]}`, EXIT.UNAVAILABLE);
  }
  let r: GcResult;
  let open: number;
  try {
    const { roots, workflows } = await openRunRoots(client);
    open = workflows;
    r = await collectGarbage(store.location, { roots, olderThanMs: o.olderThanMs, dryRun: o.dryRun });
  } finally {
    await client.connection.close();
  }
  if (o.json) io.stdout(JSON.stringify({ store: store.location, openWorkflows: open, dryRun: o.dryRun, ...r }));
  else io.stdout(`promoflow store gc ${store.location}: ${open} open workflow(s), ${r.marked} document(s) in use kept, ${r.young} recent kept, ${r.removed} ${o.dryRun ? 'would be ' : ''}removed (${(r.bytesFreed / 1e6).toFixed(1)} MB), ${r.temporaries} stale temporary file(s)`);
  return EXIT.OK;
}
