// `promoflow promote`: load the manifest, show the plan (dry run, the default) or start the PromotionRun workflow
// idempotently (USE_EXISTING on a content-derived ID, so a re-run CI job attaches), wait, and print the account.
import { appendFileSync } from 'node:fs';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { loadSpec } from '../manifest';
import { loadDiffScoped } from '../manifest';
import { ManifestLoadError, formatError } from '../manifest';
import { plan, changeCount, problemCount, type Plan } from '../plan';
import type { Inventory } from '../plan';
import { renderPlanText } from '../plan';
import { createActivityDeps } from '../activities';
import { readInventory } from '../inventory';
import type { Spec } from '../manifest';
import { promotionRun } from '../workflows';
import { SA_COMMIT, TASK_QUEUE, type PromotionRunInput } from '../contract';
import { connect, resolveTarget, workflowUiUrl, type TemporalTarget } from './connection';
import { CliError, EXIT } from './exit-codes';
import { preflight } from './preflight';
import { runBundleFromSpec, workflowIdFor } from './run-input';
import { renderRunMarkdown, renderRunText, viewOfResult } from './run-summary';
import { startShardedRun, storeRun } from './sharded-start';
import { stateStoreFor } from './state-store';

export interface PromoteOptions {
  file: string;
  confirm: boolean;
  wait: boolean;
  json: boolean;
  commit?: string;
  concurrency?: number;
  skipInvalid?: boolean;
  diffBase?: string;
  diffHead?: string;
  stateDir: string;
  temporalAddress?: string;
  namespace?: string;
}

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export async function loadSpecOrFail(file: string, io?: Io, opts: { skipInvalid?: boolean; diffBase?: string; diffHead?: string } = {}): Promise<Spec> {
  try {
    // Diff-scoped (like kpromo's Prow diff): only digests added or changed since diffBase, so an old bad entry
    // elsewhere cannot block a new promotion.
    const r = opts.diffBase ? await loadDiffScoped(file, opts.diffBase, opts.diffHead, { skipInvalid: opts.skipInvalid }) : await loadSpec(file, opts);
    for (const w of r.warnings) io?.stderr(`warning: ${formatError(w)}`);
    for (const e of r.errors) io?.stderr(`skipped: ${formatError(e)}`);
    return r.spec;
  } catch (e) {
    if (e instanceof ManifestLoadError) throw new CliError(`${e.format()}\n${e.errors.length} error(s) in the manifest: nothing was started`, EXIT.INVALID);
    throw new CliError((e as Error).message, EXIT.INVALID);
  }
}

/** Read what every registry the spec names holds (after checking each answers). */
export async function readSpecInventory(spec: Spec): Promise<Inventory> {
  await preflight(spec);
  const deps = createActivityDeps();
  deps.credentials.register(spec.source);
  for (const d of spec.destinations) deps.credentials.register(d);
  for (const p of spec.projects ?? []) deps.credentials.register(p.source);
  try {
    return await readInventory(deps.client, spec);
  } catch (e) {
    throw new CliError(`cannot read the registries: ${(e as Error).message.split('\n')[0]}`, EXIT.UNAVAILABLE);
  }
}

export async function planAgainstRegistries(spec: Spec): Promise<Plan> {
  return plan(spec, await readSpecInventory(spec));
}

export function exitCodeFor(r: { status: string }): number {
  if (r.status === 'succeeded') return EXIT.OK;
  if (r.status === 'rejected' || r.status === 'aborted') return EXIT.REJECTED;
  return EXIT.FAILED;
}

export async function startPromotion(client: Client, input: PromotionRunInput) {
  const workflowId = workflowIdFor(input);
  const handle = await client.workflow.start(promotionRun, {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    staticSummary: `promote ${input.name}: ${input.items.length} image digest(s) → ${input.destinations.map((d) => d.name).join(', ')}`,
    staticDetails: `Manifests: ${input.manifestFiles.join(', ')}${input.commit ? `\n\nCommit: ${input.commit}` : ''}`,
    typedSearchAttributes: input.commit ? [{ key: SA_COMMIT, value: input.commit }] : undefined,
  });
  return handle;
}

export async function runPromote(opts: PromoteOptions, io: Io): Promise<number> {
  const spec = await loadSpecOrFail(opts.file, io, { skipInvalid: opts.skipInvalid, diffBase: opts.diffBase, diffHead: opts.diffHead });
  const p = await planAgainstRegistries(spec);
  const refused = problemCount(p.counts);
  if (!opts.confirm) {
    io.stdout(opts.json ? JSON.stringify({ dryRun: true, plan: p }, null, 2) : `${renderPlanText(p).trimEnd()}\ndry run: nothing was changed; re-run with --confirm to promote`);
    if (refused && !opts.skipInvalid) return EXIT.INVALID;
    return changeCount(p.counts) + p.counts.lost > 0 ? EXIT.CHANGES_PLANNED : EXIT.OK;
  }
  if (refused && !opts.skipInvalid) {
    const lines = p.phases.flatMap((ph) => ph.edges.filter((e) => e.kind === 'tag-move' || e.kind === 'overlap').map((e) => e.message ?? `${e.kind}: ${e.image}@${e.digest} → ${e.destination}`));
    throw new CliError(`${[...new Set(lines)].join('\n')}\n${refused} refused edge(s): nothing was started (fix the manifest, allow the tag move, or pass --skip-invalid)`, EXIT.INVALID);
  }
  // The desired state goes to the shared state store; the run carries its reference only, so no run is too large.
  const bundle = runBundleFromSpec(spec, p, { commit: opts.commit ?? process.env.GITHUB_SHA });
  if (bundle.items.length === 0) {
    io.stdout(opts.json ? JSON.stringify({ nothingToDo: true, counts: p.counts }) : `promoflow: ${spec.name}: nothing to do: all ${p.counts.edges} image × destination edges are already promoted`);
    return EXIT.OK;
  }
  const store = stateStoreFor(opts.stateDir);
  let input;
  try {
    input = await storeRun(store, bundle, opts.concurrency ? { window: opts.concurrency } : undefined);
  } catch (e) {
    throw new CliError(`cannot write the run's desired state to the state store ${store.location}: ${(e as Error).message.split('\n')[0]} (set PROMOFLOW_STATE_STORE to a directory every worker shares)`, EXIT.UNAVAILABLE);
  }
  const target: TemporalTarget = resolveTarget(opts);
  const client = await connect(target);
  try {
    const handle = await startShardedRun(client, input);
    const uiUrl = workflowUiUrl(target, handle.workflowId);
    if (!opts.json) io.stderr(`promoflow: started ${handle.workflowId}: ${input.totalEdges} edges${uiUrl ? ` (${uiUrl})` : ''}`);
    if (!opts.wait) {
      if (opts.json) io.stdout(JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, uiUrl }));
      return EXIT.OK;
    }
    const result = await handle.result();
    const view = viewOfResult(result);
    io.stdout(opts.json ? JSON.stringify({ workflowId: handle.workflowId, uiUrl, result }, null, 2) : renderRunText(view, { workflowId: handle.workflowId, uiUrl }));
    if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, renderRunMarkdown(view, { workflowId: handle.workflowId, uiUrl }) + '\n');
    return exitCodeFor(result);
  } finally {
    await client.connection.close();
  }
}
