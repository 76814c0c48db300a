// `promoflow promote`: load the manifest, show the plan (dry run, the default) or start the PromotionRun workflow
// idempotently (USE_EXISTING on a content-derived ID, so a re-run CI job attaches), wait, and print the account.
import { appendFileSync } from 'node:fs';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { loadSpec, type LoadOptions } from '../manifest';
import { loadDiffScoped } from '../manifest';
import { ManifestLoadError, formatError } from '../manifest';
import { plan, problemCount, type Plan } from '../plan';
import type { Inventory } from '../plan';
import { renderPlanText, writePlanJsonLines } from '../plan';
import { createActivityDeps } from '../activities';
import { CredentialBindingError, CredentialBindings } from '../oci';
import { readInventory } from '../inventory';
import type { Spec } from '../manifest';
import { promotionRun } from '../workflows';
import { SA_COMMIT, TASK_QUEUE, type PromotionRunInput, type ShardedRunResult } from '../contract';
import { resolveTarget, workflowUiUrl, type TemporalTarget } from './connection';
import { TemporalSession } from './session';
import { CliError, EXIT, exitCodeFor } from './exit-codes';
import { planExitCode } from './plan-exit';
import { preflight } from './preflight';
import { follow, progressView } from './progress';
import { runBundleFromSpec, runInputFromSpec, workflowIdFor } from './run-input';
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
  /** kpromo layout mistakes fail the load (as they fail a kpromo run). */
  strictLayout?: boolean;
  /** A digest missing from its source goes into the run and fails it, instead of being reported and skipped. */
  strictLost?: boolean;
  overlay?: string;
  /** Edges listed by the dry run's text summary. */
  limit?: number;
  diffBase?: string;
  diffHead?: string;
  stateDir: string;
  temporalAddress?: string;
  namespace?: string;
  /** The operator's credential configuration for planning (default PROMOFLOW_CREDENTIALS). */
  credentialsFile?: string;
}

import type { Io } from './io';
export type { Io };

export async function loadSpecOrFail(file: string, io?: Io, opts: LoadOptions & { diffBase?: string; diffHead?: string } = {}): Promise<Spec> {
  try {
    // Diff-scoped (like kpromo's Prow diff): only digests added or changed since diffBase, so an old bad entry
    // elsewhere cannot block a new promotion.
    const r = opts.diffBase ? await loadDiffScoped(file, opts.diffBase, opts.diffHead, opts) : await loadSpec(file, opts);
    for (const w of r.warnings) io?.stderr(`warning: ${formatError(w)}`);
    for (const e of r.errors) io?.stderr(`skipped: ${formatError(e)}`);
    return r.spec;
  } catch (e) {
    if (e instanceof ManifestLoadError) throw new CliError(`${e.format()}\n${e.errors.length} error(s) in the manifest: nothing was started`, EXIT.INVALID);
    throw new CliError((e as Error).message, EXIT.INVALID);
  }
}

/**
 * Read what every registry the spec names holds (after checking each answers). Planning needs no secrets: requests
 * go out anonymously, and only a registry that refuses them gets the credential this host's operator bound to it
 * (PROMOFLOW_CREDENTIALS or --credentials, PROMOFLOW_REGISTRY_AUTH, docker config). A credential the manifest names
 * but this host lacks (a pull request's CI job has none) means anonymous reading, not an error.
 */
export async function readSpecInventory(spec: Spec, opts: { credentialsFile?: string } = {}): Promise<Inventory> {
  let bindings: CredentialBindings;
  try {
    bindings = CredentialBindings.load({ path: opts.credentialsFile });
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.INVALID);
  }
  const deps = createActivityDeps({ bindings, strict: false });
  let client;
  try {
    // Chosen before any request: a credential named for a host it is not bound to stops here, nothing sent.
    client = deps.scopes.clientFor(spec.source, ...spec.destinations, ...(spec.projects ?? []).map((p) => p.source));
  } catch (e) {
    if (e instanceof CredentialBindingError) throw new CliError(`${spec.files[0] ?? 'manifest'}: ${e.message}`, EXIT.INVALID);
    throw e;
  }
  await preflight(spec, client);
  try {
    return await readInventory(client, spec);
  } catch (e) {
    throw new CliError(`cannot read the registries: ${(e as Error).message.split('\n')[0]}`, EXIT.UNAVAILABLE);
  }
}

