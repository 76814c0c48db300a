// promoflow's exit codes, documented in README.md. CI scripts branch on these.
export const EXIT = {
  /** Success: everything promoted (or already present), or a dry run with nothing to do. */
  OK: 0,
  /** The run ended and some image × destination was not promoted (failed, lost source, skipped). */
  FAILED: 1,
  /** Invalid input: bad flags, a missing or invalid manifest. Nothing was started. */
  INVALID: 2,
  /** The environment is not usable: Temporal or a registry unreachable, a tool missing. */
  UNAVAILABLE: 3,
  /** The run was rejected at an approval gate or aborted. */
  REJECTED: 4,
  /** Dry run: changes are planned (re-run with --confirm to apply them). */
  CHANGES_PLANNED: 10,
} as const;

/** The exit code of a finished promotion run. */
export function exitCodeFor(r: { status: string }): number {
  if (r.status === 'succeeded') return EXIT.OK;
  if (r.status === 'rejected' || r.status === 'aborted') return EXIT.REJECTED;
  return EXIT.FAILED;
}

/** An error that the CLI prints as one line and maps to an exit code: never a stack trace. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = 'CliError';
  }
}

/** Thrown when a command's flags were valid and --help was among them: the CLI prints its usage and exits 0. */
export class HelpRequested extends Error {
  constructor() {
    super('help requested');
    this.name = 'HelpRequested';
  }
}
