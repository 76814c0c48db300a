// `promoflow status <workflow-id>`: where a promotion stands (live progress query while running, the account
// once it has ended).
import { WorkflowNotFoundError } from '@temporalio/client';
import { progressQuery } from '../contract';
import type { PromotionRunResult } from '../contract';
import { connect, resolveTarget, workflowUiUrl } from './connection';
import { CliError, EXIT, exitCodeFor } from './exit-codes';
import type { Io } from './promote';
import { renderText } from './summary';
import { shardedStatus } from './sharded-status';

export async function runStatus(opts: { workflowId: string; json: boolean; stateDir: string; temporalAddress?: string; namespace?: string }, io: Io): Promise<number> {
  const target = resolveTarget(opts);
  const client = await connect(target);
  try {
    const handle = client.workflow.getHandle(opts.workflowId);
    let desc;
    try {
      desc = await handle.describe();
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) throw new CliError(`no promotion with workflow ID ${opts.workflowId} in namespace ${target.namespace}`, EXIT.INVALID);
      throw e;
    }
    const uiUrl = workflowUiUrl(target, opts.workflowId);
    const running = desc.status.name === 'RUNNING';
    if (desc.type === 'shardedRun') return await shardedStatus(handle, { ...opts, running, temporalStatus: desc.status.name, uiUrl }, io);
    const state: PromotionRunResult = running ? await handle.query(progressQuery) : await handle.result();
    io.stdout(opts.json ? JSON.stringify({ workflowId: opts.workflowId, temporalStatus: desc.status.name, uiUrl, state }, null, 2) : renderText(state, { workflowId: opts.workflowId, uiUrl }));
    return running ? EXIT.OK : exitCodeFor(state);
  } finally {
    await client.connection.close();
  }
}
