// What the CLI waits out and what it does not: Temporal being unreachable (gRPC UNAVAILABLE and friends, a
// namespace not loaded yet by a restarting server, a transport failure) versus an answer (a workflow not found, a
// run that failed). And the reconnect window's setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { isTemporalUnavailable, reconnectWindowMs } from '../../src/client/session';
import { CliError, EXIT } from '../../src/client/exit-codes';

const grpc = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });

test('unavailable: UNAVAILABLE, DEADLINE_EXCEEDED, a reset stream, a namespace not loaded yet, a bare transport failure', () => {
  assert.equal(isTemporalUnavailable(new ServiceError('Failed to get Workflow execution history', { cause: grpc(14, 'connection refused') })), true);
  assert.equal(isTemporalUnavailable(grpc(4, 'deadline exceeded')), true);
  assert.equal(isTemporalUnavailable(grpc(13, 'Received RST_STREAM with code 2')), true);
  assert.equal(isTemporalUnavailable(grpc(5, 'Namespace default is not found.')), true);
  assert.equal(isTemporalUnavailable(new ServiceError('Unexpected error while making gRPC request', { cause: new Error('socket closed') })), true);
});

test('answers: a workflow not found, invalid arguments, permission denied, a failed run, any other error', () => {
  assert.equal(isTemporalUnavailable(new WorkflowNotFoundError('not found', 'promote/x/1', undefined)), false);
  assert.equal(isTemporalUnavailable(new ServiceError('Failed to describe', { cause: grpc(5, 'workflow not found for ID: promote/x/1') })), false);
  assert.equal(isTemporalUnavailable(grpc(3, 'invalid argument')), false);
  assert.equal(isTemporalUnavailable(grpc(7, 'permission denied')), false);
  assert.equal(isTemporalUnavailable(new WorkflowFailedError('failed', undefined, 'NONE' as never)), false);
  assert.equal(isTemporalUnavailable(new Error('boom')), false);
});

test('PROMOFLOW_RECONNECT_SECONDS: default 300 s, seconds when set, one clear error otherwise', () => {
  const saved = process.env.PROMOFLOW_RECONNECT_SECONDS;
  try {
    delete process.env.PROMOFLOW_RECONNECT_SECONDS;
    assert.equal(reconnectWindowMs(), 300_000);
    process.env.PROMOFLOW_RECONNECT_SECONDS = '4.5';
    assert.equal(reconnectWindowMs(), 4500);
    process.env.PROMOFLOW_RECONNECT_SECONDS = 'soon';
    assert.throws(() => reconnectWindowMs(), (e: unknown) => e instanceof CliError && e.exitCode === EXIT.INVALID && /PROMOFLOW_RECONNECT_SECONDS="soon"/.test(e.message));
  } finally {
    if (saved === undefined) delete process.env.PROMOFLOW_RECONNECT_SECONDS;
    else process.env.PROMOFLOW_RECONNECT_SECONDS = saved;
  }
});
