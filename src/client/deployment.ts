// `promoflow deployment set-current|ramp|describe`: moves new promotions from one worker build to the next through
// Temporal's worker deployment APIs. A ramp sends a percentage of new runs to the new build; set-current sends all
// of them. Runs already in flight are pinned to the build that started them and finish there.
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { DEFAULT_DEPLOYMENT } from '../contract';
import { connect, resolveTarget } from './connection';
import { CliError, EXIT } from './exit-codes';
import type { Io } from './promote';

export type DeploymentVerb = 'set-current' | 'ramp' | 'describe';

export interface DeploymentCommandOptions {
  verb: DeploymentVerb;
  /** Required for set-current and ramp. */
  buildId?: string;
  deployment?: string;
  /** Ramp percentage, 0–100 (0 stops the ramp). */
  percentage?: number;
  json: boolean;
  stateDir: string;
  temporalAddress?: string;
  namespace?: string;
}

export interface DeploymentState {
  deployment: string;
  currentBuildId?: string;
  rampingBuildId?: string;
  rampingPercentage?: number;
  versions: Array<{ buildId: string; status: string }>;
}

const IDENTITY = 'promoflow-cli';
/** gRPC status codes (numeric, so the CLI needs no direct grpc-js dependency). */
const GRPC = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, FAILED_PRECONDITION: 9, UNAVAILABLE: 14 } as const;

function explain(e: unknown, what: string): never {
  if (isGrpcServiceError(e)) {
    const detail = e.details || e.message;
    if (e.code === GRPC.NOT_FOUND || e.code === GRPC.FAILED_PRECONDITION || e.code === GRPC.INVALID_ARGUMENT) {
      throw new CliError(`${what}: ${detail.split('\n')[0]} (is a worker of that build polling? start it with \`promoflow worker --deployment NAME --build-id ID\`)`, EXIT.INVALID);
    }
    if (e.code === GRPC.UNAVAILABLE) throw new CliError(`${what}: Temporal is unavailable: ${detail.split('\n')[0]}`, EXIT.UNAVAILABLE);
    throw new CliError(`${what}: ${detail.split('\n')[0]}`, EXIT.FAILED);
  }
  throw e;
}

export async function setCurrentBuild(client: Client, deployment: string, buildId: string): Promise<void> {
  try {
    await client.workflowService.setWorkerDeploymentCurrentVersion({ namespace: client.options.namespace, deploymentName: deployment, buildId, identity: IDENTITY });
  } catch (e) {
    explain(e, `cannot make ${deployment}.${buildId} current`);
  }
}

export async function rampBuild(client: Client, deployment: string, buildId: string, percentage: number): Promise<void> {
  try {
    await client.workflowService.setWorkerDeploymentRampingVersion({ namespace: client.options.namespace, deploymentName: deployment, buildId, percentage, identity: IDENTITY });
  } catch (e) {
    explain(e, `cannot ramp ${deployment}.${buildId} to ${percentage}%`);
  }
}

export async function describeDeployment(client: Client, deployment: string): Promise<DeploymentState> {
  let r;
  try {
    r = await client.workflowService.describeWorkerDeployment({ namespace: client.options.namespace, deploymentName: deployment });
  } catch (e) {
    explain(e, `cannot describe deployment ${deployment}`);
  }
  const info = r.workerDeploymentInfo;
  const rc = info?.routingConfig;
  const statusName = (s: number | null | undefined) =>
    ['unspecified', 'inactive', 'current', 'ramping', 'draining', 'drained', 'created'][s ?? 0] ?? String(s);
  return {
    deployment,
    ...(rc?.currentDeploymentVersion?.buildId ? { currentBuildId: rc.currentDeploymentVersion.buildId } : {}),
    ...(rc?.rampingDeploymentVersion?.buildId ? { rampingBuildId: rc.rampingDeploymentVersion.buildId, rampingPercentage: rc.rampingVersionPercentage ?? 0 } : {}),
    versions: (info?.versionSummaries ?? []).map((v) => ({ buildId: v.deploymentVersion?.buildId ?? '', status: statusName(v.status) })),
  };
}

export async function runDeployment(opts: DeploymentCommandOptions, io: Io): Promise<number> {
  const deployment = opts.deployment ?? process.env.PROMOFLOW_DEPLOYMENT ?? DEFAULT_DEPLOYMENT;
  const client = await connect(resolveTarget(opts));
  try {
    if (opts.verb === 'set-current') {
      await setCurrentBuild(client, deployment, opts.buildId!);
      io.stderr(`promoflow: ${deployment}.${opts.buildId} is now current: new promotions start on it; runs in flight stay on their build`);
    } else if (opts.verb === 'ramp') {
      await rampBuild(client, deployment, opts.buildId!, opts.percentage!);
      io.stderr(`promoflow: ${deployment}.${opts.buildId} ramping: ${opts.percentage}% of new promotions start on it`);
    }
    const state = await describeDeployment(client, deployment);
    if (opts.json) io.stdout(JSON.stringify(state));
    else {
      io.stdout(`deployment ${state.deployment}: current ${state.currentBuildId ?? '(none: new runs go to unversioned workers)'}${state.rampingBuildId ? `, ramping ${state.rampingBuildId} at ${state.rampingPercentage}%` : ''}`);
      for (const v of state.versions) io.stdout(`  ${v.buildId}  ${v.status}`);
    }
    return EXIT.OK;
  } finally {
    await client.connection.close();
  }
}
