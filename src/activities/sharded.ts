// Activities of the sharded promotion: plan a phase into shards (stored, returned by reference), promote one batch
// of a shard (edges of one repository group × destination group, concurrency inside, heartbeating what is done so
// a retry resumes from it), account the cancelled batches of an aborted shard, and compact many account
// references into one. The per-digest work itself is an EntryExecutor: the registry one in production
// (promote-entry.ts), a stub in the orchestration benchmark.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { z } from 'zod';
import {
  EDGE_OUTCOMES, FAILURE_SAMPLE, emptyCounts, type AbortBatchesInput, type AccountNode, type BatchInput, type BatchResult, type DestinationCounts, type EdgeRecord,
  type FailureSample, type PlanPhaseInput, type PlanPhaseResult, type RolloutPhases, type RunIdentity, type UnrunInput,
  runBundle, type RunBundle, type DestinationRef, type EndpointRef,
} from '../contract';
import { itemKey, shardPhase, type ShardDoc, type ShardEntry } from './shards';
import { getJson, putJson, type StateRef, type StateStore } from '../state';
import { mapLimit, Semaphore } from '../oci';

/** What an executor needs to promote one digest to some of its destinations. */
export interface EntryContext {
  bundle: RunBundle;
  phase: string;
  source: EndpointRef;
  destinations: DestinationRef[];
  /** Registries this digest goes to in the whole run (provenance names them, and no others). */
  goesTo: string[];
  verify: boolean;
  run: RunIdentity;
  /** The run's rollout up to this phase (from the workflow's state): the provenance's rollout record. */
  rollout?: RolloutPhases;
  signal: AbortSignal;
  /** The batch's heartbeat: steps inside call it to stay alive (their own details would overwrite the batch's cursor). */
  heartbeat: () => void;
}

/** An edge outcome, with whether a failure is transient (retried within the retry window). */
export type ExecutedEdge = EdgeRecord & { transient?: boolean };

export type EntryExecutor = (entry: ShardEntry, ctx: EntryContext) => Promise<ExecutedEdge[]>;

/** Failures of the image itself: it is not rolled out to later phases. Any other failure is its destination's alone. */
const IMAGE_FAILURES = new Set(['SourceLost', 'SourceUnsigned', 'InvalidManifest', 'ManifestTooLarge', 'DigestMismatch', 'InvalidReference', 'NotSigned', 'SignFailed']);
export const blocksLaterPhases = (r: EdgeRecord) => r.outcome === 'lost' || (r.outcome === 'failed' && IMAGE_FAILURES.has(r.errorType ?? ''));

const MAX_SHARDS = 1000;
/** Digests promoted at once inside one batch activity (the OCI client's per-registry limits apply below this). */
const ENTRY_CONCURRENCY = 8;
/**
 * Digests promoted at once by one worker process, across all its batch activities (PROMOFLOW_WORKER_DIGESTS). The
 * slots are served first come, first served, so a worker finishes digests one after another and its batches
 * checkpoint as it goes: with 32 batches × 8 digests all sharing the CPU at once, none finished before a SIGKILL and
 * every attempt started over.
 */
export const WORKER_DIGESTS = 16;
/** A batch stores its progress at most this often (each store is one small document). */
const HEARTBEAT_MS = 1000;
/** Backoff of a batch retried for transient registry failures (a worker crash is retried at once: its own policy). */
const TRANSIENT_BACKOFF = { initialSeconds: 1, maxSeconds: 300 } as const;

/** Heartbeat details of a batch: its progress (by reference) and how many attempts in a row ended on transient failures. */
interface BatchBeat {
  partial?: StateRef;
  transient?: number;
}

export function workerDigests(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.PROMOFLOW_WORKER_DIGESTS;
  if (v === undefined || v === '') return WORKER_DIGESTS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`PROMOFLOW_WORKER_DIGESTS=${JSON.stringify(v)}: expected an integer from 1 to 1024 (digests one worker promotes at once; default ${WORKER_DIGESTS})`);
  return n;
}

