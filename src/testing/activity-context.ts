// Runs a function as if it were an activity body (Context.current() works) without a Temporal worker, so unit
// tests can drive many concurrent activities over shared worker dependencies. Heartbeats go to `onHeartbeat`,
// metrics and logs are dropped. Mirrors the SDK's own MockActivityEnvironment (in @temporalio/testing, not a dependency here).
import { Context, asyncLocalStorage, type Info } from '@temporalio/activity';
import { noopMetricMeter, type Logger } from '@temporalio/common';

const quiet: Logger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export function runAsActivity<T>(fn: () => Promise<T>, info: Partial<Info> = {}, onHeartbeat: (details: unknown) => void = () => undefined): Promise<T> {
  const controller = new AbortController();
  const ctx = new Context(
    { attempt: 1, activityType: 'test', activityId: 'test', heartbeatDetails: undefined, ...info } as Info,
    new Promise<never>(() => undefined),
    controller.signal,
    onHeartbeat,
    undefined,
    quiet,
    noopMetricMeter,
    {},
  );
  return asyncLocalStorage.run(ctx, fn);
}
