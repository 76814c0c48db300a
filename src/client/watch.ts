// `promoflow watch <workflow-id>`: follow a promotion until it ends, then print its account. In a terminal, a live
// progress block redrawn in place; elsewhere (CI logs), plain lines at a bounded rate (src/client/progress.ts).
import type { PromotionRunResult, ShardedRunResult } from '../contract';
import { connect, resolveTarget, workflowUiUrl } from './connection';
import { exitCodeFor } from './exit-codes';
import { follow, progressView } from './progress';
import type { Io } from './promote';
import { renderText } from './summary';
import { renderRunText, viewOfResult } from './run-summary';

export async function runWatch(
  opts: { workflowId: string; json: boolean; intervalMs?: number; stateDir: string; temporalAddress?: string; namespace?: string },
  io: Io,
): Promise<number> {
  const target = resolveTarget(opts);
  const client = await connect(target);
  try {
    const handle = client.workflow.getHandle(opts.workflowId);
    const sharded = (await handle.describe()).type === 'shardedRun';
    const result: Promise<PromotionRunResult | ShardedRunResult> = handle.result();
    const view = await progressView(process.stdout, io, { json: opts.json });
    await follow(handle, view, opts.intervalMs ?? 1000, result, sharded);
    const r = await result;
    const uiUrl = workflowUiUrl(target, opts.workflowId);
    const text = () => ('totals' in r ? renderRunText(viewOfResult(r), { workflowId: opts.workflowId, uiUrl }) : renderText(r, { workflowId: opts.workflowId, uiUrl }));
    io.stdout(opts.json ? JSON.stringify({ workflowId: opts.workflowId, uiUrl, result: r }) : text());
    return exitCodeFor(r);
  } finally {
    await client.connection.close();
  }
}
