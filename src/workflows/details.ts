// The live Markdown shown as "current details" in the Temporal Web UI: one table per phase (pure).
import { shortDigest } from '../model';
import { markdownCell } from '../plan';
import type { PromotionProgress } from '../contract';

const ICON: Record<string, string> = { promoted: '✅ promoted', present: '✅ present', failed: '❌ failed', lost: '❓ lost', skipped: '⏭ skipped' };

export function renderDetails(p: PromotionProgress): string {
  const lines = [`## promoflow: ${p.name} — ${p.status}`, '', `${p.done}/${p.total} edges done · ${Object.entries(p.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(' · ') || 'nothing yet'}`, ''];
  for (const phase of p.phases) {
    lines.push(`### ${phase.name} (${phase.status})`);
    const rows = p.edges.filter((e) => e.phase === phase.name);
    if (rows.length === 0) {
      lines.push('', '_nothing yet_', '');
      continue;
    }
    lines.push('', '| image | digest | destination | result |', '|---|---|---|---|');
    // Cap the table so the details stay small (the query and the result carry the full account).
    for (const e of rows.slice(0, 200)) lines.push(`| ${e.image} | ${shortDigest(e.digest)} | ${e.destination} | ${ICON[e.status] ?? e.status}${e.error ? `: ${markdownCell(e.error)}` : ''} |`);
    if (rows.length > 200) lines.push(`| … | | | ${rows.length - 200} more |`);
    lines.push('');
  }
  return lines.join('\n');
}
