// The sharded reconcile's live Markdown for the Temporal Web UI (pure): progress, findings per destination and
// kind, the first findings and the repair summary. Bounded: at most MAX_ROWS destinations and the finding sample.
import { DRIFT_KINDS } from '../plan';
import type { ReconcileState, RepairSummary } from '../contract';

const MAX_ROWS = 40;

export function renderReconcileDetails(name: string, s: ReconcileState, status: string, repair?: RepairSummary): string {
  const lines = [`## promoflow reconcile: ${name} — ${status}`, ''];
  if (s.commit) lines.push(`Manifests at commit \`${s.commit.slice(0, 12)}\``, '');
  lines.push(`${s.batchesDone}/${s.batchesTotal} inventory batches · ${s.repos} repositories · ${s.findings} finding(s) · ${s.repairable} repairable`, '');
  const dests = Object.keys(s.counts).sort();
  if (dests.length) {
    const kinds = DRIFT_KINDS.filter((k) => dests.some((d) => s.counts[d]![k]));
    lines.push(`| destination | ${kinds.join(' | ')} |`, `|---|${kinds.map(() => '---:').join('|')}|`);
    for (const d of dests.slice(0, MAX_ROWS)) lines.push(`| ${d} | ${kinds.map((k) => s.counts[d]![k] ?? 0).join(' | ')} |`);
    if (dests.length > MAX_ROWS) lines.push(`| … ${dests.length - MAX_ROWS} more | ${kinds.map(() => '').join(' | ')} |`);
    lines.push('');
  }
  if (s.sample.length) {
    lines.push('### First findings', '', '| kind | destination | image | digest | tag | repair |', '|---|---|---|---|---|---|');
    for (const f of s.sample) lines.push(`| ${f.kind} | ${f.destination} | ${f.image} | ${f.digest ? f.digest.slice(0, 19) : ''} | ${f.tag ?? ''} | ${f.repair} |`);
    lines.push('');
  }
  if (repair) {
    lines.push('### Repair', '', `${repair.repaired} repaired · ${repair.failed} failed · ${repair.notRepaired} not repaired${repair.workflowId ? ` · promotion \`${repair.workflowId}\`${repair.promotionStatus ? ` (${repair.promotionStatus})` : ''}` : ''}`);
  }
  return lines.join('\n');
}
