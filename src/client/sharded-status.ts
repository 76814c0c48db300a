// `status` and `watch` for sharded runs: the live state from the `runProgress` query (or the result once ended),
// shown as counts per phase and destination plus the first failures. `--json` streams JSON lines: one line with
// the run's state, then one line per edge of its account read from the state store, so the full account of a
// million-edge run can be paged through (`| jq`, `| grep failed`) without ever being held whole.
import type { WorkflowHandle } from '@temporalio/client';
import type { RunProgress, ShardedRunResult } from '../contract';
import type { StateRef } from '../state';
import { runProgressQuery } from '../workflows';
import { exitCodeFor } from './exit-codes';
import type { Io } from './promote';
import { renderRunText, streamAccount, viewOfResult, type RunAccountView } from './run-summary';
import { stateStoreFor } from './state-store';
import { CliError, EXIT } from './exit-codes';

export function viewOfProgress(p: RunProgress): RunAccountView {
  return {
    name: p.state.name,
    status: p.status,
    phases: p.state.phases.map((ph) => ({ name: ph.name, status: ph.status, counts: ph.counts, ...(ph.planned ? { shards: `${ph.shardsDone}/${ph.planned.sizes.length}` } : {}) })),
    totals: p.totals,
    failures: p.state.failures,
    totalEdges: p.state.totalEdges,
  };
}

export async function shardedStatus(
  handle: WorkflowHandle,
  opts: { workflowId: string; json: boolean; stateDir: string; running: boolean; temporalStatus: string; uiUrl?: string },
  io: Io,
): Promise<number> {
  let view: RunAccountView;
  let accounts: StateRef[];
  let code: number;
  if (opts.running) {
    const p = await handle.query(runProgressQuery);
    view = viewOfProgress(p);
    accounts = p.state.phases.flatMap((ph) => ph.accounts);
    code = EXIT.OK;
  } else {
    const r = (await handle.result()) as ShardedRunResult;
    view = viewOfResult(r);
    accounts = r.account ? [r.account] : [];
    code = exitCodeFor(r);
  }
  if (!opts.json) {
    io.stdout(renderRunText(view, { workflowId: opts.workflowId, uiUrl: opts.uiUrl }));
    return code;
  }
  io.stdout(JSON.stringify({ workflowId: opts.workflowId, temporalStatus: opts.temporalStatus, uiUrl: opts.uiUrl, ...view }));
  const store = stateStoreFor(opts.stateDir);
  try {
    await streamAccount(store, accounts, io.stdout);
  } catch (e) {
    throw new CliError(`cannot read the run's account from the state store ${store.location}: ${(e as Error).message.split('\n')[0]}`, EXIT.UNAVAILABLE);
  }
  return code;
}
