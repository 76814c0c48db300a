// `promoflow schedule create|update|pause|unpause|trigger|delete|describe`: a Temporal Schedule that runs the
// Reconcile workflow on an interval or a cron expression, with overlap policy SKIP (a slow scan is never doubled)
// and an explicit catch-up window (after an outage, one late run rather than a burst). create and update are
// idempotent: create on an existing schedule updates it, and re-applying the same definition is not an error.
// The schedule stores WHERE the manifests are, never a copy: a git repository (URL or path the workers can reach)
// + ref + manifest path (`--git`, `--ref`), or a manifest file/directory every worker can read (`-f` alone). Each
// scheduled run resolves it in an activity (git fetch of the ref → commit → load → bundle in the state store), so
// it reconciles the manifests at the source's current head. create validates the source once before saving it.
import { isAbsolute, resolve } from 'node:path';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleOptionsStartWorkflowAction, type ScheduleSpec } from '@temporalio/client';
import { z } from 'zod';
import { TASK_QUEUE, type ReconcileRunInput, type ReconcileSource } from '../contract';
import { loadGitHead } from '../activities';
import { reconcileRun } from '../workflows';
import { connect, resolveTarget } from './connection';
import { CliError, EXIT } from './exit-codes';
import { loadSpecOrFail, type Io } from './promote';
import { publicKeyRef } from './reconcile';

export const SCHEDULE_SUBCOMMANDS = ['create', 'update', 'pause', 'unpause', 'trigger', 'delete', 'describe'] as const;
export type ScheduleSubcommand = (typeof SCHEDULE_SUBCOMMANDS)[number];

/** A Temporal duration as people write it: 30s, 5m, 1h, 1d (Temporal schedules have 1 s granularity). */
export const durationFlag = (flag: string) => z.string().regex(/^[1-9]\d*(s|m|h|d)$/, `--${flag} is a duration such as 30s, 5m, 1h or 1d`);
export const scheduleIdSchema = z.string({ error: 'schedule needs a schedule ID' }).regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/, 'the schedule ID is letters, digits, ., _, - and / (at most 200)');

export interface ScheduleOptions {
  sub: ScheduleSubcommand;
  id: string;
  file?: string;
  /** A git repository (URL, or a path on the workers) holding the manifests at `-f` (a path inside it). */
  git?: string;
  ref?: string;
  every?: string;
  cron?: string;
  catchupWindow: string;
  repair: boolean;
  publicKey?: string;
  note?: string;
  json: boolean;
  stateDir: string;
  temporalAddress?: string;
  namespace?: string;
}

function specOf(o: ScheduleOptions): ScheduleSpec {
  if (!!o.every === !!o.cron) throw new CliError(`promoflow schedule ${o.sub}: give exactly one of --every DURATION or --cron "EXPR"`, EXIT.INVALID);
  return o.every ? { intervals: [{ every: o.every }] } : { cronExpressions: [o.cron!] };
}

/** The schedule's source, checked once now (a bad repository, ref or manifest is exit 2 with nothing saved). */
async function sourceOf(o: ScheduleOptions, io: Io): Promise<{ name: string; source: ReconcileSource; publicKey?: string }> {
  if (!o.file) throw new CliError(`promoflow schedule ${o.sub}: needs -f <manifest> (with --git: its path inside the repository)`, EXIT.INVALID);
  if (o.git) {
    const ref = o.ref ?? 'HEAD';
    const repository = /^[a-z][a-z0-9+.-]*:\/\//i.test(o.git) || /^[^/]+@[^:]+:/.test(o.git) ? o.git : resolve(o.git);
    let spec;
    try {
      ({ spec } = await loadGitHead(repository, ref, o.file));
    } catch (e) {
      throw new CliError(`promoflow schedule ${o.sub}: --git ${o.git} --ref ${ref} -f ${o.file}: ${(e as Error).message.split('\n').slice(0, 5).join('\n')}`, EXIT.INVALID);
    }
    const publicKey = publicKeyRef(spec, o.publicKey);
    return { name: spec.name, source: { kind: 'git', repository, ref, path: o.file }, ...(publicKey && o.publicKey ? { publicKey } : {}) };
  }
  if (o.ref) throw new CliError(`promoflow schedule ${o.sub}: --ref needs --git <repository>`, EXIT.INVALID);
  const spec = await loadSpecOrFail(o.file, io);
  const publicKey = o.publicKey ? publicKeyRef(spec, o.publicKey) : undefined;
  return { name: spec.name, source: { kind: 'dir', path: isAbsolute(o.file) ? o.file : resolve(o.file) }, ...(publicKey ? { publicKey } : {}) };
}

