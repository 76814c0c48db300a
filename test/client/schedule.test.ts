// Bad input to reconcile, schedule and snapshot is one clear line and exit 2, before anything is contacted; and
// the snapshot formats (kpromo images.yaml, CSV) load back as kpromo images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/client/cli';
import { CliError, EXIT } from '../../src/client/exit-codes';
import { toCsv, toImagesYaml } from '../../src/client/snapshot';
import { reconcileWorkflowId } from '../../src/client/reconcile';

async function failure(argv: string[]): Promise<CliError> {
  try {
    await main(argv, { stdout: () => undefined, stderr: () => undefined });
  } catch (e) {
    assert.ok(e instanceof CliError, `expected a CliError, got ${String(e)}`);
    return e;
  }
  assert.fail(`promoflow ${argv.join(' ')} did not fail`);
}

const cases: Array<[string[], RegExp]> = [
  [['reconcile'], /reconcile needs -f <manifest>/],
  [['reconcile', '-f', 'm.yaml', '--repare'], /--repare/],
  [['schedule'], /expected one of create, update, pause, unpause, trigger, delete, describe/],
  [['schedule', 'explode', 'x'], /expected one of/],
  [['schedule', 'create'], /schedule needs a schedule ID/],
  [['schedule', 'create', 'bad id!', '-f', 'm.yaml', '--every', '1h'], /the schedule ID is letters/],
  [['schedule', 'create', 's', '-f', 'm.yaml', '--every', '2'], /--every is a duration such as 30s/],
  [['schedule', 'create', 's', '-f', 'm.yaml', '--every', '1h', '--catchup-window', 'soon'], /--catchup-window is a duration/],
  [['schedule', 'create', 's', '-f', 'm.yaml'], /exactly one of --every DURATION or --cron/],
  [['schedule', 'create', 's', '-f', 'm.yaml', '--every', '1h', '--cron', '* * * * *'], /exactly one of --every/],
  [['schedule', 'update', 's', '--every', '1h'], /needs -f <manifest>/],
  [['schedule', 'create', 's', '-f', 'm.yaml', '--every', '1h', '--ref', 'main'], /--ref needs --git <repository>/],
  [['store'], /expected gc/],
  [['store', 'gc', '--older-than', 'soon'], /--older-than is an age such as 12h or 7d/],
  [['snapshot'], /snapshot needs a registry\/repository prefix/],
  [['snapshot', 'reg.example/p', '--format', 'json'], /--format is yaml or csv/],
];
for (const [argv, message] of cases) {
  test(`promoflow ${argv.join(' ')} → exit 2: ${message.source}`, async () => {
    const e = await failure(argv);
    assert.equal(e.exitCode, EXIT.INVALID);
    assert.match(e.message, message);
    assert.equal(e.message.split('\n').length, 1);
  });
}

test('snapshot renders kpromo images.yaml and CSV', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  const images = [{ name: 'foo/bar', dmap: { [d]: ['v1', 'v2'] } }];
  assert.equal(toImagesYaml(images), `- name: foo/bar\n  dmap:\n    "${d}": ["v1", "v2"]`);
  assert.equal(toCsv(images), `name,digest,tag\nfoo/bar,${d},v1\nfoo/bar,${d},v2`);
});

test('reconcile workflow IDs are readable and distinct per millisecond', () => {
  assert.equal(reconcileWorkflowId('my app', new Date('2026-11-26T10:00:00.123Z')), 'reconcile/my-app/20261126T100000.123Z');
});
