// `promoflow reconcile -f <manifest>`: compare the registries with the manifests once (and repair with --repair).
import { connection, parse, required } from '../flags';
import type { Io } from '../promote';
import { runReconcile } from '../reconcile';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parse('reconcile', argv, {
    file: { type: 'string', short: 'f' },
    repair: { type: 'boolean', default: false },
    markdown: { type: 'boolean', default: false },
    'public-key': { type: 'string' },
    'no-wait': { type: 'boolean', default: false },
    commit: { type: 'string' },
  });
  const file = required(values.file, '-f <manifest>', 'reconcile');
  return runReconcile({ file, repair: values.repair, json: values.json, markdown: values.markdown, wait: !values['no-wait'], publicKey: values['public-key'], commit: values.commit, ...connection(values) }, io);
}
