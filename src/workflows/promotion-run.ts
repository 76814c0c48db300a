// PromotionRun: the whole promotion. Phases run in order; in each, one ImagePromotion child per image digest with
// bounded concurrency. After a phase its gates run: verification (every destination holds the exact digests and
// tags), a soak (durable timer), and an optional manual approval (Update, recording who and why). Pause, resume
// and abort are Updates too. An image that failed in a phase is not rolled out further, while every other image
// goes on. The run continues as new when Temporal suggests it, carrying its progress. Its result is an exact
// account of every image × destination, and the Web UI shows it live (details, search attributes, summaries).
import {
  condition, continueAsNew, patched, executeChild, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo, allHandlersFinished,
} from '@temporalio/workflow';
import type { Activities } from '../contract';
import { imagePromotion, failureOf } from './image-promotion';
import { edgeLabel } from './format';
import { SA_PHASE, SA_STATUS, SA_IMAGES, SA_COMMIT } from '../contract';
import { renderDetails } from './details';
import { recordEdges, recordPhase } from './metrics';
import { REGISTRY_RETRY, abortUpdate, approveUpdate, decisionInput, pauseUpdate, progressQuery, rejectUpdate, resumeUpdate, type DecisionInput } from '../contract';
import {
  countEdges, type DecisionRecord, type EdgeResult, type PhaseResult, type PromotionItem, type PromotionProgress, type PromotionRunCheckpoint,
  type PromotionRunInput, type PromotionRunResult, type RunStatus, type DestinationRef,
} from '../contract';

const DEFAULT_CONCURRENCY = 50;
/** Runs with at least this many image digests batch them into children (one workflow per digest costs ~30 events). */
const BATCH_THRESHOLD = 100;
const DEFAULT_BATCH = 8;
/** Items per verification activity: keeps each activity's input far below the 2 MB payload limit. */
const VERIFY_CHUNK = 500;

const { verifyDestination } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '60 seconds',
  retry: REGISTRY_RETRY,
});

const keyOf = (i: PromotionItem) => `${i.image}@${i.digest}`;

