// End to end through the CLI, as a user runs it: a real Temporal dev server, real registries, `promoflow worker`
// and `promoflow promote` as child processes, and the result checked with skopeo and the temporal CLI.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient } from '../../src/oci';
import { buildImage, buildIndex, pushImage } from '../../src/dev/sample-images';
import { runCli, startCliWorker, startTestEnvironment } from '../../src/testing/harness';
import { EXIT } from '../../src/client/exit-codes';
import { freePort } from '../../src/dev/ports';

let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let worker: ReturnType<typeof startCliWorker>;
const image = buildIndex({ seed: 'cli-e2e' });

function manifest(name: string, digest: string, sourceRegistry = `${env.registries.staging}/staging`, image = 'app'): string {
  const file = join(env.stateDir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: ${name}}
source: {registry: "${sourceRegistry}"}
destinations:
  - {name: prod, registry: "${env.registries.prod}/prod", canonical: true}
  - {name: mirror-a, registry: "${env.registries['mirror-a']}/mirror"}
  - {name: mirror-b, registry: "${env.registries['mirror-b']}/mirror"}
phases:
  - {name: production, destinations: [prod]}
  - {name: mirrors, destinations: [mirror-a, mirror-b]}
images:
  - name: ${image}
    dmap: {"${digest}": ["v1.0.0"]}
`,
  );
  return file;
}

function skopeoDigest(ref: string): string {
  const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

before(async () => {
  env = await startTestEnvironment('cli', { registries: ['staging', 'prod', 'mirror-a', 'mirror-b'] });
  // The state store the CLI writes run bundles to and the worker reads them from (inherited by both processes).
  process.env.PROMOFLOW_STATE_STORE = join(env.stateDir, 'store');
  await pushImage(new RegistryClient(), { registry: env.registries.staging!, repository: 'staging/app' }, image, ['v1.0.0']);
  worker = startCliWorker(env);
  await worker.ready();
});

after(async () => {
  await worker?.stop();
  await env?.cleanup();
});

const temporal = () => ['--temporal-address', env.temporal!.address];

test('promote without --confirm is a dry run: it plans against the registries, prints the changes, changes nothing', async () => {
  const r = await runCli(['promote', '-f', manifest('e2e', image.digest), ...temporal()]);
  assert.equal(r.code, EXIT.CHANGES_PLANNED, r.stdout + r.stderr);
  assert.match(r.stdout, /dry run: nothing was changed/);
  for (const d of ['prod', 'mirror-a', 'mirror-b']) assert.match(r.stdout, new RegExp(`copy\\s+app\\s+sha256:${image.digest.slice(7, 19)}…\\s+${d}\\s+v1\\.0\\.0`), d);
  const head = await fetch(`http://${env.registries.prod}/v2/prod/app/manifests/v1.0.0`, { method: 'HEAD' });
  assert.equal(head.status, 404, 'nothing written');
});

test('promote --confirm copies a multi-platform image to production and two mirrors, verified by skopeo', async () => {
  const summary = join(env.stateDir, 'step-summary.md');
  const r = await runCli(['promote', '-f', manifest('e2e', image.digest), '--confirm', ...temporal()], { env: { GITHUB_STEP_SUMMARY: summary } });
  assert.equal(r.code, EXIT.OK, r.stdout + r.stderr);
  const md = readFileSync(summary, 'utf8');
  assert.match(md, /^## promoflow: e2e — succeeded/m);
  assert.match(md, /\| mirror-b \| 1 \| 0 \| 0 \| 0 \| 0 \| 0 \|/, 'counts per phase and destination');
  assert.match(r.stdout, /e2e: SUCCEEDED/);
  assert.match(r.stdout, /total: 3 promoted, 0 already present, 0 failed, 0 lost, 0 skipped, 0 aborted/);
  assert.match(r.stdout, /phase mirrors: done: 2 promoted/);
  assert.match(r.stdout, /^ {2}mirror-b: 1 promoted/m);
  for (const ref of [`${env.registries.prod}/prod/app`, `${env.registries['mirror-a']}/mirror/app`, `${env.registries['mirror-b']}/mirror/app`]) {
    assert.equal(skopeoDigest(`${ref}@${image.digest}`), image.digest, ref);
    assert.equal(skopeoDigest(`${ref}:v1.0.0`), image.digest, `${ref}:v1.0.0`);
    for (const child of image.children) assert.equal(skopeoDigest(`${ref}@${child.digest}`), child.digest);
  }
  const id = /workflow (promote\/e2e\/\S+)\)/.exec(r.stdout)?.[1];
  assert.ok(id, 'the summary names the workflow');
  const list = execFileSync(env.temporalServer!.binary, ['workflow', 'list', '--address', env.temporal!.address, '--query', `WorkflowId = '${id}'`], { encoding: 'utf8' });
  assert.match(list, /Completed/);
  assert.ok(list.includes(id));

  // `watch` on an ended run prints its account and exits with the run's code.
  const watched = await runCli(['watch', id, ...temporal()]);
  assert.equal(watched.code, EXIT.OK, watched.stderr);
  assert.match(watched.stdout, /e2e: SUCCEEDED/);

  // `status --json` streams JSON lines: the run's state, then one line per edge of its account.
  const st = await runCli(['status', id, '--json', ...temporal()]);
  assert.equal(st.code, EXIT.OK, st.stderr);
  const lines = st.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status?: string; destination?: string; outcome?: string });
  assert.equal(lines[0]!.status, 'succeeded');
  assert.deepEqual(lines.slice(1).map((e) => `${e.destination}:${e.outcome}`).sort(), ['mirror-a:promoted', 'mirror-b:promoted', 'prod:promoted']);

  // Running the same promotion again plans nothing and starts nothing.
  const again = await runCli(['promote', '-f', manifest('e2e', image.digest), '--confirm', ...temporal()]);
  assert.equal(again.code, EXIT.OK, again.stdout + again.stderr);
  assert.match(again.stdout, /nothing to do: all 3 image × destination edges are already promoted/);
  const plan = await runCli(['plan', '-f', manifest('e2e', image.digest), '--json']);
  assert.equal(plan.code, EXIT.OK, plan.stderr);
  assert.equal((JSON.parse(plan.stdout) as { counts: { noop: number } }).counts.noop, 3);
});

