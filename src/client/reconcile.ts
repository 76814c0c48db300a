// `promoflow reconcile`: build the Reconcile input from the manifests (compact spec-derived data, a public key only
// as a reference), run the workflow on Temporal, wait, and print the drift report as text, JSON or Markdown.
// Exit: 0 nothing left to repair (report-only findings such as moved or unexpected tags are printed, not fatal),
// 10 repairable drift found without --repair, 1 some repair failed.
import { appendFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { Spec } from '../manifest';
import type { DesiredImage } from '../plan';
import { renderDriftMarkdown, renderDriftText } from '../plan';
import { reconcile } from '../workflows';
import { TASK_QUEUE, type ReconcileInput, type ReconcileResult } from '../contract';
import { resolveTarget, workflowUiUrl } from './connection';
import { TemporalSession } from './session';
import { CliError, EXIT } from './exit-codes';
import { loadSpecOrFail, type Io } from './promote';
import { MAX_INPUT_BYTES, promotionPolicy } from './run-input';

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

export function reconcileInputFromSpec(spec: Spec, opts: { repair: boolean; publicKey?: string; commit?: string }): ReconcileInput {
  const cosignTags = spec.signing ? spec.signing.formats.includes('cosign-tag') : false;
  const images: DesiredImage[] = spec.images.map((i) => ({ image: i.name, dmap: i.dmap, ...(i.allowTagMove ? { allowTagMove: true } : {}), ...(i.project ? { project: i.project } : {}) }));
  const endpoint = (e: Spec['source']) => ({ registry: e.registry, ...(e.insecure !== undefined ? { insecure: e.insecure } : {}), ...(e.credentials ? { credentials: e.credentials } : {}), ...(e.limits ? { limits: e.limits } : {}) });
  const publicKey = publicKeyRef(spec, opts.publicKey);
  const input: ReconcileInput = {
    name: spec.name,
    manifestFiles: spec.files,
    ...(opts.commit ? { commit: opts.commit } : {}),
    source: endpoint(spec.source),
    destinations: spec.destinations.map((d) => ({ name: d.name, ...endpoint(d) })),
    phases: spec.phases.map((p) => ({ name: p.name, destinations: p.destinations, soakSeconds: p.soakSeconds, verify: p.gates.verify, approval: p.gates.approval })),
    ...(spec.projects?.length ? { projects: spec.projects.map((p) => ({ name: p.name, source: endpoint(p.source), destinations: p.destinations })) } : {}),
    images,
    policy: { signatures: cosignTags, attestations: cosignTags && (spec.signing?.attest ?? false) },
    ...(publicKey ? { publicKey } : {}),
    ...promotionPolicy(spec, { forRepair: true }),
    repair: opts.repair,
  };
  const size = Buffer.byteLength(JSON.stringify(input));
  if (size > MAX_INPUT_BYTES) throw new CliError(`the manifests are ${(size / 1e6).toFixed(1)} MB as a reconcile input, over Temporal's payload limit: reconcile one project's manifests at a time`, EXIT.INVALID);
  return input;
}

export function reconcileWorkflowId(name: string, now = new Date()): string {
  return `reconcile/${name.replace(/[^A-Za-z0-9._-]+/g, '-')}/${now.toISOString().replace(/[-:]/g, '')}`;
}

export async function startReconcile(client: Client, input: ReconcileInput, workflowId = reconcileWorkflowId(input.name)) {
  return client.workflow.start(reconcile, {
    taskQueue: TASK_QUEUE,
    workflowId,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [input],
    staticSummary: `reconcile ${input.name}${input.repair ? ' (repair)' : ''}: ${input.images.length} image(s) × ${input.destinations.length} destination(s)`,
    staticDetails: `Manifests: ${input.manifestFiles.join(', ')}`,
  });
}

export function reconcileExitCode(r: ReconcileResult, repair: boolean): number {
  if (repair) return r.repairs.some((x) => x.status !== 'repaired') ? EXIT.FAILED : EXIT.OK;
  return r.report.repairable > 0 ? EXIT.CHANGES_PLANNED : EXIT.OK;
}

export async function runReconcile(opts: ReconcileOptions, io: Io): Promise<number> {
  const spec = await loadSpecOrFail(opts.file, io);
  const input = reconcileInputFromSpec(spec, { repair: opts.repair, ...(opts.publicKey ? { publicKey: opts.publicKey } : {}), ...(opts.commit ? { commit: opts.commit } : {}) });
  const target = resolveTarget(opts);
  const session = await TemporalSession.open(target, { onOutage: (m) => io.stderr(m) });
  try {
    // One ID per invocation, chosen before the first attempt, so a start whose answer was lost attaches to its run.
    const workflowId = reconcileWorkflowId(input.name);
    const handle = await session.call('starting', workflowId, (client) => startReconcile(client, input, workflowId));
    const uiUrl = workflowUiUrl(target, handle.workflowId);
    if (!opts.json) io.stderr(`promoflow: started ${handle.workflowId}${uiUrl ? ` (${uiUrl})` : ''}`);
    if (opts.wait === false) {
      if (opts.json) io.stdout(JSON.stringify({ workflowId: handle.workflowId, uiUrl }));
      return EXIT.OK;
    }
    const result = await session.result<ReconcileResult>(workflowId);
    const title = `${result.name} (${handle.workflowId})`;
    if (opts.json) io.stdout(JSON.stringify({ workflowId: handle.workflowId, uiUrl, result }, null, 2));
    else if (opts.markdown) io.stdout(renderDriftMarkdown(title, result.report, result.repairs, result.status));
    else io.stdout(renderDriftText(title, result.report, result.repairs, result.status));
    if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, renderDriftMarkdown(title, result.report, result.repairs, result.status) + '\n');
    return reconcileExitCode(result, opts.repair);
  } finally {
    await session.close();
  }
}
