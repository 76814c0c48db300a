// Presenting a Plan, bounded whatever its size: the text summary (counts per phase, per project and per destination,
// then the first N edges and the first N problems) and the JSON-lines stream of `plan --json` (one header line,
// then one line per edge), produced a chunk at a time so that no whole-plan string is ever built.
import { shortDigest } from '../model';
import type { Counts, Edge, Plan } from './plan';

/** Edges (and problems, and rows of the per-project/destination tables) shown by default. */
export const DEFAULT_SHOWN = 20;

export function summaryLine(c: Counts): string {
  return `${c.edges} edges: ${c.copy} copy, ${c.tagOnly} tag-only, ${c.signatures} signatures, ${c.noop} no-op, ${c.tagMove} tag move refused, ${c.overlap} overlap, ${c.lost} lost${c.redundant ? `, ${c.redundant} redundant` : ''}`;
}

const shortened = (d: string) => `${shortDigest(d)}…`;
const fmtSoak = (s: number) => (s === 0 ? '0s' : `${Math.floor(s / 3600) ? `${Math.floor(s / 3600)}h` : ''}${Math.floor((s % 3600) / 60) ? `${Math.floor((s % 3600) / 60)}m` : ''}${s % 60 ? `${s % 60}s` : ''}`);

/** Aligned columns; widths by a loop (never a spread of the rows into Math.max: plans have 100k+ rows). */
function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd());
}

function tagsOf(e: Edge): string {
  const moves = e.moves?.length ? ` (moves ${e.moves.map((m) => `${m.tag} from ${shortened(m.from)}`).join(', ')})` : '';
  const sign = e.sign ? ` +${[e.sign.signature ? 'sig' : '', e.sign.attestation ? 'att' : ''].filter(Boolean).join('+')}` : '';
  return `${e.tags.length ? e.tags.join(',') : '-'}${moves}${e.sign && (e.sign.signature || e.sign.attestation) ? sign : ''}`;
}

const isRefused = (e: Edge) => e.kind === 'tag-move' || e.kind === 'overlap';

interface Tally {
  work: number;
  refused: number;
  lost: number;
}

/** Edges with work, refused and lost, per key, largest first; only the first `limit` rows and a remainder line. */
function tallyTable(title: string, tally: Map<string, Tally>, limit: number): string[] {
  if (tally.size === 0) return [];
  const sorted = [...tally].sort((a, b) => b[1].work + b[1].refused + b[1].lost - (a[1].work + a[1].refused + a[1].lost) || (a[0] < b[0] ? -1 : 1));
  const rows = [[title, 'CHANGES', 'REFUSED', 'LOST']];
  for (const [k, t] of sorted.slice(0, limit)) rows.push([k, String(t.work), String(t.refused), String(t.lost)]);
  const out = table(rows);
  if (sorted.length > limit) out.push(`  … ${sorted.length - limit} more (--limit N shows more, --json lists every edge)`);
  return out;
}

function bump(m: Map<string, Tally>, k: string, e: Edge) {
  let t = m.get(k);
  if (!t) m.set(k, (t = { work: 0, refused: 0, lost: 0 }));
  if (isRefused(e)) t.refused++;
  else if (e.kind === 'lost') t.lost++;
  else t.work++;
}

/**
 * The dry-run report. Its size is bounded by `limit` (rows per table, edges listed, problems spelled out), not by
 * the plan: a plan of the whole registry.k8s.io corpus prints a page, and `--json` has the rest.
 */
export function renderPlanText(plan: Plan, limit = DEFAULT_SHOWN): string {
  const out: string[] = [`Plan ${plan.name}: ${summaryLine(plan.counts)}`];
  const byProject = new Map<string, Tally>();
  const byDestination = new Map<string, Tally>();
  let edges = 0;
  for (const p of plan.phases) {
    edges += p.edges.length;
    for (const e of p.edges) {
      if (e.project !== undefined) bump(byProject, e.project, e);
      bump(byDestination, e.destination, e);
    }
  }
  plan.phases.forEach((p, i) => {
    const gates = [p.gates.verify ? 'verify' : '', p.gates.approval ? 'approval' : ''].filter(Boolean).join('+') || 'none';
    const dests = p.destinations.length > 6 ? `${p.destinations.slice(0, 5).join(', ')}, … (${p.destinations.length} destinations)` : p.destinations.join(', ');
    out.push('', `Phase ${i + 1}/${plan.phases.length} ${p.name} [${dests}] soak ${fmtSoak(p.soakSeconds)}, gates ${gates}`, `  ${summaryLine(p.counts)}`);
  });
  if (edges === 0) {
    out.push('', 'Nothing to do.');
    return `${out.join('\n')}\n`;
  }
  if (byProject.size > 1) out.push('', ...tallyTable('PROJECT', byProject, limit));
  if (byDestination.size > 1) out.push('', ...tallyTable('DESTINATION', byDestination, limit));
  const rows = [['PHASE', 'KIND', 'IMAGE', 'DIGEST', 'DESTINATION', 'TAGS']];
  const refused: string[] = [];
  let refusedCount = 0;
  for (const p of plan.phases) {
    for (const e of p.edges) {
      if (rows.length <= limit) rows.push([p.name, e.kind, e.project ? `${e.project}:${e.image}` : e.image, shortened(e.digest), e.destination, tagsOf(e)]);
      if (isRefused(e) && refusedCount++ < limit) refused.push(`  ${e.message}`);
    }
  }
  out.push('', edges > limit ? `First ${limit} of ${edges} edges with work or problems:` : `Edges with work or problems:`, ...table(rows));
  if (edges > limit) out.push(`  … ${edges - limit} more (--limit N shows more, --json lists every edge)`);
  if (refusedCount) out.push('', `Refused (${refusedCount}):`, ...refused, ...(refusedCount > limit ? [`  … ${refusedCount - limit} more`] : []));
  if (plan.lost.length) {
    out.push('', `Lost (${plan.lost.length} digest(s) not in their source: reported and skipped, like kpromo's _LOST_; other images are not blocked):`);
    for (const l of plan.lost.slice(0, limit)) out.push(`  ${l.origin?.file ? `${l.origin.file}:${l.origin.line ?? 0}: ` : ''}${l.project ? `${l.project}:` : ''}${l.image}@${l.digest} not in ${l.source}`);
    if (plan.lost.length > limit) out.push(`  … ${plan.lost.length - limit} more`);
  }
  return `${out.join('\n')}\n`;
}

/** Lines per write of the JSON stream: large enough to be cheap, small enough to stay a few MB. */
const CHUNK = 2000;

/**
 * `plan --json`: JSON lines. The first line is the header ({"type":"plan", name, counts, phases without edges, and
 * `extra`}); then one {"type":"edge", ...} line per edge in phase order, then one {"type":"lost", ...} line per lost
 * digest. `write` receives chunks of whole lines.
 */
export function writePlanJsonLines(plan: Plan, write: (chunk: string) => void, extra: Record<string, unknown> = {}): void {
  const header = { type: 'plan', name: plan.name, counts: plan.counts, phases: plan.phases.map(({ edges: _edges, ...p }) => p), ...extra };
  let buf: string[] = [JSON.stringify(header)];
  const push = (line: string) => {
    buf.push(line);
    if (buf.length >= CHUNK) {
      write(`${buf.join('\n')}\n`);
      buf = [];
    }
  };
  for (const p of plan.phases) for (const e of p.edges) push(JSON.stringify({ type: 'edge', ...e }));
  for (const l of plan.lost) push(JSON.stringify({ type: 'lost', ...l }));
  if (buf.length) write(`${buf.join('\n')}\n`);
}
