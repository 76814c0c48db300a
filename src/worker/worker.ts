// Worker bootstrap: runtime set-up (once per process), the workflow bundle (built once per process and reused),
// and a worker on promoflow's task queue with the activities over one shared OCI client. A worker may run under
// Temporal worker versioning (a deployment name and build ID), so a new build can be ramped and made current while
// promotions already in flight stay pinned to the build that started them.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Runtime, Worker, NativeConnection, bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { VersioningBehavior } from '@temporalio/common';
import { createActivities, createActivityDeps, CredentialBindings } from '../activities';
import { TASK_QUEUE, type Activities } from '../contract';
import type { StateStore } from '../state';

let runtimeInstalled = false;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

export interface RuntimeOptions {
  logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Serve Prometheus metrics (Temporal's runtime metrics and promoflow's own) on this port at /metrics. */
  metricsPort?: number;
  /** Address the metrics endpoint binds to (default 0.0.0.0, so a scraper in another container reaches it). */
  metricsHost?: string;
}

/**
 * Install the Temporal runtime once, before any worker or connection; quiet unless asked. The metrics exporter is
 * part of the runtime, so it is configured by the first call only: later calls with other options are refused
 * rather than silently ignored.
 */
export function installRuntime(opts: RuntimeOptions = {}): void {
  if (runtimeInstalled) {
    if (opts.metricsPort !== undefined) throw new Error('the Temporal runtime is already installed: metrics must be configured by the first installRuntime call');
    return;
  }
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger(opts.logLevel ?? (process.env.PROMOFLOW_LOG_LEVEL as 'INFO' | undefined) ?? 'WARN'),
    ...(opts.metricsPort !== undefined
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `${opts.metricsHost ?? '0.0.0.0'}:${opts.metricsPort}`, countersTotalSuffix: true } } } }
      : {}),
  });
}

/**
 * The workflow bundle `npm run build` writes beside the compiled code (dist/workflow-bundle.js and its .map). A
 * compiled worker loads it instead of running webpack at start-up, which costs ~130 MiB of RSS the process never
 * gives back. Running from the sources (tsx) there is none, so the bundle is built from the current code.
 */
export const PREBUILT_BUNDLE = join(__dirname, '..', 'workflow-bundle.js');

export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= existsSync(PREBUILT_BUNDLE)
    ? Promise.all([readFile(PREBUILT_BUNDLE, 'utf8'), readFile(`${PREBUILT_BUNDLE}.map`, 'utf8')]).then(([code, sourceMap]) => ({ code, sourceMap }))
    : bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') });
  return bundle;
}

/**
 * Write the workflow bundle to a file (and its source map beside it): by default the prebuilt bundle a compiled
 * worker loads (the last step of `npm run build`); the chaos suite writes one for workers started with
 * PROMOFLOW_WORKFLOW_BUNDLE=<file>, so a supervisor restarting workers often skips bundling at every start.
 */
export async function writeWorkflowBundle(file: string = PREBUILT_BUNDLE): Promise<void> {
  const b = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') });
  await writeFile(file, b.code);
  await writeFile(`${file}.map`, b.sourceMap);
}

/** Worker versioning: which deployment and build this worker is, and how its workflows follow new builds. */
export interface DeploymentOptions {
  name: string;
  buildId: string;
  /**
   * PINNED (default): a promotion runs to its end on the build that started it, so workflow code may change freely
   * between builds. AUTO_UPGRADE: runs move to the current build at their next task (workflow changes then need
   * patched()).
   */
  behavior?: VersioningBehavior;
}

export interface WorkerOptions {
  address: string;
  namespace?: string;
  taskQueue?: string;
  /** Concurrent activities (copies) on this worker. */
  maxConcurrentActivities?: number;
  maxConcurrentWorkflowTasks?: number;
  deployment?: DeploymentOptions;
  /**
   * Activities per second across every worker of the task queue, enforced by the Temporal server: the limit that
   * holds across workers (one task queue per registry group).
   */
  taskQueueActivitiesPerSecond?: number;
  /** The shared state store (default: PROMOFLOW_STATE_STORE or .promoflow/store). */
  store?: StateStore;
  /** Replace the activities (benchmarks stub the registry work). */
  activities?: Activities;
  /** Workflow task slots' cache size (default the SDK's). */
  maxCachedWorkflows?: number;
  /**
   * Which credential serves which registry host on this worker (loaded before the worker starts, so a bad file stops
   * it). Default: CredentialBindings.load() (PROMOFLOW_CREDENTIALS, PROMOFLOW_REGISTRY_AUTH, docker config).
   */
  credentials?: CredentialBindings;
}

export function workerIdentity(deployment?: DeploymentOptions): string {
  const base = `${process.pid}@${hostname()}`;
  return deployment ? `${base} ${deployment.name}.${deployment.buildId}` : base;
}

export async function createWorker(opts: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime();
  const connection = await NativeConnection.connect({ address: opts.address });
  const d = opts.deployment;
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    identity: workerIdentity(d),
    // A prebuilt bundle (writeWorkflowBundle) makes a restarted worker poll in seconds instead of re-bundling.
    workflowBundle: process.env.PROMOFLOW_WORKFLOW_BUNDLE ? { codePath: process.env.PROMOFLOW_WORKFLOW_BUNDLE } : await workflowBundle(),
    activities: opts.activities ?? createActivities(createActivityDeps({ bindings: opts.credentials ?? CredentialBindings.load(), ...(opts.store ? { store: opts.store } : {}) })),
    ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 32,
    maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflowTasks ?? 40,
    shutdownGraceTime: '10s',
    // Heartbeats leave at least every 2 s (the SDK's default holds them back up to 80% of the timeout, so a worker
    // starved of CPU for a few seconds on a loaded host missed a 30 s timeout and lost batches it was doing). A
    // batch's heartbeat carries its progress: a SIGKILL loses what finished since the last one that left.
    maxHeartbeatThrottleInterval: '2s',
    defaultHeartbeatThrottleInterval: '2s',
    ...(opts.taskQueueActivitiesPerSecond !== undefined ? { maxTaskQueueActivitiesPerSecond: opts.taskQueueActivitiesPerSecond } : {}),
    ...(d
      ? { workerDeploymentOptions: { useWorkerVersioning: true, version: { deploymentName: d.name, buildId: d.buildId }, defaultVersioningBehavior: d.behavior ?? 'PINNED' } }
      : {}),
  });
  return { worker, connection };
}
