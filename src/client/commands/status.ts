// `promoflow status <workflow-id>`: where a promotion stands.
import { connection, parse, required } from '../flags';
import type { Io } from '../promote';
import { runStatus } from '../status';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('status', argv, {}, true);
  const workflowId = required(positionals[0], 'a workflow ID', 'status');
  return runStatus({ workflowId, json: values.json, ...connection(values) }, io);
}
