// `promoflow deployment …` and the worker's versioning, metrics and rate flags: bad input is one clear line with
// exit 2 before anything connects; an unreachable Temporal is exit 3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/client/cli';
import { CliError, EXIT } from '../../src/client/exit-codes';

async function failure(argv: string[]): Promise<CliError> {
  try {
    await main(argv, { stdout: () => undefined, stderr: () => undefined });
  } catch (e) {
    assert.ok(e instanceof CliError, `expected a CliError, got ${String(e)}`);
    assert.doesNotMatch(e.message, /\n/, 'one line');
    return e;
  }
  assert.fail(`promoflow ${argv.join(' ')} did not fail`);
}

const invalid: Array<[string[], RegExp]> = [
  [['deployment'], /expected set-current, ramp or describe/],
  [['deployment', 'promote', 'b1'], /expected set-current, ramp or describe/],
  [['deployment', 'set-current'], /set-current needs a build ID/],
  [['deployment', 'set-current', 'b1', 'b2'], /unexpected extra arguments/],
  [['deployment', 'set-current', 'b/1'], /a build ID is letters, digits/],
  [['deployment', 'set-current', 'b1', '--percentage', '5'], /--percentage applies to deployment ramp only/],
  [['deployment', 'ramp', 'b1'], /ramp needs --percentage/],
  [['deployment', 'ramp', 'b1', '--percentage', '101'], /--percentage is a number from 0 to 100/],
  [['deployment', 'ramp', 'b1', '--percentage', 'half'], /--percentage is a number from 0 to 100/],
  [['deployment', 'describe', 'b1'], /describe takes no build ID/],
  [['deployment', 'ramp', 'b1', '--percentage', '5', '--bogus'], /Unknown option '--bogus'/],
  [['worker', '--deployment', 'promoflow'], /--deployment needs --build-id/],
  [['worker', '--build-id', 'has space'], /a build ID is letters, digits/],
  [['worker', '--metrics-port', '99999'], /--metrics-port must be 1-65535/],
  [['worker', '--metrics-port', 'x'], /--metrics-port \(PROMOFLOW_METRICS_PORT\) must be a port number/],
  [['worker', '--queue-rps', '0'], /--queue-rps must be above 0/],
  [['worker', '--queue-rps', 'fast'], /--queue-rps is activities per second/],
];

for (const [argv, message] of invalid) {
  test(`promoflow ${argv.join(' ')}: exit 2`, async () => {
    const e = await failure(argv);
    assert.equal(e.exitCode, EXIT.INVALID);
    assert.match(e.message, message);
  });
}

test('PROMOFLOW_METRICS_PORT is checked like the flag', async () => {
  process.env.PROMOFLOW_METRICS_PORT = 'nope';
  try {
    const e = await failure(['worker']);
    assert.equal(e.exitCode, EXIT.INVALID);
    assert.match(e.message, /PROMOFLOW_METRICS_PORT/);
  } finally {
    delete process.env.PROMOFLOW_METRICS_PORT;
  }
});

test('deployment set-current against an unreachable Temporal: exit 3', async () => {
  const e = await failure(['deployment', 'set-current', 'b1', '--temporal-address', '127.0.0.1:1']);
  assert.equal(e.exitCode, EXIT.UNAVAILABLE);
  assert.match(e.message, /cannot reach Temporal at 127\.0\.0\.1:1/);
});
