// Reconcile: compare every destination the manifests name with what the manifests declare, report the drift, and
// (in repair mode) repair what is safe. Inventory runs as batches of one destination's repositories, each an
// activity that diffs in place and returns only findings (history grows with the drift, not the registries), with
// bounded concurrency, continuing as new when Temporal suggests it. Repairs reuse the promotion workflow: one
// PromotionRun child per destination for missing images and tags; missing or invalid signatures and attestations
// are replicated from a peer holding a valid copy. Moved and unexpected tags are reported, never reset unless the
// manifest allows the tag move (or the policy says so). The report is the current details (Markdown) and the
// PromoflowDriftCount search attribute (findings still standing).
import { condition, continueAsNew, executeChild, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo, allHandlersFinished, defineQuery, setHandler } from '@temporalio/workflow';
import type { Activities } from '../contract';
import { batches, desiredFor } from '../plan';
import { mergeReports, summarize, type DesiredRepo, type DriftItem, type DriftReport } from '../plan';
import { renderDriftMarkdown } from '../plan';
import { failureOf } from './image-promotion';
import { promotionRun } from './promotion-run';
import { REGISTRY_RETRY } from '../contract';
import { SA_DRIFT, SA_STATUS } from '../contract';
import type { ReconcileDestination, ReconcileInput, ReconcileResult, RepairRecord, RepairSignaturesInput } from '../contract';
import type { PromotionItem, PromotionRunInput } from '../contract';

const DEFAULT_BATCH = 50;
const DEFAULT_CONCURRENCY = 8;
/** Signature repairs per activity (each item reads and writes a few small manifests). */
const SIGNATURE_CHUNK = 100;

const { inventoryBatch, repairSignatures } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: REGISTRY_RETRY,
});

export const reconcileReportQuery = defineQuery<{ report?: DriftReport; repairs: RepairRecord[]; phase: string }>('reconcileReport');

interface Batch {
  destination: ReconcileDestination;
  repos: DesiredRepo[];
}

/** Every inventory batch, in a deterministic order (destinations as declared, repositories as declared). */
export function reconcileBatches(input: ReconcileInput): Batch[] {
  const projectDests = new Map((input.projects ?? []).map((p) => [p.name, p.destinations]));
  return input.destinations.flatMap((d) => batches(desiredFor(d.name, input.images, projectDests), input.batchSize ?? DEFAULT_BATCH).map((repos) => ({ destination: d, repos })));
}

/** Promotion inputs for what a promotion can repair: one run per destination, only the tags safe to set. */
export function repairPromotions(input: ReconcileInput, items: readonly DriftItem[]): Array<{ destination: string; run: PromotionRunInput; covers: DriftItem[] }> {
  const byDest = new Map<string, DriftItem[]>();
  const viaPromotion = (i: DriftItem) => i.repair === 'promote' || (i.repair === 'signatures' && input.signing !== undefined);
  for (const i of items) if (viaPromotion(i) && i.digest) byDest.set(i.destination, [...(byDest.get(i.destination) ?? []), i]);
  const declared = new Map<string, string[]>();
  for (const img of input.images) for (const [d, tags] of Object.entries(img.dmap)) declared.set(`${img.project ?? ''}|${img.image}|${d}`, tags);
  const out: Array<{ destination: string; run: PromotionRunInput; covers: DriftItem[] }> = [];
  for (const dest of input.destinations) {
    const found = byDest.get(dest.name);
    if (!found) continue;
    // Tags moved by hand that may not be reset stay out of the promotion (it would refuse them as tag moves).
    const keep = new Set(items.filter((i) => i.destination === dest.name && i.kind === 'moved-tag' && i.repair === 'none').map((i) => `${i.image}|${i.digest}|${i.tag}`));
    const runItems = new Map<string, PromotionItem>();
    for (const f of found) {
      const k = `${f.project ?? ''}|${f.image}|${f.digest}`;
      const prev = runItems.get(k);
      const tags = (declared.get(k) ?? []).filter((t) => !keep.has(`${f.image}|${f.digest}|${t}`)).sort();
      const allowTagMove = (prev?.allowTagMove ?? false) || (f.kind === 'moved-tag' && f.repair === 'promote');
      runItems.set(k, { image: f.image, digest: f.digest!, tags, ...(allowTagMove ? { allowTagMove: true } : {}), ...(f.project ? { project: f.project } : {}) });
    }
    const phase = `repair-${dest.name}`;
    out.push({
      destination: dest.name,
      covers: found,
      run: {
        name: `${input.name}-repair-${dest.name}`,
        manifestFiles: input.manifestFiles,
        ...(input.commit ? { commit: input.commit } : {}),
        source: input.source,
        destinations: [dest],
        phases: [{ name: phase, destinations: [dest.name], soakSeconds: 0, verify: true, approval: false }],
        items: [...runItems.values()],
        ...(input.projects?.length ? { projects: input.projects } : {}),
        // The same policy as promote: source policy and signing (tag moves are refused by the copy activity).
        ...(input.signing ? { signing: input.signing } : {}),
        ...(input.sourceSignedBy ? { sourceSignedBy: input.sourceSignedBy } : {}),
      },
    });
  }
  return out;
}