const shardsDoc = z.object({ shards: z.array(z.string().regex(/^sha256:[0-9a-f]{64}$/)) });
const entry = z.object({ image: z.string(), digest: z.string(), tags: z.array(z.string()), allowTagMove: z.boolean().optional(), project: z.string().optional(), dests: z.array(z.string()), final: z.literal(true).optional(), earlier: z.array(z.string()).optional() });
const shardDoc = z.object({ phase: z.string(), group: z.string(), staged: z.literal(true).optional(), taskQueue: z.string().optional(), batches: z.array(z.array(entry)) });
const edgeRecord = z.object({
  image: z.string(), digest: z.string(), destination: z.string(), phase: z.string(), outcome: z.enum(EDGE_OUTCOMES),
  errorType: z.string().optional(), error: z.string().optional(), bytesCopied: z.number().optional(), signature: z.literal('verified').optional(),
});
const stateRef = z.custom<StateRef>((v) => typeof v === 'string' && /^sha256:[0-9a-f]{64}$/.test(v));
export const accountNode = z.object({ parts: z.array(stateRef).optional(), edges: z.array(edgeRecord).optional(), keys: z.array(z.string()).optional() });
const partial = z.object({ edges: z.array(edgeRecord) });

/** Documents are immutable (content-addressed): a worker keeps the recent ones parsed. */
export class DocCache {
  private readonly docs = new Map<string, Promise<unknown>>();
  constructor(private readonly max: number) {}
  get<T>(ref: string, load: () => Promise<T>): Promise<T> {
    let p = this.docs.get(ref) as Promise<T> | undefined;
    if (p) {
      this.docs.delete(ref);
      this.docs.set(ref, p);
      return p;
    }
    p = load();
    p.catch(() => this.docs.delete(ref));
    this.docs.set(ref, p);
    if (this.docs.size > this.max) this.docs.delete(this.docs.keys().next().value!);
    return p;
  }
}

/**
 * Run `fn` heartbeating every quarter of the activity's heartbeat timeout: the run's planning and bookkeeping
 * activities are short, but with a heartbeat timeout a SIGKILLed worker costs them seconds, not their start-to-close.
 */
async function pulsing<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const t = setInterval(() => ctx.heartbeat(), Math.min(10_000, Math.max(250, (ctx.info.heartbeatTimeoutMs ?? 60_000) / 4)));
  try {
    return await fn();
  } finally {
    clearInterval(t);
  }
}

export function countRecords(records: readonly EdgeRecord[], into: DestinationCounts = {}): DestinationCounts {
  for (const r of records) (into[r.destination] ??= emptyCounts())[EDGE_OUTCOMES.indexOf(r.outcome)]++;
  return into;
}

export function sampleFailures(records: readonly EdgeRecord[], into: FailureSample[] = []): FailureSample[] {
  for (const r of records) {
    if (into.length >= FAILURE_SAMPLE) break;
    if (r.outcome === 'promoted' || r.outcome === 'present') continue;
    into.push({ image: r.image, digest: r.digest, destination: r.destination, phase: r.phase, outcome: r.outcome, errorType: r.errorType ?? 'Error', error: (r.error ?? '').slice(0, 300) });
  }
  return into;
}

/** Every record of an account tree, in order (for paging through a run's account). */
export async function* readAccount(store: StateStore, ref: StateRef): AsyncGenerator<EdgeRecord> {
  const node = await getJson(store, ref, accountNode, 'account');
  for (const e of node.edges ?? []) yield e;
  for (const p of node.parts ?? []) yield* readAccount(store, p);
}

async function readKeys(store: StateStore, ref: StateRef, into: Set<string>): Promise<void> {
  const node = await getJson(store, ref, accountNode, 'blocked list');
  for (const k of node.keys ?? []) into.add(k);
  for (const p of node.parts ?? []) await readKeys(store, p, into);
}

