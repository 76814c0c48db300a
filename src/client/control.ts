// `promoflow approve|reject|pause|resume|abort <workflow-id>`: Temporal Updates on a running PromotionRun, each
// recording who and why. A request that cannot apply (no gate waiting, already paused, run ended) is refused by
// the workflow's validator and reported as one line.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { abortUpdate, approveUpdate, pauseUpdate, rejectUpdate, resumeUpdate } from '../contract';
import type { DecisionRecord } from '../contract';
import { connect, resolveTarget } from './connection';
import { CliError, EXIT } from './exit-codes';
import type { Io } from './promote';

export const CONTROL_UPDATES = { approve: approveUpdate, reject: rejectUpdate, pause: pauseUpdate, resume: resumeUpdate, abort: abortUpdate } as const;
export type ControlVerb = keyof typeof CONTROL_UPDATES;

export async function sendControl(client: Client, workflowId: string, verb: ControlVerb, d: { by: string; reason?: string; phase?: string }): Promise<DecisionRecord> {
  try {
    return await client.workflow.getHandle(workflowId).executeUpdate(CONTROL_UPDATES[verb], { args: [d] });
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) throw new CliError(`no running promotion with workflow ID ${workflowId}`, EXIT.INVALID);
    if (e instanceof WorkflowUpdateFailedError) {
      const cause = (e.cause as Error | undefined)?.message ?? e.message;
      throw new CliError(`${verb} refused by ${workflowId}: ${cause.split('\n')[0]}`, EXIT.INVALID);
    }
    throw e;
  }
}

export async function runControl(
  verb: ControlVerb,
  opts: { workflowId: string; by?: string; reason?: string; phase?: string; json: boolean; stateDir: string; temporalAddress?: string; namespace?: string },
  io: Io,
): Promise<number> {
  const by = opts.by ?? process.env.GITHUB_ACTOR ?? process.env.USER ?? process.env.LOGNAME;
  if (!by) throw new CliError(`promoflow ${verb}: say who decides with --by NAME`, EXIT.INVALID);
  const client = await connect(resolveTarget(opts));
  try {
    const rec = await sendControl(client, opts.workflowId, verb, { by, reason: opts.reason, phase: opts.phase });
    io.stdout(opts.json ? JSON.stringify(rec) : `promoflow: ${verb} recorded on ${opts.workflowId}${rec.phase ? ` (phase ${rec.phase})` : ''} by ${rec.by}${rec.reason ? `: ${rec.reason}` : ''}`);
    return EXIT.OK;
  } finally {
    await client.connection.close();
  }
}
