// `promoflow watch <workflow-id>`: follow a promotion until it ends.
import { z } from 'zod';
import { check, connection, parse, required } from '../flags';
import type { Io } from '../promote';
import { runWatch } from '../watch';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('watch', argv, { interval: { type: 'string', default: '1' } }, true);
  const workflowId = required(positionals[0], 'a workflow ID', 'watch');
  const interval = check(z.string().regex(/^\d+(\.\d+)?$/, '--interval is seconds, e.g. 2 or 0.5').transform(Number), values.interval, 'watch');
  return runWatch({ workflowId, json: values.json, intervalMs: interval * 1000, ...connection(values) }, io);
}
