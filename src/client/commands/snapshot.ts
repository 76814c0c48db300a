// `promoflow snapshot <registry/repo-prefix>`: what a registry holds, as kpromo images.yaml or CSV.
import { z } from 'zod';
import { check, parse } from '../flags';
import type { Io } from '../promote';
import { runSnapshot } from '../snapshot';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('snapshot', argv, { format: { type: 'string', default: 'yaml' } }, true);
  const prefix = check(z.string({ error: 'snapshot needs a registry/repository prefix' }).regex(/^[A-Za-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/, 'snapshot needs host[:port][/path], e.g. registry.example.com/prod'), positionals[0], 'snapshot');
  const format = check(z.enum(['yaml', 'csv'], { error: '--format is yaml or csv' }), values.format, 'snapshot');
  return runSnapshot({ prefix, format }, io);
}
