// `promoflow plan`: the dry run. Loads the manifests (native file, kpromo manifest, or kpromo thin-layout directory),
// reads the inventory (injected provider, or --inventory <file.json>), plans, and prints a table grouped by phase
// with summary counts, or JSON with --json. Never a stack trace for bad input.
//
// Exit codes:
//   0   nothing to do (every edge is already promoted)
//   10  changes planned (copies, tags, signatures to write; lost source digests are reported here too)
//   2   invalid input: usage error, manifest errors, unreadable inventory, or refused edges (tag move without
//       allowTagMove, overlapping digests for one tag). With --skip-invalid, invalid entries and refused edges are
//       reported and the rest is planned (exit 0/10).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadDiffScoped } from '../../manifest';
import { formatError, loadSpec, ManifestLoadError, type LoadResult, type ManifestError } from '../../manifest';
import type { Spec } from '../../manifest';
import { emptyInventory, inventoryFromJson, inventoryJsonSchema, type Inventory } from '../../plan';
import { changeCount, plan, problemCount } from '../../plan';
import { renderPlanText } from '../../plan';

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
  --json                 machine-readable plan on stdout
  --inventory <file>     registry state as JSON ({"repos": {"<registry>/<image>": {"tags": {...}, "digests": [...]}}})
  --skip-invalid         isolate invalid entries and refused edges (each reported) instead of failing
  --diff-base <rev>      plan only digests added or changed since git revision <rev>
  --diff-head <rev>      ... up to <rev> (default: the working tree)
exit codes: 0 nothing to do, 10 changes planned, 2 invalid input`;

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
  let values: { json?: boolean; file?: string; inventory?: string; 'skip-invalid'?: boolean; 'diff-base'?: string; 'diff-head'?: string; help?: boolean };
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
        'skip-invalid': { type: 'boolean' },
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
  const skipInvalid = values['skip-invalid'] ?? false;
  let loaded: LoadResult & { preexisting?: ManifestError[] };
  try {
    loaded = values['diff-base'] ? await loadDiffScoped(target, values['diff-base'], values['diff-head'], { skipInvalid }) : await loadSpec(target, { skipInvalid });
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
      // Unreachable registries are the environment's problem, not the manifest's: exit 3, as everywhere.
      io.stderr(`promoflow plan: ${e instanceof Error ? e.message : String(e)}\n`);
      return EXIT_UNAVAILABLE;
    }
  } else {
    io.stderr('note: no inventory: planning against empty destinations\n');
    inventory = emptyInventory();
  }

  const p = plan(loaded.spec, inventory);
  if (values.json) {
    io.stdout(`${JSON.stringify({ ...p, format: loaded.format, skipped: loaded.errors.map(formatError), warnings: loaded.warnings.map(formatError) }, null, 2)}\n`);
  } else io.stdout(renderPlanText(p));
  if (problemCount(p.counts) > 0 && !skipInvalid) return EXIT_INVALID;
  return changeCount(p.counts) + p.counts.lost > 0 ? EXIT_CHANGES : EXIT_NOTHING_TO_DO;
}

/** The CLI entry: the planner's own parser; inventories come from the live registries unless --inventory names a file. */
export async function run(argv: string[], io: PlanIo): Promise<number> {
  const line = (write: (s: string) => void) => (t: string) => write(t.replace(/\n$/, ''));
  return runPlanCommand(argv, { stdout: line(io.stdout), stderr: line(io.stderr) }, {
    inventory: async (spec) => (await import('../promote.js')).readSpecInventory(spec),
  });
}
