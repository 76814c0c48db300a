// The flags every command shares and the one way commands read their arguments: strict parsing (an unknown flag is
// an error naming it), zod checks that end in one line and exit 2, --help after the flags (so the flags are still
// checked), and the Temporal connection flags turned into the options every client command takes.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { DEFAULT_STATE_DIR } from './state-dir';
import { CliError, EXIT, HelpRequested } from './exit-codes';
import type { Io } from './promote';

/** One command of the CLI: its own arguments (after the command word) in, an exit code out. */
export type Command = (argv: string[], io: Io, name: string) => Promise<number>;

const common = {
  'temporal-address': { type: 'string' },
  namespace: { type: 'string' },
  'state-dir': { type: 'string', default: DEFAULT_STATE_DIR },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export function parse<O extends ParseArgsConfig['options']>(cmd: string, argv: string[], options: O, positionals = false) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...common, ...options }, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new CliError(`promoflow ${cmd}: ${(e as Error).message} (see promoflow --help)`, EXIT.INVALID);
  }
  if ((parsed.values as { help?: boolean }).help) throw new HelpRequested();
  return parsed;
}

export function check<T>(schema: z.ZodType<T>, value: unknown, cmd: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new CliError(`promoflow ${cmd}: ${r.error.issues.map((i) => i.message).join('; ')}`, EXIT.INVALID);
  return r.data;
}

/** The Temporal connection (and embedded environment) options of a command, from its parsed common flags. */
export function connection(values: { 'state-dir': string; 'temporal-address'?: string; namespace?: string }): { stateDir: string; temporalAddress?: string; namespace?: string } {
  return { stateDir: values['state-dir'], temporalAddress: values['temporal-address'], namespace: values.namespace };
}

/** The one positional argument a command needs (a workflow ID, a schedule ID …), or a line saying it is missing. */
export function required(value: string | undefined, what: string, cmd: string): string {
  return check(z.string({ error: `${cmd} needs ${what}` }).min(1, `${cmd} needs ${what}`), value, cmd);
}

export const positiveInt = (flag: string) =>
  z.string().regex(/^[1-9]\d*$/, `--${flag} must be a positive integer`).transform(Number).optional();

export const buildIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a build ID is letters, digits, dots, dashes and underscores (e.g. a git SHA or 1.4.0)');