export async function promotionRun(input: PromotionRunInput): Promise<PromotionRunResult> {
  const info = workflowInfo();
  const cp = input.checkpoint;
  const edges: EdgeResult[] = cp?.edges ?? [];
  const phases: PhaseResult[] = cp?.phases ?? input.phases.map((p) => ({ name: p.name, status: 'pending' }));
  const blocked = new Set<string>(cp?.blocked ?? []);
  const decisions: DecisionRecord[] = cp?.decisions ?? [];
  let paused = cp?.paused ?? false;
  let aborted = false;
  let awaiting: string | undefined;
  let gate: 'approve' | 'reject' | undefined;
  let currentPhase: string | undefined;
  let finished = false;
  const projects = new Map((input.projects ?? []).map((p) => [p.name, p]));
  const sourceFor = (item: PromotionItem) => (item.project ? projects.get(item.project)?.source ?? input.source : input.source);
  const inProject = (item: PromotionItem, destination: string) => !item.project || (projects.get(item.project)?.destinations.includes(destination) ?? false);
  const phaseTotals = Object.fromEntries(input.phases.map((p) => [p.name, input.items.reduce((k, it) => k + p.destinations.filter((d) => inProject(it, d)).length, 0)]));
  const total = Object.values(phaseTotals).reduce((n, k) => n + k, 0);

  const status = (): RunStatus => {
    if (finished) {
      if (aborted) return 'aborted';
      if (decisions.some((d) => d.kind === 'reject')) return 'rejected';
      const c = countEdges(edges);
      return c.failed + c.lost + c.skipped > 0 ? 'failed' : 'succeeded';
    }
    if (awaiting) return 'awaiting-approval';
    return paused ? 'paused' : 'running';
  };
  const snapshot = (): PromotionProgress => ({ name: input.name, status: status(), phases, edges, counts: countEdges(edges), decisions, currentPhase, total, phaseTotals, done: edges.length });
  let shownStatus: RunStatus | undefined;
  const publish = () => {
    setCurrentDetails(renderDetails(snapshot()));
    // Each upsert is a history event: only on a change of status.
    const s = status();
    if (s !== shownStatus) upsertSearchAttributes([{ key: SA_STATUS, value: (shownStatus = s) }]);
  };

  // Control: validators reject what cannot apply now, so the caller gets an error instead of a silent no-op.
  const record = (kind: DecisionRecord['kind'], d: DecisionInput): DecisionRecord => {
    const rec: DecisionRecord = { kind, by: d.by, ...(d.reason ? { reason: d.reason } : {}), ...(d.phase ?? awaiting ? { phase: d.phase ?? awaiting } : {}), at: new Date().toISOString() };
    decisions.push(rec);
    return rec;
  };
  const validGate = (d: DecisionInput) => {
    decisionInput.parse(d);
    if (!awaiting) throw new Error(`no gate is awaiting approval (run status: ${status()})`);
    if (d.phase && d.phase !== awaiting) throw new Error(`phase ${d.phase} is not awaiting approval; ${awaiting} is`);
  };
  const validRunning = (d: DecisionInput) => {
    decisionInput.parse(d);
    if (finished) throw new Error('the run has already ended');
  };
  setHandler(progressQuery, snapshot);
  setHandler(approveUpdate, (d) => ((gate = 'approve'), record('approve', d)), { validator: validGate });
  setHandler(rejectUpdate, (d) => ((gate = 'reject'), record('reject', d)), { validator: validGate });
  setHandler(pauseUpdate, (d) => ((paused = true), publish(), record('pause', d)), {
    validator: (d) => {
      validRunning(d);
      if (paused) throw new Error('the run is already paused');
    },
  });
  setHandler(resumeUpdate, (d) => ((paused = false), publish(), record('resume', d)), {
    validator: (d) => {
      validRunning(d);
      if (!paused) throw new Error('the run is not paused');
    },
  });
  setHandler(abortUpdate, (d) => ((aborted = true), publish(), record('abort', d)), { validator: validRunning });

  if (!cp) {
    upsertSearchAttributes([
      { key: SA_IMAGES, value: [...new Set(input.items.map((i) => i.image))].slice(0, 100) },
      ...(input.commit ? [{ key: SA_COMMIT, value: input.commit }] : []),
    ]);
  }
  publish();

  const skip = (fromPhase: number, fromItem: number, errorType: string, error: string) => {
    for (let pi = fromPhase; pi < input.phases.length; pi++) {
      const phase = input.phases[pi]!;
      for (const item of input.items.slice(pi === fromPhase ? fromItem : 0)) {
        for (const d of phase.destinations.filter((x) => inProject(item, x))) edges.push({ image: item.image, digest: item.digest, destination: d, phase: phase.name, tags: item.tags, status: 'skipped', errorType, error });
      }
      if (phases[pi]!.status === 'pending' || phases[pi]!.status === 'running') phases[pi] = { ...phases[pi]!, status: errorType === 'Aborted' ? 'aborted' : 'rejected' };
    }
  };

  const signingFor = input.signing
    ? {
        ...input.signing,
        run: {
          workflowId: info.workflowId,
          runId: info.firstExecutionRunId,
          namespace: info.namespace,
          startedOn: info.startTime.toISOString(),
          manifestPath: input.manifestFiles.join(','),
          ...(input.commit ? { commit: input.commit } : {}),
          allDestinations: input.destinations.map((d) => d.registry),
        },
      }
    : undefined;
  let drain = false;
  let childrenThisRun = 0;
  // Batching changes the commands of large runs only, so it is versioned; small runs keep one child per image.
  const wantBatch = input.batchSize ?? (input.items.length >= BATCH_THRESHOLD ? DEFAULT_BATCH : 1);
  const batchSize = wantBatch > 1 && patched('batched-children-v1') ? wantBatch : 1;
  for (let pi = cp?.phaseIndex ?? 0; pi < input.phases.length; pi++) {
    const phase = input.phases[pi]!;
    currentPhase = phase.name;
    upsertSearchAttributes([{ key: SA_PHASE, value: phase.name }]);
    const dests = input.destinations.filter((d) => phase.destinations.includes(d.name));
    let next = cp && pi === cp.phaseIndex ? cp.nextItem : 0;
    const copiesDone = cp && pi === cp.phaseIndex ? cp.copiesDone : false;
    if (!copiesDone) {
      if (phases[pi]!.status === 'pending') phases[pi] = { name: phase.name, status: 'running', startedAt: new Date().toISOString() };
      publish();
      const runner = async (): Promise<void> => {
        for (;;) {
          await condition(() => !paused || aborted);
          if (aborted || drain || next >= input.items.length) return;
          const taken: Array<{ item: PromotionItem; dests: DestinationRef[] }> = [];
          while (taken.length < batchSize && next < input.items.length) {
            const item = input.items[next++]!;
            const itemDests = dests.filter((d) => inProject(item, d.name));
            if (itemDests.length === 0) continue;
            if (blocked.has(keyOf(item))) {
              for (const d of itemDests) edges.push({ image: item.image, digest: item.digest, destination: d.name, phase: phase.name, tags: item.tags, status: 'skipped', errorType: 'EarlierPhaseFailed', error: 'not promoted here because it failed in an earlier phase' });
              continue;
            }
            taken.push({ item, dests: itemDests });
          }
          if (taken.length === 0) continue;
          const [first] = taken as [{ item: PromotionItem; dests: DestinationRef[] }];
          const label = edgeLabel(first.item.image, first.item.digest);
          const r = await executeChild(imagePromotion, {
            workflowId: `${info.workflowId}/${phase.name}/${label}${taken.length > 1 ? `+${taken.length - 1}` : ''}`,
            args: [
              {
                item: first.item,
                source: sourceFor(first.item),
                destinations: first.dests,
                phase: phase.name,
                tuning: input.tuning,
                ...(signingFor ? { signing: signingFor } : {}),
                ...(input.sourceSignedBy ? { sourceSignedBy: input.sourceSignedBy } : {}),
                ...(taken.length > 1 ? { batch: taken.map((t) => ({ item: t.item, source: sourceFor(t.item), destinations: t.dests })) } : {}),
              },
            ],
            staticSummary:
              taken.length > 1
                ? `promote ${label} and ${taken.length - 1} more → ${phase.name}`
                : `promote ${label} → ${phase.name} (${first.dests.length > 3 ? `${first.dests.length} destinations` : first.dests.map((d) => d.name).join(', ')})`,
          });
          for (const one of r.batch ?? [r]) {
            edges.push(...one.edges);
            recordEdges(one.edges);
            if (one.edges.some((e) => e.status === 'failed' || e.status === 'lost')) blocked.add(`${one.image}@${one.digest}`);
          }
          childrenThisRun++;
          if (workflowInfo().continueAsNewSuggested || (input.tuning?.childrenPerRun !== undefined && childrenThisRun >= input.tuning.childrenPerRun)) drain = true;
          publish();
        }
      };
      const n = Math.max(1, Math.min(input.concurrency ?? DEFAULT_CONCURRENCY, input.items.length - next));
      await Promise.all(Array.from({ length: n }, runner));
      if (aborted) {
        skip(pi, next, 'Aborted', 'not promoted: the run was aborted');
        break;
      }
      if (drain && next < input.items.length) {
        await condition(allHandlersFinished);
        const checkpoint: PromotionRunCheckpoint = { phaseIndex: pi, nextItem: next, copiesDone: false, edges, phases, blocked: [...blocked], decisions, paused, runs: (cp?.runs ?? 0) + 1 };
        await continueAsNew<typeof promotionRun>({ ...input, checkpoint });
      }
    }

    // Gate 1: verification.
    if (phase.verify) {
      phases[pi] = { ...phases[pi]!, status: 'verifying' };
      publish();
      const problems: string[] = [];
      for (const d of dests) {
        const toVerify = input.items.filter((i) => !blocked.has(keyOf(i)) && inProject(i, d.name));
        for (let i = 0; i < toVerify.length; i += VERIFY_CHUNK) {
          const chunk = toVerify.slice(i, i + VERIFY_CHUNK).map((it) => ({ image: it.image, digest: it.digest, tags: it.tags }));
          let found: Array<{ image: string; digest: string; problem: string }>;
          try {
            found = await verifyDestination.executeWithOptions({ summary: `verify ${chunk.length} image(s) at ${d.name}` }, [{ destination: d, items: chunk }]);
          } catch (e) {
            const f = failureOf(e);
            found = chunk.map((c) => ({ ...c, problem: `verification failed: ${f.type}: ${f.message}` }));
          }
          for (const p of found) {
            problems.push(`${edgeLabel(p.image, p.digest)} at ${d.name}: ${p.problem}`);
            blocked.add(`${p.image}@${p.digest}`);
            const e = edges.find((x) => x.phase === phase.name && x.destination === d.name && x.image === p.image && x.digest === p.digest);
            if (e) Object.assign(e, { status: 'failed', errorType: 'VerifyFailed', error: p.problem });
          }
        }
      }
      if (problems.length) phases[pi] = { ...phases[pi]!, verifyProblems: problems.slice(0, 100) };
    }
    const failed = edges.some((e) => e.phase === phase.name && (e.status === 'failed' || e.status === 'lost'));
    const last = pi === input.phases.length - 1;

    // Gate 2: soak, a durable timer that an abort cuts short.
    if (phase.soakSeconds > 0 && !last) {
      phases[pi] = { ...phases[pi]!, status: 'soaking' };
      publish();
      await condition(() => aborted, phase.soakSeconds * 1000, { summary: `soak ${phase.soakSeconds}s after ${phase.name}` });
      if (aborted) {
        phases[pi] = { ...phases[pi]!, status: failed ? 'failed' : 'done', finishedAt: new Date().toISOString() };
        recordPhase(phases[pi]!);
        skip(pi + 1, 0, 'Aborted', 'not promoted: the run was aborted');
        break;
      }
    }

    // Gate 3: manual approval before the next phase.
    if (phase.approval && !last) {
      phases[pi] = { ...phases[pi]!, status: 'awaiting-approval' };
      awaiting = phase.name;
      gate = undefined;
      publish();
      await condition(() => gate !== undefined || aborted);
      awaiting = undefined;
      if (gate === 'reject' || aborted) {
        phases[pi] = { ...phases[pi]!, status: failed ? 'failed' : 'done', finishedAt: new Date().toISOString() };
        recordPhase(phases[pi]!);
        skip(pi + 1, 0, aborted ? 'Aborted' : 'Rejected', aborted ? 'not promoted: the run was aborted' : `not promoted: rejected at the ${phase.name} gate`);
        break;
      }
    }
    phases[pi] = { ...phases[pi]!, status: failed ? 'failed' : 'done', finishedAt: new Date().toISOString() };
    recordPhase(phases[pi]!);
    publish();
  }
  currentPhase = undefined;
  finished = true;
  publish();
  await condition(allHandlersFinished);
  return { name: input.name, status: status(), phases, edges, counts: countEdges(edges), decisions };
}