test("a digest that is not in staging is reported and skipped like kpromo's _LOST_ (exit 0); with --strict-lost the run reports it lost, exit 1", async () => {
  const missing = `sha256:${'0'.repeat(64)}`;
  const skipped = await runCli(['promote', '-f', manifest('lost', missing, undefined, 'ghost'), '--confirm', ...temporal()]);
  assert.equal(skipped.code, EXIT.OK, skipped.stdout + skipped.stderr);
  assert.match(skipped.stderr, /1 digest\(s\) not in their source: reported and skipped \(kpromo's _LOST_\)/);
  assert.match(skipped.stdout, /nothing to do: .*\(3 lost edge\(s\) skipped\)/);
  const r = await runCli(['promote', '-f', manifest('lost', missing, undefined, 'ghost'), '--confirm', '--strict-lost', ...temporal()]);
  assert.equal(r.code, EXIT.FAILED, r.stdout + r.stderr);
  assert.match(r.stdout, /\? ghost@sha256:000000000000 → prod \(production\): lost: SourceLost: .*staging\/ghost@sha256:0{64} is not in the source registry/);
  assert.match(r.stdout, /- ghost@sha256:000000000000 → mirror-a \(mirrors\): skipped: EarlierPhaseFailed/);
  assert.match(r.stdout, /total: 0 promoted, 0 already present, 0 failed, 1 lost, 2 skipped, 0 aborted/);
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
});

test('an unreachable registry is one clear line and exit 3; nothing is started', async () => {
  const closed = await freePort(); // nothing listens there
  const r = await runCli(['promote', '-f', manifest('down', image.digest, `127.0.0.1:${closed}/staging`), '--confirm', ...temporal()]);
  assert.equal(r.code, EXIT.UNAVAILABLE, r.stdout + r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`registry 127\\.0\\.0\\.1:${closed} \\(source\\.registry in .*down\\.yaml\\) is unreachable \\(ECONNREFUSED\\)`));
});

test('a tag move is refused before anything starts, naming file, image, tag, both digests and the destination (exit 2)', async () => {
  const other = buildIndex({ seed: 'cli-e2e-other' });
  await pushImage(new RegistryClient(), { registry: env.registries.staging!, repository: 'staging/app' }, other);
  const r = await runCli(['promote', '-f', manifest('move', other.digest), '--confirm', ...temporal()]);
  assert.equal(r.code, EXIT.INVALID, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`move\\.yaml: image app: tag v1\\.0\\.0 points to ${image.digest} at prod .*the manifest wants ${other.digest}: tag move refused`));
  assert.match(r.stderr, /nothing was started/);
});

test('--diff-base plans only what changed since a git revision: an old broken entry does not block a new one', async () => {
  const repo = join(env.stateDir, 'gitrepo');
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
  execFileSync('git', ['init', '-q', repo]);
  git('config', 'user.email', 'ci@example.com');
  git('config', 'user.name', 'ci');
  const base = manifest('diff', `sha256:${'1'.repeat(64)}`, undefined, 'old-ghost');
  const text = readFileSync(base, 'utf8');
  writeFileSync(join(repo, 'promotion.yaml'), text);
  git('add', '.');
  git('commit', '-qm', 'base: an entry whose digest was never staged');
  const fresh = buildImage({ seed: 'diff-new' });
  await pushImage(new RegistryClient(), { registry: env.registries.staging!, repository: 'staging/newapp' }, fresh);
  writeFileSync(join(repo, 'promotion.yaml'), `${text}  - name: newapp\n    dmap: {"${fresh.digest}": ["v2"]}\n`);
  const all = await runCli(['promote', '-f', join(repo, 'promotion.yaml'), ...temporal()]);
  assert.match(all.stdout, /lost/, 'the whole manifest still holds the old broken entry');
  const scoped = await runCli(['promote', '-f', join(repo, 'promotion.yaml'), '--diff-base', 'HEAD', ...temporal()]);
  assert.equal(scoped.code, EXIT.CHANGES_PLANNED, scoped.stdout + scoped.stderr);
  assert.match(scoped.stdout, /copy\s+newapp/);
  assert.doesNotMatch(scoped.stdout, /old-ghost/);
});
