// The promoflow command line: argument parsing (strict: an unknown flag is an error), dispatch to commands, and
// the one place errors become a single line and an exit code. No stack trace reaches the user unless
// PROMOFLOW_DEBUG is set.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { DEFAULT_STATE_DIR } from '../dev';
import { CliError, EXIT } from './exit-codes';
import { PROMOFLOW_VERSION } from '../version';
import { readSpecInventory, runPromote, type Io } from './promote';
import { runPlanCommand } from './commands/plan';
import { runCheckKpromo } from './commands/check-kpromo';
import { runStatus } from './status';
import { runDevUp, runWorker } from './worker-command';
import { runDeployment } from './deployment';
import { DEFAULT_DEPLOYMENT } from '../worker';
import { runDemo } from './demo';
import { runControl } from './control';
import { runWatch } from './watch';
import { runReconcile } from './reconcile';
import { runSchedule, SCHEDULE_SUBCOMMANDS, durationFlag, scheduleIdSchema } from './schedule';
import { runSnapshot } from './snapshot';

const USAGE = `promoflow: declarative, durable container image promotion on Temporal

Usage:
  promoflow promote -f <manifest> [--confirm] [--no-wait] [--json] [--commit SHA] [--concurrency N]
                    [--skip-invalid] [--strict-layout] [--strict-lost] [--overlay FILE] [--limit N]
                    [--diff-base REV [--diff-head REV]]
  promoflow plan -f <manifest> [--json] [--limit N] [--overlay FILE] [--skip-invalid] [--strict-layout] [--strict-lost]
  promoflow check-kpromo <thin-layout dir | promoter-manifest.yaml> [--json] [--limit N]
  promoflow status <workflow-id> [--json]
  promoflow watch <workflow-id> [--interval SECONDS] [--json]
  promoflow approve|reject <workflow-id> [--by NAME] [--reason TEXT] [--phase NAME]
  promoflow pause|resume|abort <workflow-id> [--by NAME] [--reason TEXT]
  promoflow worker [--task-queue Q] [--concurrency N] [--deployment NAME --build-id ID] [--metrics-port P] [--queue-rps N]
  promoflow deployment set-current <build-id> [--deployment NAME]
  promoflow deployment ramp <build-id> --percentage N [--deployment NAME]
  promoflow deployment describe [--deployment NAME]
  promoflow reconcile -f <manifest> [--repair] [--json|--markdown] [--public-key FILE] [--no-wait]
  promoflow schedule create|update <schedule-id> -f <manifest> (--every 1h | --cron "EXPR") [--repair]
                    [--catchup-window 5m] [--public-key FILE] [--note TEXT]
  promoflow schedule pause|unpause|trigger|delete|describe <schedule-id> [--note TEXT] [--json]
  promoflow snapshot <registry/repo-prefix> [--format yaml|csv]
  promoflow dev up [--registries staging,prod,...]
  promoflow demo [--keep]

Common flags: --temporal-address HOST:PORT (or TEMPORAL_ADDRESS), --namespace NS (or TEMPORAL_NAMESPACE),
              --state-dir DIR (embedded environment state, default ${DEFAULT_STATE_DIR})
Exit codes: 0 ok · 1 run failed (see the account) · 2 invalid input · 3 environment unavailable ·
            4 rejected or aborted · 10 dry run with changes planned`;

