// `promoflow store gc --older-than 7d [--dry-run]`: remove state store documents no open run refers to.
import { z } from 'zod';
import { check, connection, parse } from '../flags';
import type { Io } from '../promote';
import { parseAge, runStoreGc } from '../store-gc';

export async function run(argv: string[], io: Io): Promise<number> {
  const [verb, ...args] = argv;
  check(z.literal('gc', { error: 'expected gc' }), verb, 'store');
  const { values } = parse('store gc', args, { 'older-than': { type: 'string', default: '7d' }, 'dry-run': { type: 'boolean', default: false } });
  const age = check(z.string().regex(/^[1-9]\d*[smhd]$/, '--older-than is an age such as 12h or 7d'), values['older-than'], 'store gc');
  return runStoreGc({ olderThanMs: parseAge(age)!, dryRun: values['dry-run'], json: values.json, ...connection(values) }, io);
}
