// `promoflow plan`: the dry run. Loads the manifests (native file, kpromo manifest, or kpromo thin-layout directory,
// with an optional rollout overlay), reads the inventory (injected provider, or --inventory <file.json>), plans, and
// prints a bounded summary (counts per phase, project and destination, then the first N edges), or JSON lines with
// --json. Never a stack trace for bad input.
//
// Exit codes:
//   0   nothing to do (every edge is already promoted; lost digests are reported and skipped, as kpromo does)
//   10  changes planned (copies, tags, signatures to write)
//   1   with --strict-lost: a digest is missing from its source (the run would end failed)
//   2   invalid input: usage error, manifest errors (with --strict-layout also layout mistakes), unreadable
//       inventory, or refused edges (tag move without allowTagMove, overlapping digests for one tag). With
//       --skip-invalid, invalid entries and refused edges are reported and the rest is planned (exit 0/10/1).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadDiffScoped } from '../../manifest';
import { formatError, loadSpec, ManifestLoadError, type LoadResult, type ManifestError } from '../../manifest';
import type { Spec } from '../../manifest';
import { emptyInventory, inventoryFromJson, inventoryJsonSchema, type Inventory } from '../../plan';
import { DEFAULT_SHOWN, plan, renderPlanText, writePlanJsonLines } from '../../plan';
import { planExitCode } from '../plan-exit';

export const EXIT_NOTHING_TO_DO = 0;
export const EXIT_CHANGES = 10;
export const EXIT_INVALID = 2;
export const EXIT_UNAVAILABLE = 3;

export interface PlanIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/** Reads what the registries hold for the repositories of `spec` (the real one reads registries; tests inject). */
export type InventoryProvider = (spec: Spec) => Promise<Inventory>;

export const PLAN_USAGE = `usage: promoflow plan [-f] <manifest file | kpromo thin-layout dir> [options]
  --json                 JSON lines on stdout: a header ({"type":"plan", counts, phases, ...}), then one line per edge
  --limit <n>            edges (and table rows) shown in the text summary (default ${DEFAULT_SHOWN})
  --inventory <file>     registry state as JSON ({"repos": {"<registry>/<image>": {"tags": {...}, "digests": [...]}}})
  --overlay <file>       rollout overlay for a kpromo layout (default: promoflow-overlay.yaml in the layout, if any)
  --skip-invalid         isolate invalid entries and refused edges (each reported) instead of failing
  --strict-layout        fail like kpromo on layout mistakes (a manifest without images.yaml, a nested manifest)
  --strict-lost          a digest missing from its source fails (exit 1) instead of being reported and skipped
  --diff-base <rev>      plan only digests added or changed since git revision <rev>
  --diff-head <rev>      ... up to <rev> (default: the working tree)
exit codes: 0 nothing to do, 10 changes planned, 1 lost digests (--strict-lost), 2 invalid input`;