/** Signature repairs: per image digest, which destinations need which artifacts and where healthy copies may be. */
export function signatureRepairs(input: ReconcileInput, items: readonly DriftItem[]): RepairSignaturesInput['items'] {
  // With a signing key the repair promotions sign and replicate themselves.
  if (input.signing) return [];
  const wantAtt = input.policy.attestations;
  const byDigest = new Map<string, { image: string; digest: string; kinds: Set<'sig' | 'att'>; to: Set<string> }>();
  for (const i of items) {
    if (!i.digest) continue;
    const sig = i.repair === 'signatures' && (i.kind === 'missing-signature' || i.kind === 'invalid-signature');
    const att = i.repair === 'signatures' && (i.kind === 'missing-attestation' || i.kind === 'invalid-attestation');
    // A re-copied image needs its signatures too (idempotent: replication skips what is already there).
    const copied = i.kind === 'missing-image' && input.policy.signatures;
    if (!sig && !att && !copied) continue;
    const k = `${i.image}@${i.digest}`;
    let e = byDigest.get(k);
    if (!e) byDigest.set(k, (e = { image: i.image, digest: i.digest, kinds: new Set(), to: new Set() }));
    if (sig || copied) e.kinds.add('sig');
    if (att || (copied && wantAtt)) e.kinds.add('att');
    e.to.add(i.destination);
  }
  const projectDests = new Map((input.projects ?? []).map((p) => [p.name, p.destinations]));
  const holders = (image: string): string[] => {
    const img = input.images.find((x) => x.image === image);
    const names = input.destinations.map((d) => d.name);
    return img?.project ? names.filter((n) => projectDests.get(img.project!)?.includes(n)) : names;
  };
  return [...byDigest.values()].map((e) => ({
    image: e.image,
    digest: e.digest,
    kinds: [...e.kinds].sort(),
    to: [...e.to],
    from: [...holders(e.image).filter((n) => !e.to.has(n)), 'source'],
  }));
}

