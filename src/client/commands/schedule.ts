// `promoflow schedule <verb> <schedule-id>`: the Temporal Schedule that runs reconciliation.
import { z } from 'zod';
import { check, connection, parse } from '../flags';
import type { Io } from '../promote';
import { runSchedule, SCHEDULE_SUBCOMMANDS, durationFlag, scheduleIdSchema } from '../schedule';

export async function run(argv: string[], io: Io): Promise<number> {
  const [verb, ...args] = argv;
  const sub = check(z.enum(SCHEDULE_SUBCOMMANDS, { error: `expected one of ${SCHEDULE_SUBCOMMANDS.join(', ')}` }), verb, 'schedule');
  const { values, positionals } = parse(`schedule ${sub}`, args, {
    file: { type: 'string', short: 'f' },
    git: { type: 'string' },
    ref: { type: 'string' },
    every: { type: 'string' },
    cron: { type: 'string' },
    'catchup-window': { type: 'string', default: '5m' },
    repair: { type: 'boolean', default: false },
    'public-key': { type: 'string' },
    note: { type: 'string' },
  }, true);
  const cmd = `schedule ${sub}`;
  const id = check(scheduleIdSchema, positionals[0], cmd);
  const every = check(durationFlag('every').optional(), values.every, cmd);
  const catchupWindow = check(durationFlag('catchup-window'), values['catchup-window'], cmd);
  return runSchedule({ sub, id, file: values.file, git: values.git, ref: values.ref, every, cron: values.cron, catchupWindow, repair: values.repair, publicKey: values['public-key'], note: values.note, json: values.json, ...connection(values) }, io);
}
