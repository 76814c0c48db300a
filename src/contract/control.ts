// The control surface of a running PromotionRun (part of the contract: clients send these, the workflow handles them): updates to approve or reject a gate and to pause, resume or abort,
// and the progress query. Payloads are validated with zod (they come from people and CI), and every decision
// records who made it and why.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { DecisionRecord as Decision, PromotionProgress } from './runs';
import type { RunProgress } from './sharded-run';
import type { ReconcileProgress } from './reconcile-run';

export const decisionInput = z.strictObject({
  by: z.string().min(1, 'who decides (by) is required').max(200),
  reason: z.string().max(2000).optional(),
  /** The gate's phase; when given it must be the phase awaiting approval. */
  phase: z.string().max(200).optional(),
});
export type DecisionInput = z.infer<typeof decisionInput>;


export const progressQuery = defineQuery<PromotionProgress>('progress');
export const approveUpdate = defineUpdate<Decision, [DecisionInput]>('approve');
export const rejectUpdate = defineUpdate<Decision, [DecisionInput]>('reject');
export const pauseUpdate = defineUpdate<Decision, [DecisionInput]>('pause');
export const resumeUpdate = defineUpdate<Decision, [DecisionInput]>('resume');
export const abortUpdate = defineUpdate<Decision, [DecisionInput]>('abort');

/** The sharded run's progress: its whole (bounded) state, status and totals. */
export const runProgressQuery = defineQuery<RunProgress>('runProgress');

/** The sharded reconcile's progress: its (bounded) state and the repair summary once there is one. */
export const reconcileProgressQuery = defineQuery<ReconcileProgress>('reconcileProgress');