export async function planAgainstRegistries(spec: Spec, opts: { credentialsFile?: string } = {}): Promise<Plan> {
  return plan(spec, await readSpecInventory(spec, opts));
}

/** Start a run, or attach to the one running under the same ID (by default derived from the input's content). */
export async function startPromotion(client: Client, input: PromotionRunInput, workflowId = workflowIdFor(input)) {
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
  const spec = await loadSpecOrFail(opts.file, io, { skipInvalid: opts.skipInvalid, strictLayout: opts.strictLayout, overlay: opts.overlay, diffBase: opts.diffBase, diffHead: opts.diffHead });
  const p = await planAgainstRegistries(spec, { credentialsFile: opts.credentialsFile });
  const refused = problemCount(p.counts);
  const strictLost = opts.strictLost ?? false;
  if (!opts.confirm) {
    if (opts.json) writePlanJsonLines(p, (chunk) => io.stdout(chunk.replace(/\n$/, '')), { dryRun: true });
    else io.stdout(`${renderPlanText(p, opts.limit).trimEnd()}\ndry run: nothing was changed; re-run with --confirm to promote`);
    return planExitCode(p.counts, { skipInvalid: opts.skipInvalid ?? false, strictLost });
  }
  if (p.lost.length && !strictLost) io.stderr(`promoflow: ${p.lost.length} digest(s) not in their source: reported and skipped (kpromo's _LOST_); --strict-lost fails the run on them`);
  if (refused && !opts.skipInvalid) {
    const lines = p.phases.flatMap((ph) => ph.edges.filter((e) => e.kind === 'tag-move' || e.kind === 'overlap').map((e) => e.message ?? `${e.kind}: ${e.image}@${e.digest} → ${e.destination}`));
    throw new CliError(`${[...new Set(lines)].join('\n')}\n${refused} refused edge(s): nothing was started (fix the manifest, allow the tag move, or pass --skip-invalid)`, EXIT.INVALID);
  }
  const commit = opts.commit ?? process.env.GITHUB_SHA;
  // The desired state goes to the shared state store; the run carries its reference only, so no run is too large.
  const bundle = runBundleFromSpec(spec, p, { commit, strictLost });
  // The ID comes from the whole manifest (and commit), not from what is left to do: a re-run while the promotion is
  // in flight plans fewer digests, yet must attach to that promotion instead of starting a second one beside it.
  const workflowId = workflowIdFor(runInputFromSpec(spec, { commit }));
  if (bundle.items.length === 0) {
    const lost = p.counts.lost ? ` (${p.counts.lost} lost edge(s) skipped)` : '';
    io.stdout(opts.json ? JSON.stringify({ nothingToDo: true, counts: p.counts }) : `promoflow: ${spec.name}: nothing to do: all ${p.counts.edges - p.counts.lost} image × destination edges are already promoted${lost}`);
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
  const session = await TemporalSession.open(target, { onOutage: (m) => io.stderr(m) });
  try {
    // Starting is idempotent (USE_EXISTING on a content-derived ID), so a start whose answer was lost is re-sent.
    const handle = await session.call('starting', workflowId, (client) => startShardedRun(client, input, { workflowId }));
    const uiUrl = workflowUiUrl(target, handle.workflowId);
    if (!opts.json) io.stderr(`promoflow: started ${handle.workflowId} (${input.totalEdges} edges)${uiUrl ? ` ${uiUrl}` : ''}`);
    if (!opts.wait) {
      if (opts.json) io.stdout(JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, uiUrl }));
      return EXIT.OK;
    }
    // Live progress on stderr while it runs (stdout keeps the account); --json callers read only the result.
    if (!opts.json) await follow(session, workflowId, await progressView(process.stderr, io, { json: false, lineTo: 'stderr' }), 1000, true);
    const result = await session.result<ShardedRunResult>(workflowId);
    const view = viewOfResult(result);
    io.stdout(opts.json ? JSON.stringify({ workflowId: handle.workflowId, uiUrl, result }, null, 2) : renderRunText(view, { workflowId: handle.workflowId, uiUrl }));
    if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, renderRunMarkdown(view, { workflowId: handle.workflowId, uiUrl }) + '\n');
    return exitCodeFor(result);
  } finally {
    await session.close();
  }
}
