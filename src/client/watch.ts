// `promoflow watch <workflow-id>`: follow a promotion until it ends. In a terminal, a live progress display
// redrawn in place; elsewhere (CI logs), plain lines, one per newly finished edge or phase change.
import { progressQuery } from '../workflows';
import type { PromotionProgress, PromotionRunResult } from '../contract';
import { connect, resolveTarget, workflowUiUrl } from './connection';
import { exitCodeFor, type Io } from './promote';
import { renderText } from './summary';
import { shortDigest } from '../model';
import { runProgressQuery } from '../workflows';
import type { WorkflowHandle } from '@temporalio/client';
import { phaseTotals, type ShardedRunResult } from '../contract';
import { renderRunText, viewOfResult, failureLine } from './run-summary';

/** Sharded runs: a header per change (phase, shards, counts), new failures as they appear, then the account. */
async function watchSharded(handle: WorkflowHandle, opts: { workflowId: string; json: boolean; intervalMs?: number; tty: boolean; uiUrl?: string }, io: Io): Promise<number> {
  let last = '';
  let failuresShown = 0;
  while ((await handle.describe()).status.name === 'RUNNING') {
    const p = await handle.query(runProgressQuery).catch(() => undefined);
    if (p) {
      const ph = p.state.phases.find((x) => x.name === p.currentPhase);
      const header = `${p.state.name}: ${p.status}${ph ? ` · phase ${ph.name} (${ph.status}${ph.planned ? `, shards ${ph.shardsDone}/${ph.planned.sizes.length}` : ''})` : ''} ${bar(p.done, p.state.totalEdges)}`;
      if (opts.json) {
        if (header !== last) io.stdout(JSON.stringify({ status: p.status, currentPhase: p.currentPhase, done: p.done, total: p.state.totalEdges, totals: p.totals, phases: p.state.phases.map((x) => ({ name: x.name, status: x.status, totals: phaseTotals(x.counts), counts: x.counts })) }));
      } else if (opts.tty) {
        process.stdout.write(`\r\x1b[2K${header}`);
      } else {
        if (header !== last) io.stdout(header);
        for (const f of p.state.failures.slice(failuresShown)) io.stdout(failureLine(f));
        failuresShown = p.state.failures.length;
      }
      last = header;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
  }
  if (opts.tty && !opts.json) process.stdout.write('\n');
  const result = (await handle.result()) as ShardedRunResult;
  io.stdout(opts.json ? JSON.stringify({ workflowId: opts.workflowId, uiUrl: opts.uiUrl, result }) : renderRunText(viewOfResult(result), { workflowId: opts.workflowId, uiUrl: opts.uiUrl }));
  return exitCodeFor(result);
}

function bar(done: number, total: number, width = 30): string {
  const n = total ? Math.round((done / total) * width) : width;
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${done}/${total}`;
}

export async function runWatch(
  opts: { workflowId: string; json: boolean; intervalMs?: number; stateDir: string; temporalAddress?: string; namespace?: string; tty?: boolean },
  io: Io,
): Promise<number> {
  const target = resolveTarget(opts);
  const client = await connect(target);
  const tty = opts.tty ?? Boolean(process.stdout.isTTY);
  try {
    const handle = client.workflow.getHandle(opts.workflowId);
    if ((await handle.describe()).type === 'shardedRun') return await watchSharded(handle, { ...opts, tty, uiUrl: workflowUiUrl(target, opts.workflowId) }, io);
    let printed = 0;
    let lastHeader = '';
    for (;;) {
      const desc = await handle.describe();
      if (desc.status.name !== 'RUNNING') break;
      let p: PromotionProgress;
      try {
        p = await handle.query(progressQuery);
      } catch {
        await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
        continue;
      }
      const header = `${p.name}: ${p.status}${p.currentPhase ? ` · phase ${p.currentPhase} (${p.phases.find((x) => x.name === p.currentPhase)?.status})` : ''} ${bar(p.done, p.total)}`;
      if (opts.json) {
        if (header !== lastHeader) io.stdout(JSON.stringify({ status: p.status, currentPhase: p.currentPhase, done: p.done, total: p.total, counts: p.counts }));
      } else if (tty) {
        process.stdout.write(`\r\x1b[2K${header}`);
      } else {
        if (header !== lastHeader) io.stdout(header);
        for (const e of p.edges.slice(printed)) io.stdout(`  ${e.status.padEnd(8)} ${e.image}@${shortDigest(e.digest)} → ${e.destination}${e.error ? `: ${e.error}` : ''}`);
        printed = p.edges.length;
      }
      lastHeader = header;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
    }
    if (tty && !opts.json) process.stdout.write('\n');
    const result: PromotionRunResult = await handle.result();
    const uiUrl = workflowUiUrl(target, opts.workflowId);
    io.stdout(opts.json ? JSON.stringify({ workflowId: opts.workflowId, uiUrl, result }) : renderText(result, { workflowId: opts.workflowId, uiUrl }));
    return exitCodeFor(result);
  } finally {
    await client.connection.close();
  }
}
