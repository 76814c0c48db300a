// Live progress of a running promotion, for `promote` and `watch`: per phase, edges done/total, failures, bytes
// copied and the copy rate. In a terminal, one block redrawn in place (log-update); elsewhere (CI logs), plain lines
// at a bounded rate: a status line at most once per interval, phase changes and failures as they happen (at most
// MAX_FAILURE_LINES per line batch; the account at the end lists every one). Bytes count finished edges only: the
// query reports an edge when its copies are done.
import { phaseTotals, progressQuery, runProgressQuery, type EdgeResult, type PromotionProgress, type RunProgress } from '../contract';
import { shortDigest } from '../model';
import { CliError } from './exit-codes';
import type { Io } from './io';
import type { TemporalSession } from './session';
import { formatBytes } from './summary';

export const MAX_FAILURE_LINES = 20;

export interface PhaseLine {
  name: string;
  status: string;
  done: number;
  total?: number;
  failed: number;
  bytes: number;
}

/**
 * What a view shows, whichever workflow type answers: per-edge runs (promotionRun's `progress` query) or sharded runs
 * (shardedRun's `runProgress`, counts only: bytes are not counted there).
 */
export interface ProgressSnapshot {
  name: string;
  status: string;
  currentPhase?: string;
  done: number;
  total?: number;
  bytes: number;
  phases: PhaseLine[];
  /** Failure lines so far, oldest first. */
  failures: string[];
  counts?: unknown;
}

/** A sharded run's progress as a snapshot (pure). Outcomes are in EDGE_OUTCOMES order: failed, lost at 2 and 3. */
export function snapshotOfRun(p: RunProgress): ProgressSnapshot {
  return {
    name: p.state.name, status: p.status, currentPhase: p.currentPhase, done: p.done, total: p.state.totalEdges, bytes: 0,
    phases: p.state.phases.map((ph) => {
      const t = phaseTotals(ph.counts);
      return { name: ph.name, status: ph.status, done: t.reduce((a, b) => a + b, 0), total: ph.planned?.sizes.reduce((n, [edges]) => n + edges, 0), failed: t[2] + t[3], bytes: 0 };
    }),
    failures: p.state.failures.map((f) => `${f.image}@${shortDigest(f.digest)} → ${f.destination}: ${f.outcome} ${f.errorType}: ${f.error}`),
    counts: p.totals,
  };
}

const snapshot = (p: PromotionProgress | ProgressSnapshot): ProgressSnapshot =>
  'edges' in p ? { name: p.name, status: p.status, currentPhase: p.currentPhase, done: p.done, total: p.total, bytes: copied(p), phases: phaseLines(p), failures: p.edges.filter(isFailure).map(failureLine), counts: p.counts } : p;

const isFailure = (e: EdgeResult) => e.status === 'failed' || e.status === 'lost';

/** Per-phase figures of a per-edge run's progress (pure). */
export function phaseLines(p: PromotionProgress): PhaseLine[] {
  return p.phases.map((ph) => {
    const edges = p.edges.filter((e) => e.phase === ph.name);
    return {
      name: ph.name, status: ph.status, done: edges.length, total: p.phaseTotals?.[ph.name],
      failed: edges.filter((e) => e.status === 'failed' || e.status === 'lost').length,
      bytes: edges.reduce((n, e) => n + (e.bytesCopied ?? 0), 0),
    };
  });
}

const copied = (p: PromotionProgress) => p.edges.reduce((n, e) => n + (e.bytesCopied ?? 0), 0);

/** Copy rate over a sliding window of samples (bytes per second). */
export class Rate {
  private readonly samples: Array<{ at: number; bytes: number }> = [];
  constructor(private readonly windowMs = 10_000) {}
  add(at: number, bytes: number): number {
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    return at > first.at ? ((bytes - first.bytes) * 1000) / (at - first.at) : 0;
  }
}

