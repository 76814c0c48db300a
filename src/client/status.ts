// `promoflow status <workflow-id>`: where a promotion stands (live progress query while running, the account
// once it has ended).
import { WorkflowNotFoundError } from '@temporalio/client';
import { progressQuery } from '../contract';
import type { PromotionRunResult } from '../contract';
import { resolveTarget, workflowUiUrl } from './connection';
import { TemporalSession } from './session';
import { CliError, EXIT, exitCodeFor } from './exit-codes';
import type { Io } from './promote';
import { renderText } from './summary';
import { shardedStatus } from './sharded-status';
import { reconcileStatus } from './reconcile';

export async function runStatus(opts: { workflowId: string; json: boolean; stateDir: string; temporalAddress?: string; namespace?: string }, io: Io): Promise<number> {
  const target = resolveTarget(opts);
  const session = await TemporalSession.open(target, { onOutage: (m) => io.stderr(m) });
  try {
    const id = opts.workflowId;
    const handle = () => session.client.workflow.getHandle(id);
    let desc;
    try {
      desc = await session.call('reading', id, () => handle().describe());
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) throw new CliError(`no promotion with workflow ID ${id} in namespace ${target.namespace}`, EXIT.INVALID);
      throw e;
    }
    const uiUrl = workflowUiUrl(target, id);
    const running = desc.status.name === 'RUNNING';
    if (desc.type === 'reconcileRun') return await reconcileStatus(handle(), { ...opts, running, temporalStatus: desc.status.name, ...(uiUrl ? { uiUrl } : {}) }, io);
    if (desc.type === 'shardedRun') return await shardedStatus(handle(), { ...opts, running, temporalStatus: desc.status.name, uiUrl }, io);
    const state: PromotionRunResult = running ? await session.call('reading', id, () => handle().query(progressQuery)) : await session.result<PromotionRunResult>(id);
    io.stdout(opts.json ? JSON.stringify({ workflowId: id, temporalStatus: desc.status.name, uiUrl, state }, null, 2) : renderText(state, { workflowId: id, uiUrl }));
    return running ? EXIT.OK : exitCodeFor(state);
  } finally {
    await session.close();
  }
}