async function actionOf(o: ScheduleOptions, io: Io): Promise<ScheduleOptionsStartWorkflowAction<typeof reconcileRun>> {
  const { name, source, publicKey } = await sourceOf(o, io);
  const input: ReconcileRunInput = { name, source, ...(publicKey ? { publicKey } : {}), repair: o.repair };
  return {
    type: 'startWorkflow',
    workflowType: reconcileRun,
    // Temporal appends the scheduled time to this ID, so every run is distinct and sorts by time.
    workflowId: `reconcile/${o.id}`,
    taskQueue: TASK_QUEUE,
    args: [input],
    staticSummary: `scheduled reconcile ${name}${o.repair ? ' (repair)' : ''}`,
  };
}

function describeLines(d: ScheduleDescription): string[] {
  const spec = d.spec.intervals?.length ? `every ${d.spec.intervals.map((i) => `${Number(i.every) / 1000}s`).join(', ')}` : 'calendar (cron)';
  const lines = [
    `schedule ${d.scheduleId}: ${d.state.paused ? 'PAUSED' : 'active'}${d.state.note ? ` (${d.state.note})` : ''}`,
    `  spec: ${spec} · overlap ${d.policies.overlap} · catch-up window ${Number(d.policies.catchupWindow) / 1000}s`,
    `  runs: ${d.info.numActionsTaken} taken, ${d.info.numActionsSkippedOverlap} skipped (overlap), ${d.info.runningActions.length} running`,
  ];
  for (const a of d.info.recentActions.slice(-5)) lines.push(`  recent: ${a.takenAt.toISOString()} ${a.action.workflow.workflowId}`);
  for (const t of d.info.nextActionTimes.slice(0, 3)) lines.push(`  next: ${t.toISOString()}`);
  return lines;
}

export async function runSchedule(o: ScheduleOptions, io: Io): Promise<number> {
  // Validate everything the command needs before connecting: bad input is exit 2 with nothing touched.
  const needsDefinition = o.sub === 'create' || o.sub === 'update';
  const spec = needsDefinition ? specOf(o) : undefined;
  const action = needsDefinition ? await actionOf(o, io) : undefined;
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: o.catchupWindow };
  const client: Client = await connect(resolveTarget(o));
  const say = (what: string, extra: Record<string, unknown> = {}) => io.stdout(o.json ? JSON.stringify({ scheduleId: o.id, result: what, ...extra }) : `promoflow: schedule ${o.id}: ${what}`);
  const handle = client.schedule.getHandle(o.id);
  try {
    switch (o.sub) {
      case 'create':
        try {
          await client.schedule.create({ scheduleId: o.id, spec: spec!, action: action!, policies, state: { paused: false, ...(o.note ? { note: o.note } : {}) } });
          say('created');
        } catch (e) {
          if (!(e instanceof ScheduleAlreadyRunning)) throw e;
          await handle.update((prev) => ({ ...prev, spec: spec!, action: action!, policies: { ...prev.policies, ...policies } }));
          say('already existed: updated to this definition');
        }
        return EXIT.OK;
      case 'update':
        await handle.update((prev) => ({ ...prev, spec: spec!, action: action!, policies: { ...prev.policies, ...policies } }));
        say('updated');
        return EXIT.OK;
      case 'pause':
        await handle.pause(o.note ?? 'paused with promoflow schedule pause');
        say('paused');
        return EXIT.OK;
      case 'unpause':
        await handle.unpause(o.note ?? 'unpaused with promoflow schedule unpause');
        say('unpaused');
        return EXIT.OK;
      case 'trigger':
        await handle.trigger(ScheduleOverlapPolicy.SKIP);
        say('triggered');
        return EXIT.OK;
      case 'delete':
        try {
          await handle.delete();
          say('deleted');
        } catch (e) {
          if (!(e instanceof ScheduleNotFoundError)) throw e;
          say('not found: nothing to delete');
        }
        return EXIT.OK;
      case 'describe': {
        const d = await handle.describe();
        if (o.json) {
          io.stdout(
            JSON.stringify({
              scheduleId: d.scheduleId,
              paused: d.state.paused,
              note: d.state.note,
              spec: d.spec,
              overlap: d.policies.overlap,
              catchupWindowMs: Number(d.policies.catchupWindow),
              actionsTaken: d.info.numActionsTaken,
              recentActions: d.info.recentActions.map((a) => ({ takenAt: a.takenAt.toISOString(), workflowId: a.action.workflow.workflowId, runId: a.action.workflow.firstExecutionRunId })),
              nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
            }),
          );
        } else io.stdout(describeLines(d).join('\n'));
        return EXIT.OK;
      }
    }
  } catch (e) {
    if (e instanceof ScheduleNotFoundError) throw new CliError(`schedule ${o.id} does not exist (create it with promoflow schedule create)`, EXIT.INVALID);
    throw e;
  } finally {
    await client.connection.close();
  }
}
