// The sharded run's live Markdown for the Temporal Web UI (pure): per phase its status and counters per
// destination, then the first failures. Bounded whatever the run size: at most MAX_ROWS destinations per phase.
import { EDGE_OUTCOMES, phaseTotals, type RunState, type ShardedRunStatus } from '../contract';
import { shortDigest } from '../model';

const MAX_ROWS = 40;

export function renderRunDetails(s: RunState, status: ShardedRunStatus, done: number): string {
  const lines = [`## promoflow: ${s.name} — ${status}`, '', `${done}/${s.totalEdges} edges accounted`, ''];
  for (const p of s.phases) {
    const t = phaseTotals(p.counts);
    const shards = p.planned ? ` · shards ${p.shardsDone}/${p.planned.sizes.length}` : '';
    lines.push(`### ${p.name} (${p.status}${shards})`, '', EDGE_OUTCOMES.map((o, i) => `${o} ${t[i]}`).join(' · '), '');
    const dests = Object.keys(p.counts).sort();
    if (dests.length) {
      lines.push(`| destination | ${EDGE_OUTCOMES.join(' | ')} |`, `|---|${EDGE_OUTCOMES.map(() => '---:').join('|')}|`);
      for (const d of dests.slice(0, MAX_ROWS)) lines.push(`| ${d} | ${p.counts[d]!.join(' | ')} |`);
      if (dests.length > MAX_ROWS) lines.push(`| … ${dests.length - MAX_ROWS} more | ${EDGE_OUTCOMES.map(() => '').join(' | ')} |`);
      lines.push('');
    }
  }
  if (s.failures.length) {
    lines.push('### First failures', '', '| image | digest | destination | phase | error |', '|---|---|---|---|---|');
    for (const f of s.failures) lines.push(`| ${f.image} | ${shortDigest(f.digest)} | ${f.destination} | ${f.phase} | ${f.outcome}: ${f.errorType}: ${f.error.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n');
}