export function shardedActivities(deps: { store: StateStore; execute: EntryExecutor; digests?: number }) {
  const { store, execute } = deps;
  const slots = new Semaphore(deps.digests ?? workerDigests());
  const cache = new DocCache(512);
  const bundleOf = (ref: StateRef) => cache.get(ref, () => getJson(store, ref, runBundle, 'run bundle'));
  const shardOf = async (shards: StateRef, i: number): Promise<ShardDoc> => {
    const list = await cache.get(shards, () => getJson(store, shards, shardsDoc, 'shard list'));
    const ref = list.shards[i];
    if (!ref) throw ApplicationFailure.nonRetryable(`shard ${i} is not in the shard list ${shards}`, 'StateCorrupt');
    return cache.get(ref, () => getJson(store, ref as StateRef, shardDoc, 'shard'));
  };
  const contextFor = (bundle: RunBundle, entry: ShardEntry, phase: string, run: RunIdentity, rollout: RolloutPhases | undefined, signal: AbortSignal, heartbeat: () => void): EntryContext => {
    const project = entry.project ? bundle.projects?.find((p) => p.name === entry.project) : undefined;
    const ph = bundle.phases.find((p) => p.name === phase)!;
    const goesTo = new Set<string>();
    for (const p of bundle.phases) for (const d of p.destinations) if (!project || project.destinations.includes(d)) goesTo.add(d);
    return {
      bundle,
      phase,
      source: project?.source ?? bundle.source,
      destinations: bundle.destinations.filter((d) => entry.dests.includes(d.name)),
      goesTo: bundle.destinations.filter((d) => goesTo.has(d.name)).map((d) => d.registry),
      verify: ph.verify,
      run,
      ...(rollout ? { rollout } : {}),
      signal,
      heartbeat,
    };
  };

  return {
    planPhase: (input: PlanPhaseInput): Promise<PlanPhaseResult> => pulsing(async () => {
      const bundle = await bundleOf(input.bundle);
      const blocked = new Set<string>();
      for (const r of input.blocked) await readKeys(store, r, blocked);
      const { shards, skipped } = shardPhase(bundle, input.phase, blocked, { batchEdges: input.batchEdges, shardEdges: input.shardEdges, maxShards: MAX_SHARDS });
      const refs: StateRef[] = [];
      for (const s of shards) refs.push(await putJson(store, s));
      const queues: Record<number, string> = {};
      shards.forEach((s, i) => s.taskQueue && (queues[i] = s.taskQueue));
      return {
        planned: {
          shards: await putJson(store, { shards: refs }),
          sizes: shards.map((s) => [s.batches.reduce((n, b) => n + b.reduce((k, e) => k + e.dests.length, 0), 0), s.batches.length]),
          ...(Object.keys(queues).length ? { queues } : {}),
        },
        skipped: countRecords(skipped),
        ...(skipped.length ? { skippedAccount: await putJson(store, { edges: skipped } satisfies AccountNode) } : {}),
        failures: sampleFailures(skipped),
      };
    }),

    async promoteBatch(input: BatchInput): Promise<BatchResult> {
      const ctx = Context.current();
      const bundle = await bundleOf(input.bundle);
      const shard = await shardOf(input.shards, input.shard);
      const entries = shard.batches[input.batch];
      if (!entries) throw ApplicationFailure.nonRetryable(`batch ${input.batch} is not in shard ${input.shard}`, 'StateCorrupt');
      // Resume: the edges a previous attempt finished (heartbeated by reference) are not done again.
      const last = ctx.info.heartbeatDetails as BatchBeat | undefined;
      const prior = last?.partial;
      const done: EdgeRecord[] = prior ? (await getJson(store, prior, partial, 'batch progress')).edges : [];
      const doneKeys = new Set(done.map((r) => `${itemKey(r)}|${r.destination}`));
      const windowOpen = Date.now() < ctx.info.scheduledTimestampMs + input.retryWindowSeconds * 1000;
      let transient = 0;
      let lastBeat = 0;
      // Carried over from the last attempt until this one ends: a crash in between must not reset the backoff.
      const transientRuns = last?.transient ?? 0;
      let details: BatchBeat = { ...(prior ? { partial: prior } : {}), ...(transientRuns ? { transient: transientRuns } : {}) };
      const beat = async (force: boolean) => {
        if (force || Date.now() - lastBeat >= HEARTBEAT_MS) {
          lastBeat = Date.now();
          details = { ...details, partial: await putJson(store, { edges: done }) };
        }
        ctx.heartbeat(details);
      };
      // A digest may take long (big layers): keep the batch alive. Every heartbeat of the batch, and of the copy and
      // signing steps inside it, carries the batch's latest progress reference, so a retry resumes from it.
      const alive = () => ctx.heartbeat(details);
      // A quarter of the heartbeat timeout: a busy event loop (a loaded machine) delays a pulse without losing the batch.
      const pulse = setInterval(alive, Math.min(10_000, Math.max(250, (ctx.info.heartbeatTimeoutMs ?? 60_000) / 4)));
      // One digest's edges still to do, in one of the worker's digest slots.
      const promoteEntry = async (e: ShardEntry): Promise<void> => {
        const todo = e.dests.filter((d) => !doneKeys.has(`${itemKey(e)}|${d}`));
        if (todo.length === 0 || ctx.cancellationSignal.aborted) return;
        // A shard planned before entries carried `final` attests wherever it signs, as it did then.
        const one: ShardEntry = { ...e, dests: todo, ...(shard.staged ? {} : { final: true as const }) };
        const records = await execute(one, contextFor(bundle, one, input.phaseName, input.run, input.rollout, ctx.cancellationSignal, alive));
        for (const r of records) {
          const { transient: t, ...rec } = r;
          if (t && windowOpen) transient++;
          else done.push(rec);
        }
        await beat(false);
      };
      try {
        await mapLimit(entries, ENTRY_CONCURRENCY, (e) => slots.run(() => promoteEntry(e)));
      } finally {
        clearInterval(pulse);
      }
      if (ctx.cancellationSignal.aborted) {
        await beat(true);
        throw new CancelledFailure('batch cancelled: the run was aborted');
      }
      if (transient > 0) {
        details = { ...details, transient: transientRuns + 1 };
        await beat(true);
        // A registry outage backs off (to 5 minutes) by this count, not by the attempt number, which crashes raise too.
        const delay = Math.min(TRANSIENT_BACKOFF.maxSeconds, TRANSIENT_BACKOFF.initialSeconds * 2 ** transientRuns);
        throw ApplicationFailure.create({
          message: `${transient} edge(s) hit transient registry failures (retried until ${new Date(ctx.info.scheduledTimestampMs + input.retryWindowSeconds * 1000).toISOString()}, then accounted as failed)`,
          type: 'BatchIncomplete',
          nextRetryDelay: `${delay}s`,
        });
      }
      const blockedKeys = [...new Set(done.filter(blocksLaterPhases).map(itemKey))];
      return {
        counts: countRecords(done),
        failures: sampleFailures(done),
        account: await putJson(store, { edges: done } satisfies AccountNode),
        ...(blockedKeys.length ? { blocked: await putJson(store, { keys: blockedKeys } satisfies AccountNode) } : {}),
      };
    },

    abortBatches: (input: AbortBatchesInput): Promise<BatchResult> => pulsing(async () => {
      const shard = await shardOf(input.shards, input.shard);
      const records: EdgeRecord[] = [];
      for (const [from, to] of input.ranges) {
        for (const b of shard.batches.slice(from, to)) for (const e of b) for (const d of e.dests) records.push({ image: e.image, digest: e.digest, destination: d, phase: input.phaseName, outcome: 'aborted', errorType: 'Aborted', error: 'not promoted: the run was aborted' });
      }
      return { counts: countRecords(records), failures: [], account: await putJson(store, { edges: records } satisfies AccountNode) };
    }),

    /**
     * Edges of a phase that will never run (the run was aborted, or rejected at a gate), accounted with `outcome`:
     * the shards in `ranges` of a planned phase, or the whole phase when it was never planned.
     */
    accountUnrun: (input: UnrunInput): Promise<BatchResult> => pulsing(async () => {
      const bundle = await bundleOf(input.bundle);
      let shards: ShardDoc[];
      const records: EdgeRecord[] = [];
      if (input.shards) {
        const indexes = (input.ranges ?? []).flatMap(([from, to]) => Array.from({ length: to - from }, (_, k) => from + k));
        shards = await Promise.all(indexes.map((i) => shardOf(input.shards!, i)));
      } else {
        const blocked = new Set<string>();
        for (const r of input.blocked) await readKeys(store, r, blocked);
        const planned = shardPhase(bundle, input.phase, blocked, { batchEdges: Number.MAX_SAFE_INTEGER, shardEdges: Number.MAX_SAFE_INTEGER, maxShards: 1 });
        shards = planned.shards;
        records.push(...planned.skipped);
      }
      const phaseName = bundle.phases[input.phase]!.name;
      for (const s of shards) for (const b of s.batches) for (const e of b) for (const d of e.dests) records.push({ image: e.image, digest: e.digest, destination: d, phase: phaseName, outcome: input.outcome, errorType: input.errorType, error: input.error });
      return { counts: countRecords(records), failures: sampleFailures(records), account: await putJson(store, { edges: records } satisfies AccountNode) };
    }),

    /** Many account (or blocked-list) references → one. */
    compactRefs: (input: { parts: StateRef[] }): Promise<StateRef> => pulsing(() => putJson(store, { parts: input.parts } satisfies AccountNode)),
  };
}