const common = {
  'temporal-address': { type: 'string' },
  namespace: { type: 'string' },
  'state-dir': { type: 'string', default: DEFAULT_STATE_DIR },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

const positiveInt = (flag: string) =>
  z.string().regex(/^[1-9]\d*$/, `--${flag} must be a positive integer`).transform(Number).optional();

const buildIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a build ID is letters, digits, dots, dashes and underscores (e.g. a git SHA or 1.4.0)');

const workerFlags = z
  .object({
    concurrency: positiveInt('concurrency'),
    deployment: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, '--deployment (PROMOFLOW_DEPLOYMENT) is letters, digits, dashes and underscores').optional(),
    buildId: buildIdSchema.optional(),
    metricsPort: z.string().regex(/^\d+$/, '--metrics-port (PROMOFLOW_METRICS_PORT) must be a port number').transform(Number).refine((n) => n > 0 && n < 65536, '--metrics-port must be 1-65535').optional(),
    queueRps: z.string().regex(/^\d+(\.\d+)?$/, '--queue-rps is activities per second, e.g. 20 or 0.5').transform(Number).refine((n) => n > 0, '--queue-rps must be above 0').optional(),
  })
  .refine((w) => !w.deployment || w.buildId, { message: '--deployment needs --build-id (or PROMOFLOW_BUILD_ID): a versioned worker is one build of a deployment' });

const deploymentFlags = (verb: 'set-current' | 'ramp' | 'describe') =>
  z
    .object({
      buildId: verb === 'describe' ? z.undefined({ error: 'deployment describe takes no build ID' }) : buildIdSchema.optional().refine((b) => b !== undefined, `deployment ${verb} needs a build ID`),
      percentage: verb === 'ramp'
        ? z.string({ error: 'deployment ramp needs --percentage N (0-100; 0 stops the ramp)' }).regex(/^\d+(\.\d+)?$/, '--percentage is a number from 0 to 100').transform(Number).refine((n) => n <= 100, '--percentage is a number from 0 to 100')
        : z.undefined({ error: `--percentage applies to deployment ramp only` }),
      extra: z.array(z.string()).max(0, 'unexpected extra arguments'),
    });