async function readInventoryFile(file: string): Promise<Inventory | ManifestError> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return { file, line: 0, column: 0, path: '', message: `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { file, line: 0, column: 0, path: '', message: `is not JSON: ${(e as Error).message}` };
  }
  const r = inventoryJsonSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    return { file, line: 0, column: 0, path: i.path.map(String).join('.'), message: i.message, expected: 'the inventory JSON shape (see --help)' };
  }
  return inventoryFromJson(r.data);
}

export async function runPlanCommand(argv: string[], io: PlanIo, deps: { inventory?: InventoryProvider } = {}): Promise<number> {
  let values: { json?: boolean; file?: string; inventory?: string; overlay?: string; limit?: string; 'skip-invalid'?: boolean; 'strict-layout'?: boolean; 'strict-lost'?: boolean; 'diff-base'?: string; 'diff-head'?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        file: { type: 'string', short: 'f' },
        json: { type: 'boolean' },
        inventory: { type: 'string' },
        overlay: { type: 'string' },
        limit: { type: 'string' },
        'skip-invalid': { type: 'boolean' },
        'strict-layout': { type: 'boolean' },
        'strict-lost': { type: 'boolean' },
        'diff-base': { type: 'string' },
        'diff-head': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.stderr(`promoflow plan: ${(e as Error).message}\n${PLAN_USAGE}\n`);
    return EXIT_INVALID;
  }
  if (values.help) {
    io.stdout(`${PLAN_USAGE}\n`);
    return EXIT_NOTHING_TO_DO;
  }
  const target = values.file ?? positionals[0];
  if (!target || positionals.length > (values.file ? 0 : 1) || (values['diff-head'] && !values['diff-base'])) {
    io.stderr(`promoflow plan: ${!target ? 'a manifest path is required' : values['diff-head'] ? '--diff-head needs --diff-base' : `unexpected argument ${positionals[values.file ? 0 : 1]}`}\n${PLAN_USAGE}\n`);
    return EXIT_INVALID;
  }
  const limit = values.limit === undefined ? DEFAULT_SHOWN : /^\d{1,9}$/.test(values.limit) ? Number(values.limit) : undefined;
  if (limit === undefined) {
    io.stderr(`promoflow plan: --limit ${JSON.stringify(values.limit)} is not a number of edges (e.g. --limit 100)\n${PLAN_USAGE}\n`);
    return EXIT_INVALID;
  }
  const skipInvalid = values['skip-invalid'] ?? false;
  const loadOpts = { skipInvalid, strictLayout: values['strict-layout'] ?? false, ...(values.overlay ? { overlay: values.overlay } : {}) };
  let loaded: LoadResult & { preexisting?: ManifestError[] };
  try {
    loaded = values['diff-base'] ? await loadDiffScoped(target, values['diff-base'], values['diff-head'], loadOpts) : await loadSpec(target, loadOpts);
  } catch (e) {
    if (e instanceof ManifestLoadError) {
      io.stderr(`${e.format()}\n${e.errors.length} error(s): nothing planned${skipInvalid ? '' : ' (--skip-invalid isolates invalid entries)'}\n`);
      return EXIT_INVALID;
    }
    io.stderr(`promoflow plan: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_INVALID;
  }
  for (const w of loaded.warnings) io.stderr(`warning: ${formatError(w)}\n`);
  for (const w of loaded.preexisting ?? []) io.stderr(`pre-existing (outside the diff, ignored): ${formatError(w)}\n`);
  for (const e of loaded.errors) io.stderr(`skipped: ${formatError(e)}\n`);

  let inventory: Inventory;
  if (values.inventory) {
    const inv = await readInventoryFile(values.inventory);
    if (!('repos' in inv)) {
      io.stderr(`${formatError(inv)}\n`);
      return EXIT_INVALID;
    }
    inventory = inv;
  } else if (deps.inventory) {
    try {
      inventory = await deps.inventory(loaded.spec);
    } catch (e) {
      // Unreachable registries are the environment's problem, not the manifest's: exit 3, as everywhere. A manifest
      // or credential configuration the registries cannot be read with is invalid input (its CliError says so).
      io.stderr(`promoflow plan: ${e instanceof Error ? e.message : String(e)}\n`);
      return e instanceof Error && 'exitCode' in e && e.exitCode === EXIT_INVALID ? EXIT_INVALID : EXIT_UNAVAILABLE;
    }
  } else {
    io.stderr('note: no inventory: planning against empty destinations\n');
    inventory = emptyInventory();
  }

  const p = plan(loaded.spec, inventory);
  if (values.json) writePlanJsonLines(p, io.stdout, { format: loaded.format, skipped: loaded.errors.map(formatError), warnings: loaded.warnings.map(formatError) });
  else io.stdout(renderPlanText(p, limit));
  return planExitCode(p.counts, { skipInvalid, strictLost: values['strict-lost'] ?? false });
}

/** The CLI entry: the planner's own parser; inventories come from the live registries unless --inventory names a file. */
export async function run(argv: string[], io: PlanIo): Promise<number> {
  const line = (write: (s: string) => void) => (t: string) => write(t.replace(/\n$/, ''));
  return runPlanCommand(argv, { stdout: line(io.stdout), stderr: line(io.stderr) }, {
    inventory: async (spec) => (await import('../promote.js')).readSpecInventory(spec),
  });
}
