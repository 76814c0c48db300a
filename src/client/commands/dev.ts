// `promoflow dev up`: the embedded environment (Temporal dev server, local registries, a worker) in the foreground.
import { z } from 'zod';
import { check, parse } from '../flags';
import { CliError, EXIT } from '../exit-codes';
import type { Io } from '../promote';
import { runDevUp } from '../worker-command';

export async function run(argv: string[], io: Io): Promise<number> {
  const [sub, ...args] = argv;
  if (sub !== 'up') throw new CliError('promoflow dev: expected `promoflow dev up`', EXIT.INVALID);
  const { values } = parse('dev up', args, { registries: { type: 'string', default: 'staging,prod,mirror-eu,mirror-us' } });
  const registries = check(z.array(z.string().regex(/^[a-z0-9-]+$/, '--registries: names are lowercase letters, digits and dashes')).min(1), values.registries.split(','), 'dev up');
  return runDevUp({ stateDir: values['state-dir'], registries }, io);
}
