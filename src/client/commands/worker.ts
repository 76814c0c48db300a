// `promoflow worker`: serve promotions (workflows and activities) on a task queue. The only command that loads
// the worker runtime.
import { z } from 'zod';
import { buildIdSchema, check, connection, parse, positiveInt } from '../flags';
import type { Io } from '../promote';
import { runWorker } from '../worker-command';
import { DEFAULT_DEPLOYMENT } from '../../contract';

const workerFlags = z
  .object({
    concurrency: positiveInt('concurrency'),
    deployment: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, '--deployment (PROMOFLOW_DEPLOYMENT) is letters, digits, dashes and underscores').optional(),
    buildId: buildIdSchema.optional(),
    metricsPort: z.string().regex(/^\d+$/, '--metrics-port (PROMOFLOW_METRICS_PORT) must be a port number').transform(Number).refine((n) => n > 0 && n < 65536, '--metrics-port must be 1-65535').optional(),
    queueRps: z.string().regex(/^\d+(\.\d+)?$/, '--queue-rps is activities per second, e.g. 20 or 0.5').transform(Number).refine((n) => n > 0, '--queue-rps must be above 0').optional(),
  })
  .refine((w) => !w.deployment || w.buildId, { message: '--deployment needs --build-id (or PROMOFLOW_BUILD_ID): a versioned worker is one build of a deployment' });

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parse('worker', argv, {
    'task-queue': { type: 'string' },
    concurrency: { type: 'string' },
    deployment: { type: 'string' },
    'build-id': { type: 'string' },
    'metrics-port': { type: 'string' },
    'queue-rps': { type: 'string' },
    credentials: { type: 'string' },
  });
  const w = check(workerFlags, {
    concurrency: values.concurrency,
    deployment: values.deployment ?? process.env.PROMOFLOW_DEPLOYMENT,
    buildId: values['build-id'] ?? process.env.PROMOFLOW_BUILD_ID,
    metricsPort: values['metrics-port'] ?? process.env.PROMOFLOW_METRICS_PORT,
    queueRps: values['queue-rps'],
  }, 'worker');
  return runWorker(
    {
      ...connection(values), taskQueue: values['task-queue'], concurrency: w.concurrency,
      deployment: w.buildId ? { name: w.deployment ?? DEFAULT_DEPLOYMENT, buildId: w.buildId } : undefined, metricsPort: w.metricsPort, queueRps: w.queueRps,
      credentialsFile: values.credentials,
    },
    io,
  );
}
