// The promoflow command line: the usage text, dispatch to one module per command (src/client/commands, each
// loaded only when its command runs, so `--help` or `plan` never load the Temporal worker runtime), and the one
// place errors become a single line and an exit code. No stack trace reaches the user unless PROMOFLOW_DEBUG is set.
import { DEFAULT_STATE_DIR } from './state-dir';
import { CliError, EXIT, HelpRequested } from './exit-codes';
import type { Command } from './flags';
import type { Io } from './promote';
import { PROMOFLOW_VERSION } from '../version';

const USAGE = `promoflow: declarative, durable container image promotion on Temporal

Usage:
  promoflow promote -f <manifest> [--confirm] [--no-wait] [--json] [--commit SHA] [--concurrency N]
                    [--skip-invalid] [--strict-layout] [--strict-lost] [--overlay FILE] [--limit N]
                    [--diff-base REV [--diff-head REV]] [--credentials FILE]
  promoflow plan -f <manifest> [--json] [--limit N] [--overlay FILE] [--skip-invalid] [--strict-layout] [--strict-lost]
  promoflow check-kpromo <thin-layout dir | promoter-manifest.yaml> [--json] [--limit N]
  promoflow status <workflow-id> [--json]
  promoflow watch <workflow-id> [--interval SECONDS] [--json]
  promoflow approve|reject <workflow-id> [--by NAME] [--reason TEXT] [--phase NAME]
  promoflow pause|resume|abort <workflow-id> [--by NAME] [--reason TEXT]
  promoflow worker [--task-queue Q] [--concurrency N] [--deployment NAME --build-id ID] [--metrics-port P] [--queue-rps N]
                   [--credentials FILE]
  promoflow deployment set-current <build-id> [--deployment NAME]
  promoflow deployment ramp <build-id> --percentage N [--deployment NAME]
  promoflow deployment describe [--deployment NAME]
  promoflow reconcile -f <manifest> [--repair] [--json|--markdown] [--public-key FILE] [--no-wait]
  promoflow schedule create|update <schedule-id> -f <manifest> [--git REPO [--ref REF]] (--every 1h | --cron "EXPR")
                    [--repair] [--catchup-window 5m] [--public-key FILE] [--note TEXT]
                    (with --git, -f is the manifest path inside REPO and each run reconciles REF's current head;
                    without, each run re-reads -f, which every worker must be able to read)
  promoflow schedule pause|unpause|trigger|delete|describe <schedule-id> [--note TEXT] [--json]
  promoflow snapshot <registry/repo-prefix> [--format yaml|csv]
  promoflow trusted-root [--out FILE]   (the sigstore trusted root through TUF, for air-gapped workers and cosign)
  promoflow verify <registry/image@sha256:… | registry/image:tag> --policy FILE [--json]
  promoflow store gc [--older-than 7d] [--dry-run] [--json]   (state store retention: keeps what open runs use)
  promoflow dev up [--registries staging,prod,...]
  promoflow demo [--keep]

Common flags: --temporal-address HOST:PORT (or TEMPORAL_ADDRESS), --namespace NS (or TEMPORAL_NAMESPACE),
              --state-dir DIR (embedded environment state, default ${DEFAULT_STATE_DIR})
Credentials:  --credentials FILE (or PROMOFLOW_CREDENTIALS) binds registry credentials to hosts on the worker and
              on the planning host; a manifest may only name one (README, Registry credentials)
Exit codes: 0 ok · 1 run failed (see the account) · 2 invalid input · 3 environment unavailable (also:
            Temporal unreachable for PROMOFLOW_RECONNECT_SECONDS, default 300, while waiting on a run) ·
            4 rejected or aborted · 10 dry run with changes planned`;

const load = (m: Promise<{ run: Command }>): Promise<Command> => m.then((x) => x.run);

/** Each command's module, imported on first use. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  promote: () => load(import('./commands/promote.js')),
  plan: () => load(import('./commands/plan.js')),
  'check-kpromo': () => load(import('./commands/check-kpromo.js')),
  status: () => load(import('./commands/status.js')),
  watch: () => load(import('./commands/watch.js')),
  approve: () => load(import('./commands/control.js')),
  reject: () => load(import('./commands/control.js')),
  pause: () => load(import('./commands/control.js')),
  resume: () => load(import('./commands/control.js')),
  abort: () => load(import('./commands/control.js')),
  worker: () => load(import('./commands/worker.js')),
  deployment: () => load(import('./commands/deployment.js')),
  reconcile: () => load(import('./commands/reconcile.js')),
  schedule: () => load(import('./commands/schedule.js')),
  snapshot: () => load(import('./commands/snapshot.js')),
  'trusted-root': () => load(import('./commands/trusted-root.js')),
  verify: () => load(import('./commands/verify.js')),
  store: () => load(import('./commands/store.js')),
  dev: () => load(import('./commands/dev.js')),
  demo: () => load(import('./commands/demo.js')),
};

export async function main(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE);
      return cmd === undefined ? EXIT.INVALID : EXIT.OK;
    case 'version':
    case '--version':
      io.stdout(`promoflow ${PROMOFLOW_VERSION}`);
      return EXIT.OK;
  }
  const command = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!command) throw new CliError(`promoflow: unknown command "${cmd}" (see promoflow --help)`, EXIT.INVALID);
  try {
    return await (await command())(rest, io, cmd);
  } catch (e) {
    if (!(e instanceof HelpRequested)) throw e;
    io.stdout(USAGE);
    return EXIT.OK;
  }
}

/**
 * An error from talking to Temporal (the SDK's ServiceError, or a gRPC status under it), recognised by shape so
 * that --help need not load the Temporal client.
 */
function fromTemporal(e: unknown): boolean {
  for (let x: unknown = e; x instanceof Error; x = (x as { cause?: unknown }).cause) {
    if (x.name === 'ServiceError' || (typeof (x as { details?: unknown }).details === 'string' && typeof (x as { code?: unknown }).code === 'number' && 'metadata' in x)) return true;
  }
  return false;
}

/** `main`, with every error turned into one line on stderr and its exit code. */
export async function execute(argv: string[], io: Io): Promise<number> {
  try {
    return await main(argv, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.stderr(`promoflow: error: ${e.message}`);
      return e.exitCode;
    }
    const err = e as Error;
    io.stderr(`promoflow: error: ${err.message?.split('\n')[0] ?? String(e)}`);
    if (process.env.PROMOFLOW_DEBUG) io.stderr(err.stack ?? '');
    // Exit 1 says "the run failed": an error talking to Temporal never says that.
    return fromTemporal(e) ? EXIT.UNAVAILABLE : EXIT.FAILED;
  }
}

/** The process entry (bin/promoflow.js). */
export async function run(argv: string[]): Promise<void> {
  process.exitCode = await execute(argv, stdio);
}

/** Lines to the process's own stdout and stderr. */
export const stdio: Io = { stdout: (s) => void process.stdout.write(s + '\n'), stderr: (s) => void process.stderr.write(s + '\n') };
