// `promoflow promote`: load the manifest, show the plan (dry run, the default) or start the PromotionRun workflow
// idempotently (USE_EXISTING on a content-derived ID, so a re-run CI job attaches), wait, and print the account.
import { appendFileSync } from 'node:fs';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { loadSpec } from '../manifest/load';
import type { Spec } from '../manifest/spec';
import { promotionRun } from '../workflows';
import type { PromotionRunInput, PromotionRunResult } from '../workflows/types';
import { SA_COMMIT } from '../workflows/search-attributes';
import { TASK_QUEUE } from '../worker/worker';
import { connect, resolveTarget, workflowUiUrl, type TemporalTarget } from './connection';
import { CliError, EXIT } from './exit-codes';
import { preflight } from './preflight';
import { runInputFromSpec, workflowIdFor } from './run-input';
import { renderMarkdown, renderText } from './summary';
import { shortDigest } from '../workflows/format';

export interface PromoteOptions {
  file: string;
  confirm: boolean;
  wait: boolean;
  json: boolean;
  commit?: string;
  concurrency?: number;
  stateDir: string;
  temporalAddress?: string;
  namespace?: string;
}

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export async function loadSpecOrFail(file: string): Promise<Spec> {
  try {
    return (await loadSpec(file)).spec;
  } catch (e) {
    const err = e as Error & { format?: () => string };
    throw new CliError(typeof err.format === 'function' ? err.format() : err.message, EXIT.INVALID);
  }
}

function describePlan(input: PromotionRunInput): string {
  const out = [`promoflow: ${input.name}: dry run (nothing is changed; re-run with --confirm to promote)`];
  for (const phase of input.phases) {
    out.push(`phase ${phase.name}${phase.soakSeconds ? ` (soak ${phase.soakSeconds}s)` : ''}:`);
    for (const d of input.destinations.filter((x) => phase.destinations.includes(x.name))) {
      for (const it of input.items) out.push(`  + ${it.image}@${shortDigest(it.digest)}${it.tags.length ? ` [${it.tags.join(', ')}]` : ''}: ${input.source.registry}/${it.image} → ${d.name} (${d.registry}/${it.image})`);
    }
  }
  const n = input.items.length * input.phases.reduce((k, p) => k + p.destinations.length, 0);
  out.push(`total: ${n} image × destination edges to promote or check`);
  return out.join('\n');
}

export function exitCodeFor(r: PromotionRunResult): number {
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
  const spec = await loadSpecOrFail(opts.file);
  const input = runInputFromSpec(spec, { commit: opts.commit ?? process.env.GITHUB_SHA, concurrency: opts.concurrency });
  if (!opts.confirm) {
    io.stdout(opts.json ? JSON.stringify({ dryRun: true, workflowId: workflowIdFor(input), input }, null, 2) : describePlan(input));
    return input.items.length ? EXIT.CHANGES_PLANNED : EXIT.OK;
  }
  await preflight(spec);
  const target: TemporalTarget = resolveTarget(opts);
  const client = await connect(target);
  try {
    const handle = await startPromotion(client, input);
    const uiUrl = workflowUiUrl(target, handle.workflowId);
    if (!opts.json) io.stderr(`promoflow: started ${handle.workflowId}${uiUrl ? ` (${uiUrl})` : ''}`);
    if (!opts.wait) {
      if (opts.json) io.stdout(JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, uiUrl }));
      return EXIT.OK;
    }
    const result = await handle.result();
    io.stdout(opts.json ? JSON.stringify({ workflowId: handle.workflowId, uiUrl, result }, null, 2) : renderText(result, { workflowId: handle.workflowId, uiUrl }));
    if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, renderMarkdown(result, { workflowId: handle.workflowId, uiUrl }) + '\n');
    return exitCodeFor(result);
  } finally {
    await client.connection.close();
  }
}
