// The CLI's handling of bad input: one clear line, a documented exit code, never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/client/cli';
import { CliError, EXIT } from '../../src/client/exit-codes';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) } };
}

async function failure(argv: string[]): Promise<CliError> {
  const { io: sink } = io();
  try {
    await main(argv, sink);
  } catch (e) {
    assert.ok(e instanceof CliError, `expected a CliError, got ${String(e)}`);
    return e;
  }
  assert.fail(`promoflow ${argv.join(' ')} did not fail`);
}

test('an unknown command is invalid input', async () => {
  const e = await failure(['frobnicate']);
  assert.equal(e.exitCode, EXIT.INVALID);
  assert.match(e.message, /unknown command "frobnicate"/);
});

test('an unknown flag is invalid input and names the flag', async () => {
  const e = await failure(['promote', '-f', 'x.yaml', '--confirmm']);
  assert.equal(e.exitCode, EXIT.INVALID);
  assert.match(e.message, /--confirmm/);
});

test('promote without -f says what is missing', async () => {
  const e = await failure(['promote']);
  assert.equal(e.exitCode, EXIT.INVALID);
  assert.match(e.message, /needs -f <manifest>/);
});

test('a missing manifest file names the file', async () => {
  const e = await failure(['promote', '-f', 'does/not/exist.yaml']);
  assert.equal(e.exitCode, EXIT.INVALID);
  assert.match(e.message, /does\/not\/exist\.yaml/);
  assert.doesNotMatch(e.message, /\n\s+at /, 'no stack trace');
});

test('invalid YAML names the file and the problem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'promoflow-cli-'));
  const f = join(dir, 'bad.yaml');
  writeFileSync(f, 'apiVersion: promoflow.dev/v1alpha1\nkind: [unclosed\n');
  const e = await failure(['promote', '-f', f]);
  assert.equal(e.exitCode, EXIT.INVALID);
  assert.match(e.message, /bad\.yaml/);
});

test('--concurrency must be a positive integer', async () => {
  const e = await failure(['promote', '-f', 'x.yaml', '--concurrency', '0']);
  assert.equal(e.exitCode, EXIT.INVALID);
  assert.match(e.message, /--concurrency must be a positive integer/);
});
