// `promoflow reconcile`: store the manifests as a bundle in the shared state store, run the sharded reconcile
// (reconcileRun) on Temporal, wait, and print the report: bounded text or Markdown (counts per destination and
// kind, the first findings, the repair summary), or JSON lines (the result, then every finding and every repair
// record read page by page from the store). `promoflow status <id>` shows the same for a run in flight or ended.
// Exit: 0 nothing left to repair (report-only findings such as moved or unexpected tags are printed, not fatal),
// 10 repairable drift found without --repair, 1 some repair failed.
import { appendFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { WorkflowIdConflictPolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Spec } from '../manifest';
import { DRIFT_KINDS } from '../plan';
import { reconcileRun } from '../workflows';
import { TASK_QUEUE, reconcileProgressQuery, type ReconcileProgress, type ReconcileRunInput, type ReconcileRunResult } from '../contract';
import { readFindings, readRepairs, reconcileBundleFromSpec, reconcilePolicy } from '../activities';
import { putJson, type StateRef, type StateStore } from '../state';
import { resolveTarget, workflowUiUrl } from './connection';
import { TemporalSession } from './session';
import { CliError, EXIT } from './exit-codes';
import { loadSpecOrFail, type Io } from './promote';
import { stateStoreFor } from './state-store';

export interface ReconcileOptions {
  file: string;
  repair: boolean;
  json: boolean;
  markdown: boolean;
  wait?: boolean;
  publicKey?: string;
  commit?: string;
  stateDir: string;
  temporalAddress?: string;
  namespace?: string;
}

/** A public key reference for validity checks: an explicit file, else the `.pub` beside a `file://….key` signing key. */
export function publicKeyRef(spec: Spec, explicit?: string): string | undefined {
  if (explicit) return explicit.startsWith('file://') || explicit.startsWith('env://') ? explicit : `file://${isAbsolute(explicit) ? explicit : resolve(explicit)}`;
  const key = spec.signing?.key;
  if (key?.startsWith('file://') && key.endsWith('.key')) return `${key.slice(0, -'.key'.length)}.pub`;
  return undefined;
}

/** The reconcile's input: the manifests as a bundle in the store (by reference), the drift policy they ask for. */
export async function reconcileRunInputFromSpec(store: StateStore, spec: Spec, opts: { repair: boolean; publicKey?: string; commit?: string }): Promise<ReconcileRunInput> {
  const { policy } = reconcilePolicy(spec);
  const publicKey = publicKeyRef(spec, opts.publicKey);
  const bundle = await putJson(store, reconcileBundleFromSpec(spec, opts.commit));
  return {
    name: spec.name,
    source: { kind: 'bundle', bundle, policy: { policy, ...(publicKey ? { publicKey } : {}) } },
    ...(publicKey ? { publicKey } : {}),
    repair: opts.repair,
  };
}

export function reconcileWorkflowId(name: string, now = new Date()): string {
  return `reconcile/${name.replace(/[^A-Za-z0-9._-]+/g, '-')}/${now.toISOString().replace(/[-:]/g, '')}`;
}

export async function startReconcileRun(client: Client, input: ReconcileRunInput, workflowId = reconcileWorkflowId(input.name)) {
  return client.workflow.start(reconcileRun, {
    taskQueue: TASK_QUEUE,
    workflowId,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [input],
    staticSummary: `reconcile ${input.name}${input.repair ? ' (repair)' : ''}`,
    staticDetails: input.source.kind === 'bundle' ? `Desired state: ${input.source.bundle}` : input.source.kind === 'git' ? `Manifests: ${input.source.repository} ${input.source.ref}:${input.source.path}` : `Manifests: ${input.source.path}`,
  });
}

export function reconcileExitCode(r: ReconcileRunResult, repair: boolean): number {
  if (repair) return r.repair && r.repair.failed + r.repair.notRepaired > 0 ? EXIT.FAILED : EXIT.OK;
  return r.repairable > 0 ? EXIT.CHANGES_PLANNED : EXIT.OK;
}

const MAX_DESTINATION_LINES = 50;

/** A bounded report for terminals and CI logs (text) or $GITHUB_STEP_SUMMARY (Markdown), from a result or progress. */
export function renderReconcile(v: { name: string; status: string; workflowId: string; uiUrl?: string; result?: ReconcileRunResult; progress?: ReconcileProgress }, markdown = false): string {
  const st = v.result ?? v.progress!.state;
  const repair = v.result?.repair ?? v.progress?.repair;
  const commit = v.result?.commit ?? v.progress?.state.commit;
  const kinds = DRIFT_KINDS.filter((k) => Object.values(st.counts).some((c) => c[k]));
  const dests = Object.keys(st.counts).sort();
  const out: string[] = [];
  if (markdown) {
    out.push(`## promoflow reconcile: ${v.name} — ${v.status}`, '', `Workflow \`${v.workflowId}\`${v.uiUrl ? ` · [Web UI](${v.uiUrl})` : ''}${commit ? ` · commit \`${commit.slice(0, 12)}\`` : ''}`, '');
    out.push(`${st.findings} finding(s) in ${st.repos} repositories · ${st.repairable} repairable${kinds.length ? ` · ${kinds.map((k) => `${k} ${dests.reduce((n, d) => n + (st.counts[d]![k] ?? 0), 0)}`).join(' · ')}` : ''}`, '');
    if (dests.length) {
      out.push(`| destination | ${kinds.join(' | ')} |`, `|---|${kinds.map(() => '---:').join('|')}|`);
      for (const d of dests.slice(0, MAX_DESTINATION_LINES)) out.push(`| ${d} | ${kinds.map((k) => st.counts[d]![k] ?? 0).join(' | ')} |`);
      if (dests.length > MAX_DESTINATION_LINES) out.push(`| … ${dests.length - MAX_DESTINATION_LINES} more | |`);
      out.push('', '| kind | destination | image | digest | tag | repair |', '|---|---|---|---|---|---|');
      for (const f of st.sample) out.push(`| ${f.kind} | ${f.destination} | ${f.image} | ${f.digest ? f.digest.slice(0, 19) : ''} | ${f.tag ?? ''} | ${f.repair} |`);
    }
  } else {
    out.push(`promoflow reconcile: ${v.name}: ${v.status.toUpperCase()} (workflow ${v.workflowId})${commit ? ` at commit ${commit.slice(0, 12)}` : ''}`);
    out.push(`${st.findings} finding(s) in ${st.repos} repositories · ${st.repairable} repairable`);
    for (const d of dests.slice(0, MAX_DESTINATION_LINES)) out.push(`  ${d}: ${kinds.filter((k) => st.counts[d]![k]).map((k) => `${k} ${st.counts[d]![k]}`).join(', ')}`);
    if (dests.length > MAX_DESTINATION_LINES) out.push(`  … ${dests.length - MAX_DESTINATION_LINES} more destinations (promoflow status ${v.workflowId} --json)`);
    if (st.sample.length) out.push(`first ${st.sample.length} finding(s):`, ...st.sample.map((f) => `  ${f.kind} ${f.destination} ${f.image}${f.digest ? `@${f.digest.slice(0, 19)}` : ''}${f.tag ? ` ${f.tag}` : ''}: ${f.detail}`));
    if (st.findings > st.sample.length) out.push(`… every finding: promoflow status ${v.workflowId} --json`);
  }
  if (repair) {
    out.push('', `repair: ${repair.repaired} repaired, ${repair.failed} failed, ${repair.notRepaired} not repaired${repair.workflowId ? ` (promotion ${repair.workflowId}${repair.promotionStatus ? `: ${repair.promotionStatus}` : ''})` : ''}`);
    for (const f of repair.failures.slice(0, 10)) out.push(`  ✗ ${f.image}@${f.digest.slice(0, 19)} → ${f.destination}: ${f.errorType}: ${f.error}`);
  }
  if (v.uiUrl && !markdown) out.push(`Web UI: ${v.uiUrl}`);
  return out.join('\n');
}

/** JSON lines after the head line: `{"finding": …}` per finding, then `{"repair": …}` per repair record, from the store. */
export async function streamReconcile(store: StateStore, refs: { findings: readonly StateRef[]; repairs?: StateRef }, write: (line: string) => void): Promise<void> {
  try {
    for (const ref of refs.findings) for await (const f of readFindings(store, ref)) write(JSON.stringify({ finding: f }));
    if (refs.repairs) for await (const r of readRepairs(store, refs.repairs)) write(JSON.stringify({ repair: r }));
  } catch (e) {
    throw new CliError(`cannot read the reconcile's findings from the state store ${store.location}: ${(e as Error).message.split('\n')[0]}`, EXIT.UNAVAILABLE);
  }
}

/** `promoflow status <id>` of a reconcileRun: live progress (query) or the result, bounded text or JSON lines. */
export async function reconcileStatus(handle: WorkflowHandle, opts: { workflowId: string; json: boolean; stateDir: string; running: boolean; temporalStatus: string; uiUrl?: string }, io: Io): Promise<number> {
  const meta = { workflowId: opts.workflowId, ...(opts.uiUrl ? { uiUrl: opts.uiUrl } : {}) };
  let head: Record<string, unknown>;
  let text: string;
  let refs: { findings: StateRef[]; repairs?: StateRef };
  let code: number;
  if (opts.running) {
    const progress = await handle.query(reconcileProgressQuery);
    head = { ...meta, temporalStatus: opts.temporalStatus, progress };
    text = renderReconcile({ name: progress.name, status: progress.state.phase, ...meta, progress });
    refs = { findings: progress.state.findingRefs };
    code = EXIT.OK;
  } else {
    const result = (await handle.result()) as ReconcileRunResult;
    head = { ...meta, temporalStatus: opts.temporalStatus, result };
    text = renderReconcile({ name: result.name, status: result.status, ...meta, result });
    refs = { findings: result.findingsRef ? [result.findingsRef] : [], ...(result.repair?.records ? { repairs: result.repair.records } : {}) };
    code = reconcileExitCode(result, result.repair !== undefined);
  }
  if (!opts.json) {
    io.stdout(text);
    return code;
  }
  io.stdout(JSON.stringify(head));
  await streamReconcile(stateStoreFor(opts.stateDir), refs, io.stdout);
  return code;
}

export async function runReconcile(opts: ReconcileOptions, io: Io): Promise<number> {
  const spec = await loadSpecOrFail(opts.file, io);
  const store = stateStoreFor(opts.stateDir);
  const input = await reconcileRunInputFromSpec(store, spec, { repair: opts.repair, ...(opts.publicKey ? { publicKey: opts.publicKey } : {}), ...(opts.commit ? { commit: opts.commit } : {}) });
  const target = resolveTarget(opts);
  const session = await TemporalSession.open(target, { onOutage: (m) => io.stderr(m) });
  try {
    // One ID per invocation, chosen before the first attempt, so a start whose answer was lost attaches to its run.
    const workflowId = reconcileWorkflowId(input.name);
    const handle = await session.call('starting', workflowId, (client) => startReconcileRun(client, input, workflowId));
    const uiUrl = workflowUiUrl(target, handle.workflowId);
    if (!opts.json) io.stderr(`promoflow: started ${handle.workflowId}${uiUrl ? ` (${uiUrl})` : ''}`);
    if (opts.wait === false) {
      if (opts.json) io.stdout(JSON.stringify({ workflowId: handle.workflowId, uiUrl }));
      return EXIT.OK;
    }
    const result = await session.result<ReconcileRunResult>(workflowId);
    const view = { name: result.name, status: result.status, workflowId, ...(uiUrl ? { uiUrl } : {}), result };
    if (opts.json) {
      io.stdout(JSON.stringify({ workflowId, uiUrl, result }));
      await streamReconcile(store, { findings: result.findingsRef ? [result.findingsRef] : [], ...(result.repair?.records ? { repairs: result.repair.records } : {}) }, io.stdout);
    } else io.stdout(renderReconcile(view, opts.markdown));
    if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, renderReconcile(view, true) + '\n');
    return reconcileExitCode(result, opts.repair);
  } finally {
    await session.close();
  }
}
