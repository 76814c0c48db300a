// `promoflow watch <workflow-id>`: follow a promotion until it ends, then print its account. In a terminal, a live
// progress block redrawn in place; elsewhere (CI logs), plain lines at a bounded rate (src/client/progress.ts).
import type { PromotionRunResult, ShardedRunResult } from '../contract';
import { resolveTarget, workflowUiUrl } from './connection';
import { TemporalSession } from './session';
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
  const session = await TemporalSession.open(target, { onOutage: (m) => io.stderr(m) });
  try {
    const desc = await session.call('reading', opts.workflowId, () => session.client.workflow.getHandle(opts.workflowId).describe());
    const view = await progressView(process.stdout, io, { json: opts.json });
    await follow(session, opts.workflowId, view, opts.intervalMs ?? 1000, desc.type === 'shardedRun');
    const r = await session.result<PromotionRunResult | ShardedRunResult>(opts.workflowId);
    const uiUrl = workflowUiUrl(target, opts.workflowId);
    const text = () => ('totals' in r ? renderRunText(viewOfResult(r), { workflowId: opts.workflowId, uiUrl }) : renderText(r, { workflowId: opts.workflowId, uiUrl }));
    io.stdout(opts.json ? JSON.stringify({ workflowId: opts.workflowId, uiUrl, result: r }) : text());
    return exitCodeFor(r);
  } finally {
    await session.close();
  }
}
