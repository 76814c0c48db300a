// Drift reports for people: Markdown (the Reconcile workflow's current details in the Web UI, `reconcile
// --markdown`, $GITHUB_STEP_SUMMARY) and plain text (the CLI). Pure; tables are capped so details stay small.
import { shortDigest } from '../model';
import { DRIFT_KINDS, type DriftItem, type DriftReport } from './drift';
import { markdownCell } from './markdown';

export interface RepairLine {
  kind: DriftItem['kind'];
  destination: string;
  image: string;
  digest?: string;
  tag?: string;
  status: string;
  /** The promotion child or the peer a signature came from. */
  via?: string;
  error?: string;
}

const MAX_ROWS = 200;
const short = (d?: string) => (d ? shortDigest(d) : '');
const cell = markdownCell;

export function countsLine(r: DriftReport): string {
  const parts = DRIFT_KINDS.filter((k) => r.counts[k] > 0).map((k) => `${k} ${r.counts[k]}`);
  return parts.length ? parts.join(' · ') : 'no drift';
}

export function renderDriftMarkdown(title: string, r: DriftReport, repairs: readonly RepairLine[] = [], status?: string): string {
  const lines = [`## promoflow reconcile: ${title}${status ? ` — ${status}` : ''}`, '', `${r.items.length} finding(s) in ${r.repos} repositor${r.repos === 1 ? 'y' : 'ies'} · ${r.repairable} repairable · ${countsLine(r)}`, ''];
  if (r.items.length) {
    lines.push('| kind | destination | image | digest | tag | repair | detail |', '|---|---|---|---|---|---|---|');
    for (const i of r.items.slice(0, MAX_ROWS)) lines.push(`| ${i.kind} | ${cell(i.destination)} | ${cell(i.image)} | ${short(i.digest)} | ${i.tag ?? ''} | ${i.repair} | ${cell(i.detail)} |`);
    if (r.items.length > MAX_ROWS) lines.push(`| … | | | | | | ${r.items.length - MAX_ROWS} more |`);
    lines.push('');
  }
  if (repairs.length) {
    lines.push('### repairs', '', '| kind | destination | image | digest | tag | result |', '|---|---|---|---|---|---|');
    for (const x of repairs.slice(0, MAX_ROWS)) lines.push(`| ${x.kind} | ${cell(x.destination)} | ${cell(x.image)} | ${short(x.digest)} | ${x.tag ?? ''} | ${x.status}${x.via ? ` via ${cell(x.via)}` : ''}${x.error ? `: ${cell(x.error)}` : ''} |`);
    if (repairs.length > MAX_ROWS) lines.push(`| … | | | | | ${repairs.length - MAX_ROWS} more |`);
    lines.push('');
  }
  return lines.join('\n');
}

export function renderDriftText(title: string, r: DriftReport, repairs: readonly RepairLine[] = [], status?: string): string {
  const lines = [`promoflow reconcile: ${title}${status ? `: ${status.toUpperCase()}` : ''}`, `${r.items.length} finding(s) in ${r.repos} repositories, ${r.repairable} repairable: ${countsLine(r)}`];
  for (const i of r.items) lines.push(`  ${i.repair === 'none' ? '!' : '~'} ${i.kind.padEnd(19)} ${i.destination}  ${i.image}${i.digest ? `@${short(i.digest)}` : ''}${i.tag ? ` :${i.tag}` : ''}  ${i.detail}`);
  if (repairs.length) {
    lines.push('repairs:');
    for (const x of repairs) lines.push(`  ${x.status === 'repaired' ? '✓' : '✗'} ${x.kind.padEnd(19)} ${x.destination}  ${x.image}${x.digest ? `@${short(x.digest)}` : ''}${x.tag ? ` :${x.tag}` : ''}  ${x.status}${x.via ? ` via ${x.via}` : ''}${x.error ? `: ${x.error}` : ''}`);
  }
  return lines.join('\n');
}
