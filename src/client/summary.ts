// The account printed at the end of every run: text for terminals and CI logs, Markdown for $GITHUB_STEP_SUMMARY,
// JSON for machines. Every image × destination appears, so nothing is ever lost silently.
import type { EdgeResult, PromotionRunResult } from '../contract';
import { shortDigest } from '../model';
import { markdownCell } from '../plan';

/** Bytes for people: 512 B, 1.5 MiB. */
export function formatBytes(bytes = 0): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

const MARK: Record<EdgeResult['status'], string> = { promoted: '✓', present: '=', failed: '✗', lost: '?', skipped: '-' };

function edgeLine(e: EdgeResult): string {
  const what = `${e.image}@${shortDigest(e.digest)}${e.tags.length ? ` [${e.tags.join(', ')}]` : ''} → ${e.destination}`;
  const detail =
    e.status === 'promoted' ? `promoted (${e.blobsCopied ?? 0} blobs, ${formatBytes(e.bytesCopied)})${e.signature ? ', signature and attestation verified' : ''}`
    : e.status === 'present' ? `already present${e.signature ? ', signature and attestation verified' : ''}`
    : `${e.status}: ${e.errorType ? `${e.errorType}: ` : ''}${e.error ?? ''}`;
  return `  ${MARK[e.status]} ${what}: ${detail}`;
}

export function renderText(r: PromotionRunResult, meta: { workflowId: string; uiUrl?: string }): string {
  const out = [`promoflow: ${r.name}: ${r.status.toUpperCase()} (workflow ${meta.workflowId})`];
  for (const phase of r.phases) {
    out.push(`phase ${phase.name}: ${phase.status}`);
    for (const e of r.edges.filter((x) => x.phase === phase.name)) out.push(edgeLine(e));
  }
  const c = r.counts;
  out.push(`total: ${c.promoted} promoted, ${c.present} already present, ${c.failed} failed, ${c.lost} lost, ${c.skipped} skipped`);
  if (meta.uiUrl) out.push(`Web UI: ${meta.uiUrl}`);
  return out.join('\n');
}

export function renderMarkdown(r: PromotionRunResult, meta: { workflowId: string; uiUrl?: string }): string {
  const c = r.counts;
  const out = [
    `## promoflow: ${r.name} — ${r.status}`,
    '',
    `Workflow \`${meta.workflowId}\`${meta.uiUrl ? ` · [Web UI](${meta.uiUrl})` : ''}`,
    '',
    `**${c.promoted}** promoted · **${c.present}** already present · **${c.failed}** failed · **${c.lost}** lost · **${c.skipped}** skipped`,
    '',
  ];
  for (const phase of r.phases) {
    out.push(`### ${phase.name} (${phase.status})`, '', '| image | digest | tags | destination | result |', '|---|---|---|---|---|');
    for (const e of r.edges.filter((x) => x.phase === phase.name)) {
      out.push(`| ${e.image} | \`${shortDigest(e.digest)}\` | ${e.tags.join(', ')} | ${e.destination} | ${e.status}${e.error ? `: ${markdownCell(e.error)}` : ''} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
