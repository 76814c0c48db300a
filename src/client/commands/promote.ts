// `promoflow promote -f <manifest>`: plan (dry run, the default) or, with --confirm, start the promotion and wait.
import { check, connection, parse, positiveInt, required } from '../flags';
import { runPromote, type Io } from '../promote';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parse('promote', argv, {
    file: { type: 'string', short: 'f' },
    confirm: { type: 'boolean', default: false },
    wait: { type: 'boolean', default: true },
    'no-wait': { type: 'boolean', default: false },
    commit: { type: 'string' },
    concurrency: { type: 'string' },
    'skip-invalid': { type: 'boolean', default: false },
    'strict-layout': { type: 'boolean', default: false },
    'strict-lost': { type: 'boolean', default: false },
    overlay: { type: 'string' },
    limit: { type: 'string' },
    'diff-base': { type: 'string' },
    'diff-head': { type: 'string' },
    credentials: { type: 'string' },
  });
  const file = required(values.file, '-f <manifest>', 'promote');
  const concurrency = check(positiveInt('concurrency'), values.concurrency, 'promote');
  const limit = check(positiveInt('limit'), values.limit, 'promote');
  return runPromote(
    {
      file, confirm: values.confirm, wait: values.wait && !values['no-wait'], json: values.json, commit: values.commit, concurrency,
      skipInvalid: values['skip-invalid'], strictLayout: values['strict-layout'], strictLost: values['strict-lost'], overlay: values.overlay, limit, diffBase: values['diff-base'], diffHead: values['diff-head'], credentialsFile: values.credentials, ...connection(values),
    },
    io,
  );
}