export async function reconcile(input: ReconcileInput): Promise<ReconcileResult> {
  const info = workflowInfo();
  const cp = input.checkpoint;
  const reports: DriftReport[] = cp?.reports ?? [];
  const repairs: RepairRecord[] = [];
  let phase = 'inventory';
  let report: DriftReport | undefined = undefined;
  setHandler(reconcileReportQuery, () => ({ ...(report ? { report } : {}), repairs, phase }));

  const all = reconcileBatches(input);
  const title = input.name;
  const publish = (status: string) => setCurrentDetails(report ? renderDriftMarkdown(title, report, repairs, status) : `## promoflow reconcile: ${title} — ${status}\n\n${reports.length}/${all.length} inventory batches done`);
  if (!cp) upsertSearchAttributes([{ key: SA_STATUS, value: 'reconciling' }]);
  publish('inventory');

  // Inventory in waves of bounded concurrency; between waves, continue as new if the history is getting long.
  const concurrency = Math.max(1, input.concurrency ?? DEFAULT_CONCURRENCY);
  let waves = 0;
  for (let next = cp?.nextBatch ?? 0; next < all.length; ) {
    const wave = all.slice(next, next + concurrency);
    const got = await Promise.all(
      wave.map(async (b) => {
        try {
          const r = await inventoryBatch.executeWithOptions({ summary: `inventory ${b.repos.length} repo(s) at ${b.destination.name}` }, [
            { destination: b.destination, repos: b.repos, policy: input.policy, ...(input.publicKey ? { publicKey: input.publicKey } : {}) },
          ]);
          return r.report;
        } catch (e) {
          const f = failureOf(e);
          return summarize(b.repos.map((r) => ({ kind: 'unreadable' as const, destination: r.destination, image: r.image, repair: 'none' as const, detail: `could not read ${r.image} at ${r.destination}: ${f.type}: ${f.message}` })), b.repos.length);
        }
      }),
    );
    reports.push(...got);
    next += wave.length;
    waves++;
    publish('inventory');
    if (next < all.length && (workflowInfo().continueAsNewSuggested || (input.maxWavesPerRun !== undefined && waves >= input.maxWavesPerRun))) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof reconcile>({ ...input, checkpoint: { nextBatch: next, reports, runs: (cp?.runs ?? 0) + 1 } });
    }
  }
  report = mergeReports(reports);
  upsertSearchAttributes([{ key: SA_DRIFT, value: report.items.length }]);
  publish(report.items.length ? 'drift found' : 'clean');

  const promotions: string[] = [];
  if (input.repair && report.repairable > 0) {
    phase = 'repair';
    publish('repairing');
    const runs = repairPromotions(input, report.items);
    const runOne = async ({ destination, run, covers }: (typeof runs)[number]) => {
      const workflowId = `${info.workflowId}/repair/${destination}`;
      promotions.push(workflowId);
      const record = (i: DriftItem, status: RepairRecord['status'], error?: string): RepairRecord => ({ kind: i.kind, destination: i.destination, image: i.image, ...(i.digest ? { digest: i.digest } : {}), ...(i.tag ? { tag: i.tag } : {}), status, via: workflowId, ...(error ? { error } : {}) });
      try {
        const r = await executeChild(promotionRun, { workflowId, args: [run], staticSummary: `repair ${covers.length} finding(s) at ${destination}` });
        for (const i of covers) {
          const e = r.edges.find((x) => x.image === i.image && x.digest === i.digest && x.destination === destination);
          const ok = e && (e.status === 'promoted' || e.status === 'present');
          repairs.push(record(i, ok ? 'repaired' : 'failed', ok ? undefined : `${e?.errorType ?? 'NotPromoted'}: ${e?.error ?? 'no result'}`));
        }
      } catch (e) {
        const f = failureOf(e);
        for (const i of covers) repairs.push(record(i, 'failed', `${f.type}: ${f.message}`));
      }
      publish('repairing');
    };
    // The signing home first: the other destinations' repairs replicate signatures from it.
    const home = runs.find((r) => r.destination === input.signing?.home.name);
    if (home) await runOne(home);
    await Promise.all(runs.filter((r) => r !== home).map(runOne));

    const sigItems = signatureRepairs(input, report.items);
    const endpoints = [...input.destinations, { name: 'source', ...input.source }];
    for (let i = 0; i < sigItems.length; i += SIGNATURE_CHUNK) {
      const chunk = sigItems.slice(i, i + SIGNATURE_CHUNK);
      let results: Awaited<ReturnType<typeof repairSignatures>>['results'];
      try {
        results = (await repairSignatures.executeWithOptions({ summary: `replicate signatures of ${chunk.length} digest(s)` }, [{ endpoints, items: chunk, ...(input.publicKey ? { publicKey: input.publicKey } : {}) }])).results;
      } catch (e) {
        const f = failureOf(e);
        results = chunk.flatMap((c) => c.to.flatMap((d) => c.kinds.map((kind) => ({ image: c.image, digest: c.digest, destination: d, kind, status: 'failed' as const, error: `${f.type}: ${f.message}` }))));
      }
      for (const it of report.items.filter((x) => x.repair === 'signatures')) {
        const kind = it.kind.endsWith('signature') ? 'sig' : 'att';
        const r = results.find((x) => x.image === it.image && x.digest === it.digest && x.destination === it.destination && x.kind === kind);
        if (!r) continue;
        repairs.push({ kind: it.kind, destination: it.destination, image: it.image, digest: it.digest!, status: r.status === 'failed' ? 'failed' : 'repaired', ...(r.from ? { via: `copy from ${r.from}` } : {}), ...(r.error ? { error: r.error } : {}) });
      }
      publish('repairing');
    }
    // Repairable findings nothing picked up (e.g. a tag of a digest whose promotion was not possible).
    for (const it of report.items) {
      if (it.repair === 'none') continue;
      if (!repairs.some((r) => r.kind === it.kind && r.destination === it.destination && r.image === it.image && r.digest === it.digest && r.tag === it.tag)) {
        repairs.push({ kind: it.kind, destination: it.destination, image: it.image, ...(it.digest ? { digest: it.digest } : {}), ...(it.tag ? { tag: it.tag } : {}), status: 'not-repaired' });
      }
    }
  }
  const repaired = repairs.filter((r) => r.status === 'repaired').length;
  const remaining = report.items.length - repaired;
  const status: ReconcileResult['status'] = report.items.length === 0 ? 'clean' : !input.repair || repaired === 0 ? 'drift' : remaining === report.items.filter((i) => i.repair === 'none').length ? 'repaired' : 'partially-repaired';
  phase = 'done';
  upsertSearchAttributes([{ key: SA_DRIFT, value: remaining }, { key: SA_STATUS, value: status }]);
  publish(status);
  await condition(allHandlersFinished);
  return { name: input.name, status, report, repairs, remaining, promotions };
}
