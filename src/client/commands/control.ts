// `promoflow approve|reject|pause|resume|abort <workflow-id>`: a decision sent to a running promotion.
import { z } from 'zod';
import { check, connection, parse, required } from '../flags';
import type { Io } from '../promote';
import { runControl } from '../control';

/** The decisions a running promotion accepts (each an Update of the PromotionRun workflow). */
export const CONTROL_VERBS = ['approve', 'reject', 'pause', 'resume', 'abort'] as const;

export async function run(argv: string[], io: Io, name: string): Promise<number> {
  const verb = check(z.enum(CONTROL_VERBS), name, name);
  const { values, positionals } = parse(verb, argv, { by: { type: 'string' }, reason: { type: 'string' }, phase: { type: 'string' } }, true);
  const workflowId = required(positionals[0], 'a workflow ID', verb);
  return runControl(verb, { workflowId, by: values.by, reason: values.reason, phase: values.phase, json: values.json, ...connection(values) }, io);
}
