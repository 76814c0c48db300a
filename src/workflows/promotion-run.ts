// PromotionRun: the whole promotion. Runs the rollout phases in order; in each phase, one ImagePromotion child per
// image digest with bounded concurrency. An image that failed or was lost in a phase is skipped in later phases
// (never half-rolled-out further), while every other image goes on. The result is an exact account of every
// image × destination. Progress is queryable and shown in the Web UI as live Markdown details.
import { defineQuery, executeChild, setCurrentDetails, setHandler, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { imagePromotion } from './image-promotion';
import { edgeLabel } from './format';
import { SA_PHASE, SA_STATUS, SA_IMAGES, SA_COMMIT } from './search-attributes';
import { countEdges, type EdgeResult, type PhaseResult, type PromotionProgress, type PromotionRunInput, type PromotionRunResult, type RunStatus } from './types';
import { renderDetails } from './details';

export const progressQuery = defineQuery<PromotionProgress>('progress');

const DEFAULT_CONCURRENCY = 50;

export async function promotionRun(input: PromotionRunInput): Promise<PromotionRunResult> {
  const info = workflowInfo();
  const edges: EdgeResult[] = [];
  const phases: PhaseResult[] = input.phases.map((p) => ({ name: p.name, status: 'pending' }));
  let currentPhase: string | undefined;
  let status: RunStatus = 'running';
  const total = input.items.length * input.phases.reduce((n, p) => n + p.destinations.length, 0);

  const snapshot = (): PromotionProgress => ({ name: input.name, status, phases, edges, counts: countEdges(edges), currentPhase, total, done: edges.length });
  const publish = () => setCurrentDetails(renderDetails(snapshot()));
  setHandler(progressQuery, snapshot);

  upsertSearchAttributes([
    { key: SA_STATUS, value: 'running' },
    { key: SA_IMAGES, value: [...new Set(input.items.map((i) => i.image))].slice(0, 50) },
    ...(input.commit ? [{ key: SA_COMMIT, value: input.commit }] : []),
  ]);
  publish();

  const blocked = new Set<string>(); // "image@digest" that failed in an earlier phase
  for (const [pi, phase] of input.phases.entries()) {
    currentPhase = phase.name;
    phases[pi] = { name: phase.name, status: 'running', startedAt: new Date().toISOString() };
    upsertSearchAttributes([{ key: SA_PHASE, value: phase.name }]);
    publish();
    const dests = input.destinations.filter((d) => phase.destinations.includes(d.name));
    const queue = [...input.items];
    let phaseFailed = false;
    const runOne = async (): Promise<void> => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const key = `${item.image}@${item.digest}`;
        if (blocked.has(key)) {
          for (const d of dests) edges.push({ image: item.image, digest: item.digest, destination: d.name, phase: phase.name, tags: item.tags, status: 'skipped', errorType: 'EarlierPhaseFailed', error: 'not promoted here because it failed in an earlier phase' });
          continue;
        }
        const r = await executeChild(imagePromotion, {
          workflowId: `${info.workflowId}/${phase.name}/${edgeLabel(item.image, item.digest)}`,
          args: [{ item, source: input.source, destinations: dests, phase: phase.name }],
          staticSummary: `promote ${edgeLabel(item.image, item.digest)} (${phase.name})`,
        });
        edges.push(...r.edges);
        if (r.edges.some((e) => e.status === 'failed' || e.status === 'lost')) {
          blocked.add(key);
          phaseFailed = true;
        }
        publish();
      }
    };
    const workers = Math.max(1, Math.min(input.concurrency ?? DEFAULT_CONCURRENCY, queue.length));
    await Promise.all(Array.from({ length: workers }, runOne));
    if (phase.soakSeconds > 0 && pi < input.phases.length - 1) {
      await sleep(phase.soakSeconds * 1000);
    }
    phases[pi] = { ...phases[pi]!, status: phaseFailed ? 'failed' : 'done', finishedAt: new Date().toISOString() };
    publish();
  }
  currentPhase = undefined;
  const counts = countEdges(edges);
  status = counts.failed + counts.lost + counts.skipped > 0 ? 'failed' : 'succeeded';
  upsertSearchAttributes([{ key: SA_STATUS, value: status }]);
  publish();
  return { name: input.name, status, phases, edges, counts };
}
