// Starting a sharded promotion: store the run bundle (the desired state) in the shared state store, then start the
// shardedRun workflow with its reference. The workflow ID derives from the bundle's digest (and commit), and the
// start uses USE_EXISTING, so a re-run CI job with the same manifests attaches to the run in flight.
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { SA_COMMIT, TASK_QUEUE, edgeCount, type RunBundle, type ShardedRunInput, type ShardedRunTuning } from '../contract';
import { putJson, type StateStore } from '../state';
import { shardedRun } from '../workflows';

export async function storeRun(store: StateStore, bundle: RunBundle, tuning?: ShardedRunTuning): Promise<ShardedRunInput> {
  return {
    name: bundle.name,
    ...(bundle.commit ? { commit: bundle.commit } : {}),
    bundle: await putJson(store, bundle),
    phases: bundle.phases.map((p) => ({ name: p.name, soakSeconds: p.soakSeconds, verify: p.verify, approval: p.approval })),
    totalEdges: edgeCount(bundle),
    ...(tuning ? { tuning } : {}),
  };
}

export function shardedWorkflowId(input: ShardedRunInput): string {
  const name = input.name.replace(/[^A-Za-z0-9._-]+/g, '-');
  return `promote/${name}/${input.commit ? `${input.commit.slice(0, 12)}-` : ''}${input.bundle.slice('sha256:'.length, 'sha256:'.length + 12)}`;
}

export async function startShardedRun(client: Client, input: ShardedRunInput, opts: { workflowId?: string } = {}) {
  return client.workflow.start(shardedRun, {
    taskQueue: TASK_QUEUE,
    workflowId: opts.workflowId ?? shardedWorkflowId(input),
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    staticSummary: `promote ${input.name}: ${input.totalEdges} image × destination edges in ${input.phases.length} phase(s)`,
    staticDetails: `Desired state: ${input.bundle}${input.commit ? `\n\nCommit: ${input.commit}` : ''}`,
    typedSearchAttributes: input.commit ? [{ key: SA_COMMIT, value: input.commit }] : undefined,
  });
}
