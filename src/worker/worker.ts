// Worker bootstrap: runtime set-up (once per process), the workflow bundle (built once per process and reused),
// and a worker on promoflow's task queue with the activities over one shared OCI client.
import { Runtime, Worker, NativeConnection, bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities';

export const TASK_QUEUE = 'promoflow';

let runtimeInstalled = false;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Install the Temporal runtime once, before any worker or connection; quiet unless asked. */
export function installRuntime(opts: { logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' } = {}): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger(opts.logLevel ?? (process.env.PROMOFLOW_LOG_LEVEL as 'INFO' | undefined) ?? 'WARN') });
}

export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') });
  return bundle;
}

export interface WorkerOptions {
  address: string;
  namespace?: string;
  taskQueue?: string;
  /** Concurrent activities (copies) on this worker. */
  maxConcurrentActivities?: number;
  maxConcurrentWorkflowTasks?: number;
}

export async function createWorker(opts: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime();
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: createActivities(),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 32,
    maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflowTasks ?? 40,
    shutdownGraceTime: '10s',
  });
  return { worker, connection };
}
