// The exit code of a dry run (plan, promote without --confirm), apart from exit-codes.ts so that commands which
// never plan (--help, status) do not load the planner at start-up.
import { changeCount, problemCount, type Counts } from '../plan';
import { EXIT } from './exit-codes';

/**
 * A dry run's exit code (plan, promote without --confirm): refused edges are invalid input unless isolated; lost
 * digests are reported and skipped (kpromo's _LOST_) unless strictLost, where the run would end failed.
 */
export function planExitCode(c: Counts, opts: { skipInvalid: boolean; strictLost: boolean }): number {
  if (problemCount(c) > 0 && !opts.skipInvalid) return EXIT.INVALID;
  if (opts.strictLost && c.lost > 0) return EXIT.FAILED;
  return changeCount(c) > 0 ? EXIT.CHANGES_PLANNED : EXIT.OK;
}
