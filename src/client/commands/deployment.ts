// `promoflow deployment set-current|ramp|describe`: which worker build new runs go to.
import { z } from 'zod';
import { buildIdSchema, check, connection, parse } from '../flags';
import type { Io } from '../promote';
import { runDeployment } from '../deployment';

const VERBS = ['set-current', 'ramp', 'describe'] as const;

const deploymentFlags = (verb: (typeof VERBS)[number]) =>
  z.object({
    buildId: verb === 'describe' ? z.undefined({ error: 'deployment describe takes no build ID' }) : buildIdSchema.optional().refine((b) => b !== undefined, `deployment ${verb} needs a build ID`),
    percentage: verb === 'ramp'
      ? z.string({ error: 'deployment ramp needs --percentage N (0-100; 0 stops the ramp)' }).regex(/^\d+(\.\d+)?$/, '--percentage is a number from 0 to 100').transform(Number).refine((n) => n <= 100, '--percentage is a number from 0 to 100')
      : z.undefined({ error: `--percentage applies to deployment ramp only` }),
    extra: z.array(z.string()).max(0, 'unexpected extra arguments'),
  });

export async function run(argv: string[], io: Io): Promise<number> {
  const [verb, ...args] = argv;
  const v = check(z.enum(VERBS, { error: 'expected set-current, ramp or describe' }), verb, 'deployment');
  const { values, positionals } = parse(`deployment ${v}`, args, { deployment: { type: 'string' }, percentage: { type: 'string' } }, true);
  const d = check(deploymentFlags(v), { buildId: positionals[0], percentage: values.percentage, extra: positionals.slice(1) }, `deployment ${v}`);
  return runDeployment({ verb: v, buildId: d.buildId, percentage: d.percentage, deployment: values.deployment, json: values.json, ...connection(values) }, io);
}
