// `promoflow worker` (a long-running worker against any Temporal) and `promoflow dev up` (the embedded
// environment plus a worker, in the foreground until Ctrl-C or SIGTERM). Both shut down gracefully: the worker
// finishes or hands back its tasks, then the environment's processes are stopped.
import { startEnvironment, type Environment } from '../dev';
import { TASK_QUEUE } from '../contract';
import { createWorker, installRuntime, type DeploymentOptions } from '../worker';
import { CredentialBindings } from '../oci';
import { resolveTarget } from './connection';
import { trustRootConfigFromEnv } from '../signing';
import { CliError, EXIT } from './exit-codes';
import type { Io } from './promote';
import { stateStoreFor } from './state-store';

function onShutdownSignal(fn: () => void): void {
  process.once('SIGINT', fn);
  process.once('SIGTERM', fn);
}

export interface WorkerCommandOptions {
  stateDir: string;
  temporalAddress?: string;
  namespace?: string;
  taskQueue?: string;
  concurrency?: number;
  /** Worker versioning: both or neither (the CLI checks). */
  deployment?: DeploymentOptions;
  metricsPort?: number;
  /** Server-enforced activity rate of the whole task queue (all its workers). */
  queueRps?: number;
  /** The operator's credential configuration (default PROMOFLOW_CREDENTIALS). */
  credentialsFile?: string;
}

export async function runWorker(opts: WorkerCommandOptions, io: Io): Promise<number> {
  const target = resolveTarget(opts);
  let credentials: CredentialBindings;
  try {
    credentials = CredentialBindings.load({ path: opts.credentialsFile });
    // The keyless trust-root settings (PROMOFLOW_TUF_*), checked at start rather than at the first keyless run.
    trustRootConfigFromEnv(process.env);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.INVALID);
  }
  try {
    installRuntime({ metricsPort: opts.metricsPort });
  } catch (e) {
    throw new CliError(`cannot serve metrics on port ${opts.metricsPort}: ${(e as Error).message.split('\n')[0].replace(/^Failed to start prometheus metrics exporter: /, '')}`, EXIT.UNAVAILABLE);
  }
  let w;
  try {
    w = await createWorker({
      address: target.address,
      namespace: target.namespace,
      taskQueue: opts.taskQueue,
      maxConcurrentActivities: opts.concurrency,
      deployment: opts.deployment,
      taskQueueActivitiesPerSecond: opts.queueRps,
      store: stateStoreFor(opts.stateDir),
      credentials,
    });
  } catch (e) {
    throw new CliError(`cannot start the worker against ${target.address}: ${(e as Error).message.split('\n')[0]}`, EXIT.UNAVAILABLE);
  }
  onShutdownSignal(() => w.worker.shutdown());
  const extras = [
    opts.deployment ? `deployment ${opts.deployment.name}, build ${opts.deployment.buildId}, ${opts.deployment.behavior ?? 'PINNED'}` : undefined,
    opts.metricsPort !== undefined ? `metrics on :${opts.metricsPort}/metrics` : undefined,
    opts.queueRps !== undefined ? `task queue limited to ${opts.queueRps} activities/s` : undefined,
    credentials.names().length ? `credentials ${credentials.names().join(', ')}` : undefined,
  ].filter(Boolean);
  io.stderr(`promoflow worker: polling ${target.address} (namespace ${target.namespace}, task queue ${opts.taskQueue ?? TASK_QUEUE}${extras.length ? `; ${extras.join('; ')}` : ''})`);
  await w.worker.run();
  await w.connection.close();
  io.stderr('promoflow worker: stopped');
  return EXIT.OK;
}

/** A worker on the embedded environment; if it cannot start, the environment is stopped too (nothing left running). */
export async function workerForEnvironment(env: Environment): Promise<Awaited<ReturnType<typeof createWorker>>> {
  try {
    return await createWorker({ address: env.temporal!.address, namespace: env.temporal!.namespace, store: stateStoreFor(env.stateDir) });
  } catch (e) {
    await env.stop();
    throw new CliError(`cannot start the worker: ${(e as Error).message.split('\n')[0]}`, EXIT.UNAVAILABLE);
  }
}

export async function runDevUp(opts: { stateDir: string; registries: string[] }, io: Io): Promise<number> {
  const env = await startEnvironment({ stateDir: opts.stateDir, registries: opts.registries }).catch((e: Error) => {
    throw new CliError(`cannot start the embedded environment: ${e.message}`, EXIT.UNAVAILABLE);
  });
  const w = await workerForEnvironment(env);
  io.stdout(`Temporal:  ${env.temporal!.address} (namespace ${env.temporal!.namespace})`);
  io.stdout(`Web UI:    ${env.temporal!.uiUrl}`);
  for (const [n, h] of Object.entries(env.registries)) io.stdout(`registry:  ${n} = ${h}`);
  io.stdout(`state:     ${env.stateDir} (other promoflow commands find this environment there)`);
  io.stdout('Press Ctrl-C to stop.');
  onShutdownSignal(() => w.worker.shutdown());
  try {
    await w.worker.run();
  } finally {
    await w.connection.close();
    await env.stop();
    io.stderr('promoflow dev: environment stopped');
  }
  return EXIT.OK;
}
