// `promoflow demo`: the whole product on the embedded environment, end to end.
import { parse } from '../flags';
import type { Io } from '../promote';
import { runDemo } from '../demo';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parse('demo', argv, { keep: { type: 'boolean', default: false } });
  return runDemo({ stateDir: values['state-dir'], keep: values.keep }, io);
}
