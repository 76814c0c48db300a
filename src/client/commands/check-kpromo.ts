// `promoflow check-kpromo`: dual-running with kpromo. For a kpromo manifest tree (thin layout or plain manifest),
// prints the edges kpromo computes (manifest/kpromo-reference.ts, a model of promo-tools' own parser and ToEdges),
// the edges promoflow plans (isolating invalid entries, against empty destinations so every edge is listed), and
// every difference grouped by image digest, each with promoflow's reason when it skipped the entry.
//
// Exit codes: 0 the same edges, 1 the edges differ, 2 invalid input (usage, unreadable path).
import { parseArgs } from 'node:util';
import { formatError, fsSourceFor, kpromoReference, loadSpecFrom, ManifestLoadError, type LoadResult, type ManifestError } from '../../manifest';
import { compareWithKpromo, DEFAULT_SHOWN, emptyInventory, plan, zeroCounts, type ParityGroup } from '../../plan';
import { EXIT } from '../exit-codes';

export const CHECK_KPROMO_USAGE = `usage: promoflow check-kpromo <kpromo thin-layout dir | promoter-manifest.yaml> [--json] [--limit N]
  prints the edges kpromo and promoflow compute for the same manifests, and every difference
  --json        JSON lines: {"type":"summary"}, then "kpromo-failure", "promoflow-skipped", "only-kpromo", "only-promoflow"
  --limit <n>   differences (and failures) listed in the text report (default ${DEFAULT_SHOWN})
exit codes: 0 the same edges, 1 the edges differ, 2 invalid input`;

interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const short = (d: string) => (d.length > 19 ? `${d.slice(0, 19)}…` : d);

/** promoflow's reason for leaving a kpromo edge out: the skipped entry that names the digest, or its file. */
function reasonFor(g: ParityGroup, skipped: ManifestError[]): string | undefined {
  const e = skipped.find((x) => x.value === g.digest) ?? skipped.find((x) => x.file === g.file && x.path === '');
  return e && formatError(e);
}

/** The command's entry (src/client/cli.ts loads it on first use). */
export { runCheckKpromo as run };

export async function runCheckKpromo(argv: string[], io: Io): Promise<number> {
  let values: { json?: boolean; limit?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { json: { type: 'boolean' }, limit: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    io.stderr(`promoflow check-kpromo: ${(e as Error).message}\n${CHECK_KPROMO_USAGE}`);
    return EXIT.INVALID;
  }
  if (values.help) return (io.stdout(CHECK_KPROMO_USAGE), EXIT.OK);
  const limit = values.limit === undefined ? DEFAULT_SHOWN : /^\d{1,9}$/.test(values.limit) ? Number(values.limit) : undefined;
  if (positionals.length !== 1 || limit === undefined) {
    io.stderr(`promoflow check-kpromo: ${limit === undefined ? `--limit ${JSON.stringify(values.limit)} is not a number` : positionals.length ? `unexpected argument ${positionals[1]}` : 'a manifest path is required'}\n${CHECK_KPROMO_USAGE}`);
    return EXIT.INVALID;
  }
  const { source, rel } = await fsSourceFor(positionals[0]!);
  if ((await source.kind(rel)) === 'missing') {
    io.stderr(`${source.display(rel)}: no such file or directory: expected a kpromo thin-layout directory or a promoter-manifest.yaml`);
    return EXIT.INVALID;
  }
  const kpromo = await kpromoReference(source, rel);
  let loaded: LoadResult | undefined;
  let skipped: ManifestError[] = [];
  try {
    // The manifests alone, as kpromo sees them: no overlay (it changes phases, not edges).
    loaded = await loadSpecFrom(source, rel, { skipInvalid: true });
    skipped = loaded.errors;
  } catch (e) {
    if (!(e instanceof ManifestLoadError)) throw e;
    skipped = e.errors;
  }
  const report = compareWithKpromo(kpromo.edges, loaded ? plan(loaded.spec, emptyInventory()) : { name: '', phases: [], counts: zeroCounts(), lost: [] });
  const differ = report.onlyKpromoEdges + report.onlyPromoflowEdges > 0;

  if (values.json) {
    const lines = [JSON.stringify({ type: 'summary', kpromo: { edges: report.kpromo, manifests: kpromo.manifests, redundant: kpromo.redundant, failures: kpromo.failures.length }, promoflow: { edges: report.promoflow, skipped: skipped.length, format: loaded?.format }, same: report.same, onlyKpromo: report.onlyKpromoEdges, onlyPromoflow: report.onlyPromoflowEdges })];
    for (const f of kpromo.failures) lines.push(JSON.stringify({ type: 'kpromo-failure', message: f }));
    for (const e of skipped) lines.push(JSON.stringify({ type: 'promoflow-skipped', error: formatError(e) }));
    for (const g of report.onlyKpromo) lines.push(JSON.stringify({ type: 'only-kpromo', ...g, reason: reasonFor(g, skipped) }));
    for (const g of report.onlyPromoflow) lines.push(JSON.stringify({ type: 'only-promoflow', ...g }));
    io.stdout(lines.join('\n'));
    return differ ? EXIT.FAILED : EXIT.OK;
  }
  const out: string[] = [`kpromo: ${report.kpromo} edges from ${kpromo.manifests} manifest(s)${kpromo.redundant ? ` (${kpromo.redundant} redundant promotion(s) kept once)` : ''}`];
  if (kpromo.failures.length) {
    out.push(`  kpromo would fail the whole run (${kpromo.failures.length} reason(s)); the edges above are those of everything it reads:`);
    for (const f of kpromo.failures.slice(0, limit)) out.push(`    ${f}`);
    if (kpromo.failures.length > limit) out.push(`    … ${kpromo.failures.length - limit} more`);
  }
  out.push(`promoflow: ${report.promoflow} edges${skipped.length ? ` (${skipped.length} invalid entr${skipped.length === 1 ? 'y' : 'ies'} skipped)` : ''}`);
  out.push(`same: ${report.same} · only kpromo: ${report.onlyKpromoEdges} · only promoflow: ${report.onlyPromoflowEdges}`);
  const list = (title: string, groups: ParityGroup[], reasons: boolean) => {
    if (groups.length === 0) return;
    out.push('', title);
    for (const g of groups.slice(0, limit)) {
      out.push(`  ${g.file}: ${g.image}@${short(g.digest)} [${g.tags.map((t) => t || '(untagged)').join(',')}] × ${g.destinations} destination(s): ${g.edges} edge(s)`);
      const why = reasons ? reasonFor(g, skipped) : undefined;
      if (why) out.push(`    promoflow skipped it: ${why}`);
    }
    if (groups.length > limit) out.push(`  … ${groups.length - limit} more (--limit N, or --json)`);
  };
  list(`Only kpromo (${report.onlyKpromoEdges} edges):`, report.onlyKpromo, true);
  list(`Only promoflow (${report.onlyPromoflowEdges} edges):`, report.onlyPromoflow, false);
  if (!differ) out.push('', 'The same edges: promoflow and kpromo agree on every promotion.');
  io.stdout(out.join('\n'));
  return differ ? EXIT.FAILED : EXIT.OK;
}
