// Presenting a Plan: the human table (grouped by phase, with summary counts) and the JSON document of `plan --json`.
import { shortDigest } from '../model';
import type { Counts, Edge, Plan } from './plan';

export function summaryLine(c: Counts): string {
  return `${c.edges} edges: ${c.copy} copy, ${c.tagOnly} tag-only, ${c.signatures} signatures, ${c.noop} no-op, ${c.tagMove} tag move refused, ${c.overlap} overlap, ${c.lost} lost`;
}

const shortened = (d: string) => `${shortDigest(d)}…`;
const fmtSoak = (s: number) => (s === 0 ? '0s' : `${Math.floor(s / 3600) ? `${Math.floor(s / 3600)}h` : ''}${Math.floor((s % 3600) / 60) ? `${Math.floor((s % 3600) / 60)}m` : ''}${s % 60 ? `${s % 60}s` : ''}`);

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd());
}

function tagsOf(e: Edge): string {
  const moves = e.moves?.length ? ` (moves ${e.moves.map((m) => `${m.tag} from ${shortened(m.from)}`).join(', ')})` : '';
  const sign = e.sign ? ` +${[e.sign.signature ? 'sig' : '', e.sign.attestation ? 'att' : ''].filter(Boolean).join('+')}` : '';
  return `${e.tags.length ? e.tags.join(',') : '-'}${moves}${e.sign && (e.sign.signature || e.sign.attestation) ? sign : ''}`;
}

/** The dry-run report: per phase, every edge that is not a no-op; problems spelled out after the tables. */
export function renderPlanText(plan: Plan): string {
  const out: string[] = [`Plan ${plan.name}: ${summaryLine(plan.counts)}`];
  plan.phases.forEach((p, i) => {
    const gates = [p.gates.verify ? 'verify' : '', p.gates.approval ? 'approval' : ''].filter(Boolean).join('+') || 'none';
    const dests = p.destinations.length > 6 ? `${p.destinations.slice(0, 5).join(', ')}, … (${p.destinations.length} destinations)` : p.destinations.join(', ');
    out.push('', `Phase ${i + 1}/${plan.phases.length} ${p.name} [${dests}] soak ${fmtSoak(p.soakSeconds)}, gates ${gates}`, `  ${summaryLine(p.counts)}`);
    if (p.edges.length === 0) {
      out.push('  (nothing to do)');
      return;
    }
    const rows = [['KIND', 'IMAGE', 'DIGEST', 'DESTINATION', 'TAGS']];
    for (const e of p.edges) rows.push([e.kind, e.project ? `${e.project}:${e.image}` : e.image, shortened(e.digest), e.destination, tagsOf(e)]);
    out.push(...table(rows));
  });
  const problems = plan.phases.flatMap((p) => p.edges.filter((e) => e.kind === 'tag-move' || e.kind === 'overlap'));
  if (problems.length) out.push('', 'Refused:', ...problems.map((e) => `  ${e.message}`));
  if (plan.lost.length) out.push('', 'Lost (not in the source; other images are not blocked):', ...plan.lost.map((l) => `  ${l.origin?.file ? `${l.origin.file}:${l.origin.line ?? 0}: ` : ''}${l.image}@${l.digest} not in ${l.source}`));
  return `${out.join('\n')}\n`;
}