function parse<O extends ParseArgsConfig['options']>(cmd: string, argv: string[], options: O, positionals = false) {
  try {
    return parseArgs({ args: argv, options: { ...common, ...options }, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new CliError(`promoflow ${cmd}: ${(e as Error).message} (see promoflow --help)`, EXIT.INVALID);
  }
}

function check<T>(schema: z.ZodType<T>, value: unknown, cmd: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new CliError(`promoflow ${cmd}: ${r.error.issues.map((i) => i.message).join('; ')}`, EXIT.INVALID);
  return r.data;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE);
      return cmd === undefined ? EXIT.INVALID : EXIT.OK;
    case 'promote': {
      const { values } = parse('promote', rest, {
        file: { type: 'string', short: 'f' },
        confirm: { type: 'boolean', default: false },
        wait: { type: 'boolean', default: true },
        'no-wait': { type: 'boolean', default: false },
        commit: { type: 'string' },
        concurrency: { type: 'string' },
        'skip-invalid': { type: 'boolean', default: false },
        'strict-layout': { type: 'boolean', default: false },
        'strict-lost': { type: 'boolean', default: false },
        overlay: { type: 'string' },
        limit: { type: 'string' },
        'diff-base': { type: 'string' },
        'diff-head': { type: 'string' },
      });
      if (values.help) return (io.stdout(USAGE), EXIT.OK);
      const file = check(z.string({ error: 'promote needs -f <manifest>' }).min(1, 'promote needs -f <manifest>'), values.file, 'promote');
      const concurrency = check(positiveInt('concurrency'), values.concurrency, 'promote');
      const limit = check(positiveInt('limit'), values.limit, 'promote');
      return runPromote(
        { file, confirm: values.confirm, wait: values.wait && !values['no-wait'], json: values.json, commit: values.commit, concurrency, skipInvalid: values['skip-invalid'], strictLayout: values['strict-layout'], strictLost: values['strict-lost'], overlay: values.overlay, limit, diffBase: values['diff-base'], diffHead: values['diff-head'], stateDir: values['state-dir'], temporalAddress: values['temporal-address'], namespace: values.namespace },
        io,
      );
    }
    case 'plan':
      // The planner's own parser; inventories come from the live registries unless --inventory names a file.
      return runPlanCommand(rest, { stdout: (t) => io.stdout(t.replace(/\n$/, '')), stderr: (t) => io.stderr(t.replace(/\n$/, '')) }, {
        inventory: readSpecInventory,
      });
    case 'check-kpromo':
      return runCheckKpromo(rest, io);
    case 'status': {
      const { values, positionals } = parse('status', rest, {}, true);
      const id = check(z.string({ error: 'status needs a workflow ID' }), positionals[0], 'status');
      return runStatus({ workflowId: id, json: values.json, stateDir: values['state-dir'], temporalAddress: values['temporal-address'], namespace: values.namespace }, io);
    }
    case 'approve':
    case 'reject':
    case 'pause':
    case 'resume':
    case 'abort': {
      const { values, positionals } = parse(cmd, rest, { by: { type: 'string' }, reason: { type: 'string' }, phase: { type: 'string' } }, true);
      const id = check(z.string({ error: `${cmd} needs a workflow ID` }), positionals[0], cmd);
      return runControl(cmd, { workflowId: id, by: values.by, reason: values.reason, phase: values.phase, json: values.json, stateDir: values['state-dir'], temporalAddress: values['temporal-address'], namespace: values.namespace }, io);
    }
    case 'watch': {
      const { values, positionals } = parse('watch', rest, { interval: { type: 'string', default: '1' } }, true);
      const id = check(z.string({ error: 'watch needs a workflow ID' }), positionals[0], 'watch');
      const interval = check(z.string().regex(/^\d+(\.\d+)?$/, '--interval is seconds, e.g. 2 or 0.5').transform(Number), values.interval, 'watch');
      return runWatch({ workflowId: id, json: values.json, intervalMs: interval * 1000, stateDir: values['state-dir'], temporalAddress: values['temporal-address'], namespace: values.namespace }, io);
    }
    case 'worker': {
      const { values } = parse('worker', rest, {
        'task-queue': { type: 'string' },
        concurrency: { type: 'string' },
        deployment: { type: 'string' },
        'build-id': { type: 'string' },
        'metrics-port': { type: 'string' },
        'queue-rps': { type: 'string' },
      });
      const w = check(workerFlags, {
        concurrency: values.concurrency,
        deployment: values.deployment ?? process.env.PROMOFLOW_DEPLOYMENT,
        buildId: values['build-id'] ?? process.env.PROMOFLOW_BUILD_ID,
        metricsPort: values['metrics-port'] ?? process.env.PROMOFLOW_METRICS_PORT,
        queueRps: values['queue-rps'],
      }, 'worker');
      return runWorker(
        {
          stateDir: values['state-dir'], temporalAddress: values['temporal-address'], namespace: values.namespace, taskQueue: values['task-queue'], concurrency: w.concurrency,
          deployment: w.buildId ? { name: w.deployment ?? DEFAULT_DEPLOYMENT, buildId: w.buildId } : undefined, metricsPort: w.metricsPort, queueRps: w.queueRps,
        },
        io,
      );
    }
    case 'deployment': {
      const [verb, ...args] = rest;
      const v = check(z.enum(['set-current', 'ramp', 'describe'], { error: 'expected set-current, ramp or describe' }), verb, 'deployment');
      const { values, positionals } = parse(`deployment ${v}`, args, { deployment: { type: 'string' }, percentage: { type: 'string' } }, true);
      const d = check(deploymentFlags(v), { buildId: positionals[0], percentage: values.percentage, extra: positionals.slice(1) }, `deployment ${v}`);
      return runDeployment({ verb: v, buildId: d.buildId, percentage: d.percentage, deployment: values.deployment, json: values.json, stateDir: values['state-dir'], temporalAddress: values['temporal-address'], namespace: values.namespace }, io);
    }
    case 'reconcile': {
      const { values } = parse('reconcile', rest, {
        file: { type: 'string', short: 'f' },
        repair: { type: 'boolean', default: false },
        markdown: { type: 'boolean', default: false },
        'public-key': { type: 'string' },
        'no-wait': { type: 'boolean', default: false },
        commit: { type: 'string' },
      });
      if (values.help) return (io.stdout(USAGE), EXIT.OK);
      const file = check(z.string({ error: 'reconcile needs -f <manifest>' }).min(1, 'reconcile needs -f <manifest>'), values.file, 'reconcile');
      return runReconcile({ file, repair: values.repair, json: values.json, markdown: values.markdown, wait: !values['no-wait'], publicKey: values['public-key'], commit: values.commit, stateDir: values['state-dir'], temporalAddress: values['temporal-address'], namespace: values.namespace }, io);
    }
    case 'schedule': {
      const [verb, ...args] = rest;
      const sub = check(z.enum(SCHEDULE_SUBCOMMANDS, { error: `expected one of ${SCHEDULE_SUBCOMMANDS.join(', ')}` }), verb, 'schedule');
      const { values, positionals } = parse(`schedule ${sub}`, args, {
        file: { type: 'string', short: 'f' },
        every: { type: 'string' },
        cron: { type: 'string' },
        'catchup-window': { type: 'string', default: '5m' },
        repair: { type: 'boolean', default: false },
        'public-key': { type: 'string' },
        note: { type: 'string' },
      }, true);
      const id = check(scheduleIdSchema, positionals[0], `schedule ${sub}`);
      const every = check(durationFlag('every').optional(), values.every, `schedule ${sub}`);
      const catchupWindow = check(durationFlag('catchup-window'), values['catchup-window'], `schedule ${sub}`);
      return runSchedule({ sub, id, file: values.file, every, cron: values.cron, catchupWindow, repair: values.repair, publicKey: values['public-key'], note: values.note, json: values.json, stateDir: values['state-dir'], temporalAddress: values['temporal-address'], namespace: values.namespace }, io);
    }
    case 'snapshot': {
      const { values, positionals } = parse('snapshot', rest, { format: { type: 'string', default: 'yaml' } }, true);
      const prefix = check(z.string({ error: 'snapshot needs a registry/repository prefix' }).regex(/^[A-Za-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/, 'snapshot needs host[:port][/path], e.g. registry.example.com/prod'), positionals[0], 'snapshot');
      const format = check(z.enum(['yaml', 'csv'], { error: '--format is yaml or csv' }), values.format, 'snapshot');
      return runSnapshot({ prefix, format }, io);
    }
    case 'dev': {
      const [sub, ...args] = rest;
      if (sub !== 'up') throw new CliError('promoflow dev: expected `promoflow dev up`', EXIT.INVALID);
      const { values } = parse('dev up', args, { registries: { type: 'string', default: 'staging,prod,mirror-eu,mirror-us' } });
      const names = check(z.array(z.string().regex(/^[a-z0-9-]+$/, '--registries: names are lowercase letters, digits and dashes')).min(1), values.registries.split(','), 'dev up');
      return runDevUp({ stateDir: values['state-dir'], registries: names }, io);
    }
    case 'demo': {
      const { values } = parse('demo', rest, { keep: { type: 'boolean', default: false } });
      return runDemo({ stateDir: values['state-dir'], keep: values.keep }, io);
    }
    case 'version':
    case '--version':
      io.stdout(`promoflow ${PROMOFLOW_VERSION}`);
      return EXIT.OK;
    default:
      throw new CliError(`promoflow: unknown command "${cmd}" (see promoflow --help)`, EXIT.INVALID);
  }
}

export async function run(argv: string[]): Promise<void> {
  const io: Io = { stdout: (s) => process.stdout.write(s + '\n'), stderr: (s) => process.stderr.write(s + '\n') };
  let code: number;
  try {
    code = await main(argv, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.stderr(`promoflow: error: ${e.message}`);
      code = e.exitCode;
    } else {
      const err = e as Error;
      io.stderr(`promoflow: error: ${err.message?.split('\n')[0] ?? String(e)}`);
      if (process.env.PROMOFLOW_DEBUG) io.stderr(err.stack ?? '');
      code = EXIT.FAILED;
    }
  }
  process.exitCode = code;
}
