// The account of a sharded promotion for people and machines: text for terminals and CI logs, Markdown for
// $GITHUB_STEP_SUMMARY and JSON lines that page through the whole per-edge account in the state store. Text and
// Markdown are bounded whatever the run size: counts per phase and destination, then the first failures; the full
// account is one `promoflow status <id> --json` away.
import { EDGE_OUTCOMES, phaseTotals, type DestinationCounts, type FailureSample, type OutcomeCounts, type ShardedRunResult } from '../contract';
import { readAccount } from '../activities';
import type { StateRef, StateStore } from '../state';
import { shortDigest } from '../model';

/** The account view shared by a finished run's result and a running run's progress. */
export interface RunAccountView {
  name: string;
  status: string;
  phases: Array<{ name: string; status: string; counts: DestinationCounts; shards?: string }>;
  totals: OutcomeCounts;
  failures: FailureSample[];
  totalEdges?: number;
}

const MAX_DESTINATION_LINES = 50;
const MARK: Record<string, string> = { failed: '✗', lost: '?', skipped: '-', aborted: '!' };

const countsLine = (c: OutcomeCounts) => `${c[0]} promoted, ${c[1]} already present, ${c[2]} failed, ${c[3]} lost, ${c[4]} skipped, ${c[5]} aborted`;

export function failureLine(f: FailureSample): string {
  return `  ${MARK[f.outcome] ?? '✗'} ${f.image}@${shortDigest(f.digest)} → ${f.destination} (${f.phase}): ${f.outcome}: ${f.errorType}: ${f.error}`;
}

export function viewOfResult(r: ShardedRunResult): RunAccountView {
  return { name: r.name, status: r.status, phases: r.phases.map((p) => ({ name: p.name, status: p.status, counts: p.counts })), totals: r.totals, failures: r.failures };
}

export function renderRunText(v: RunAccountView, meta: { workflowId: string; uiUrl?: string }): string {
  const out = [`promoflow: ${v.name}: ${v.status.toUpperCase()} (workflow ${meta.workflowId})`];
  for (const p of v.phases) {
    out.push(`phase ${p.name}: ${p.status}${p.shards ? ` (shards ${p.shards})` : ''}: ${countsLine(phaseTotals(p.counts))}`);
    const dests = Object.keys(p.counts).sort();
    for (const d of dests.slice(0, MAX_DESTINATION_LINES)) out.push(`  ${d}: ${countsLine(p.counts[d]!)}`);
    if (dests.length > MAX_DESTINATION_LINES) out.push(`  … ${dests.length - MAX_DESTINATION_LINES} more destinations (promoflow status --json)`);
  }
  if (v.failures.length) {
    out.push(`first ${v.failures.length} failure(s):`);
    for (const f of v.failures) out.push(failureLine(f));
  }
  out.push(`total: ${countsLine(v.totals)}${v.totalEdges !== undefined ? ` of ${v.totalEdges} edges` : ''}`);
  if (meta.uiUrl) out.push(`Web UI: ${meta.uiUrl}`);
  return out.join('\n');
}

export function renderRunMarkdown(v: RunAccountView, meta: { workflowId: string; uiUrl?: string }): string {
  const t = v.totals;
  const out = [
    `## promoflow: ${v.name} — ${v.status}`,
    '',
    `Workflow \`${meta.workflowId}\`${meta.uiUrl ? ` · [Web UI](${meta.uiUrl})` : ''}`,
    '',
    EDGE_OUTCOMES.map((o, i) => `**${t[i]}** ${o === 'present' ? 'already present' : o}`).join(' · '),
    '',
  ];
  for (const p of v.phases) {
    out.push(`### ${p.name} (${p.status})`, '', `| destination | ${EDGE_OUTCOMES.join(' | ')} |`, `|---|${EDGE_OUTCOMES.map(() => '---:').join('|')}|`);
    const dests = Object.keys(p.counts).sort();
    for (const d of dests.slice(0, MAX_DESTINATION_LINES)) out.push(`| ${d} | ${p.counts[d]!.join(' | ')} |`);
    if (dests.length > MAX_DESTINATION_LINES) out.push(`| … ${dests.length - MAX_DESTINATION_LINES} more | |`);
    out.push('');
  }
  if (v.failures.length) {
    out.push('### First failures', '', '| image | digest | destination | phase | result |', '|---|---|---|---|---|');
    for (const f of v.failures) out.push(`| ${f.image} | \`${shortDigest(f.digest)}\` | ${f.destination} | ${f.phase} | ${f.outcome}: ${f.errorType}: ${f.error.replace(/\|/g, '\\|')} |`);
  }
  return out.join('\n');
}

/** Stream an account as JSON lines, one edge per line, reading the store a document at a time. */
export async function streamAccount(store: StateStore, refs: readonly StateRef[], write: (line: string) => void): Promise<number> {
  let n = 0;
  for (const ref of refs) {
    for await (const e of readAccount(store, ref)) {
      write(JSON.stringify(e));
      n++;
    }
  }
  return n;
}