function bar(done: number, total: number | undefined, width = 24): string {
  if (!total) return `[${'?'.repeat(width)}]`;
  const n = Math.min(width, Math.round((done / total) * width));
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}]`;
}

const fraction = (done: number, total?: number) => `${done}/${total ?? '?'}`;

/** The block a terminal shows, redrawn in place (pure). */
export function renderBlock(progress: PromotionProgress | ProgressSnapshot, rate: number, elapsedMs: number): string {
  const p = snapshot(progress);
  const lines = p.phases;
  const width = Math.max(...lines.map((l) => l.name.length), 5);
  const out = [`${p.name}: ${p.status}${p.currentPhase ? ` · phase ${p.currentPhase}` : ''} · ${fraction(p.done, p.total)} edges · ${formatBytes(p.bytes)} · ${formatBytes(Math.round(rate))}/s · ${Math.round(elapsedMs / 1000)}s`];
  for (const l of lines) {
    out.push(`  ${l.name.padEnd(width)} ${bar(l.done, l.total)} ${fraction(l.done, l.total).padStart(9)} ${l.status.padEnd(17)} ${formatBytes(l.bytes).padStart(10)}${l.failed ? `  ${l.failed} failed` : ''}`);
  }
  const failures = p.failures;
  for (const f of failures.slice(-5)) out.push(`  ✗ ${f}`);
  if (failures.length > 5) out.push(`  … ${failures.length - 5} more failures (listed in the account)`);
  return out.join('\n');
}

const failureLine = (e: EdgeResult) => `${e.image}@${shortDigest(e.digest)} → ${e.destination}: ${e.status}${e.errorType ? ` ${e.errorType}` : ''}${e.error ? `: ${e.error}` : ''}`;

/** One plain status line (pure). */
export function statusLine(progress: PromotionProgress | ProgressSnapshot, rate: number): string {
  const p = snapshot(progress);
  const phases = p.phases.map((l) => `${l.name} ${fraction(l.done, l.total)} ${l.status}${l.failed ? ` (${l.failed} failed)` : ''}`).join(' · ');
  return `${p.name}: ${p.status} · ${fraction(p.done, p.total)} edges · ${phases} · ${formatBytes(p.bytes)} at ${formatBytes(Math.round(rate))}/s`;
}

export interface ProgressView {
  update(p: PromotionProgress | ProgressSnapshot): void;
  close(): void;
}

/**
 * Plain lines for logs: phase or status changes and new failures at once (failures capped per batch), otherwise a
 * status line at most once per `minIntervalMs`, and only when something moved.
 */
export function plainView(write: (line: string) => void, opts: { minIntervalMs?: number; json?: boolean; now?: () => number } = {}): ProgressView {
  const now = opts.now ?? Date.now;
  const minInterval = opts.minIntervalMs ?? 10_000;
  const rate = new Rate();
  let lastAt = -Infinity;
  let lastKey = '';
  let lastDone = -1;
  let failuresSeen = 0;
  return {
    update(progress) {
      const p = snapshot(progress);
      const t = now();
      const r = rate.add(t, p.bytes);
      const key = `${p.status}|${p.currentPhase ?? ''}|${p.phases.map((x) => x.status).join(',')}`;
      const failures = p.failures;
      const fresh = failures.slice(failuresSeen);
      failuresSeen = failures.length;
      const changed = key !== lastKey || fresh.length > 0;
      if (!changed && (t - lastAt < minInterval || p.done === lastDone)) return;
      lastAt = t;
      lastKey = key;
      lastDone = p.done;
      if (opts.json) {
        write(JSON.stringify({ status: p.status, currentPhase: p.currentPhase, done: p.done, total: p.total, phases: p.phases, bytesPerSecond: Math.round(r), counts: p.counts }));
        return;
      }
      write(statusLine(p, r));
      for (const f of fresh.slice(0, MAX_FAILURE_LINES)) write(`  ✗ ${f}`);
      if (fresh.length > MAX_FAILURE_LINES) write(`  … ${fresh.length - MAX_FAILURE_LINES} more failures (listed in the account)`);
    },
    close() {},
  };
}

/** The terminal view: one block redrawn in place by log-update (loaded only here, only for a terminal). */
export async function terminalView(stream: NodeJS.WriteStream): Promise<ProgressView> {
  const { createLogUpdate } = await import('log-update');
  const draw = createLogUpdate(stream, { showCursor: true });
  const rate = new Rate();
  const started = Date.now();
  return {
    update(progress) {
      const p = snapshot(progress);
      draw(renderBlock(p, rate.add(Date.now(), p.bytes), Date.now() - started));
    },
    close() {
      draw.done();
    },
  };
}

/** The view for this process: the terminal block when `stream` is a TTY (and not --json), plain lines otherwise. */
export async function progressView(stream: NodeJS.WriteStream, io: Io, opts: { json: boolean; minIntervalMs?: number; lineTo?: 'stdout' | 'stderr' }): Promise<ProgressView> {
  if (stream.isTTY && !opts.json) return terminalView(stream);
  return plainView(opts.lineTo === 'stderr' ? io.stderr : io.stdout, { json: opts.json, minIntervalMs: opts.minIntervalMs });
}

/**
 * Poll a running promotion's progress into `view` every `intervalMs` until Temporal says it is no longer running.
 * Every call goes through the session, so a Temporal restart is waited out; a query that fails (no worker loaded
 * the run: a worker restarting) is retried at the next tick.
 */
export async function follow(session: TemporalSession, workflowId: string, view: ProgressView, intervalMs: number, sharded = false): Promise<void> {
  const handle = () => session.client.workflow.getHandle(workflowId);
  try {
    for (;;) {
      const desc = await session.call('waiting for', workflowId, () => handle().describe());
      if (desc.status.name !== 'RUNNING') break;
      try {
        const read = (): Promise<PromotionProgress | ProgressSnapshot> =>
          session.call('waiting for', workflowId, (): Promise<PromotionProgress | ProgressSnapshot> => (sharded ? handle().query(runProgressQuery).then(snapshotOfRun) : handle().query(progressQuery)));
        view.update(await read());
      } catch (e) {
        if (e instanceof CliError) throw e;
        // No worker answered the query this time: the next tick asks again.
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  } finally {
    view.close();
  }
}
