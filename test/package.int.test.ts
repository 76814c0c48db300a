// promoflow as users install it: `npm pack` of a copy of this checkout (the prepack script builds dist/), the
// tarball installed into an empty directory with npm, and the installed `promoflow` run from there. Checks that
// the package holds compiled JavaScript and the JSON schema only, that the installed tree has no tsx or TypeScript,
// and that commands load only what they use. Needs the npm registry (or npm's cache) for the dependencies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, testStateDir } from '../src/testing/harness';

const exec = promisify(execFile);
const work = testStateDir('package');
const app = join(work, 'app');
let files: string[] = [];

/** Run the installed CLI; `modules` lists the packages and promoflow files it loaded (from a --require hook). */
function promoflow(args: string[], cwd = app, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string; modules: string[] }> {
  const hook = join(work, 'modules.cjs');
  const out = join(work, `modules-${args[0]!.replace(/\W/g, '')}.json`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', hook, join(app, 'node_modules', '.bin', 'promoflow'), ...args], { cwd, env: { ...process.env, ...env, MODULES_OUT: out }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr, modules: existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as string[]) : [] }));
  });
}

const loaded = (modules: string[], pkg: string) => modules.some((m) => m.includes(`/node_modules/${pkg}/`));

before(async () => {
  // A copy of what a fresh clone has (the files the build needs), so packing never touches this checkout's dist/.
  const src = join(work, 'clone');
  mkdirSync(src);
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'bin', 'src', 'schema']) cpSync(join(REPO_ROOT, f), join(src, f), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(src, 'node_modules'));
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', work], { cwd: src, maxBuffer: 64 << 20 });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = packed!.files.map((f) => f.path);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'promoflow-user', private: true }));
  await exec('npm', ['install', join(work, packed!.filename), '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: app, maxBuffer: 64 << 20 });
  writeFileSync(join(work, 'modules.cjs'), "process.on('exit', () => require('node:fs').writeFileSync(process.env.MODULES_OUT, JSON.stringify(Object.keys(require.cache))));\n");
});

after(() => rmSync(work, { recursive: true, force: true }));

test('package: compiled JavaScript, the JSON schema, the executable and the README only', () => {
  assert.ok(files.includes('bin/promoflow.js') && files.includes('dist/client/cli.js') && files.includes('schema/promotion.v1alpha1.schema.json'), files.join(' '));
  const unexpected = files.filter((f) => !/^(bin\/promoflow\.js|dist\/.+\.js|dist\/workflow-bundle\.js\.map|schema\/[^/]+\.json|package\.json|README\.md)$/.test(f));
  assert.deepEqual(unexpected, [], 'nothing but JS, the schema, package.json and README');
  assert.deepEqual(files.filter((f) => f.startsWith('dist/testing/') || f.startsWith('src/')), [], 'no test helpers, no TypeScript sources');
});

test('installed: no tsx or TypeScript in the tree; `npx promoflow --help` works and loads neither zod nor Temporal', async () => {
  for (const dev of ['tsx', 'typescript', 'esbuild']) assert.ok(!existsSync(join(app, 'node_modules', dev)), `${dev} is not installed`);
  const npx = await exec('npx', ['--no-install', 'promoflow', '--help'], { cwd: app });
  assert.match(npx.stdout, /^promoflow: declarative, durable container image promotion on Temporal/);
  const r = await promoflow(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.modules.length > 0, 'the hook saw the modules');
  for (const pkg of ['@temporalio/client', '@temporalio/worker', 'zod']) assert.ok(!loaded(r.modules, pkg), `--help does not load ${pkg}`);
});

test('installed: plan of a small manifest against an inventory file; no Temporal loaded', async () => {
  const manifest = join(work, 'promotion.yaml');
  writeFileSync(manifest, `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: installed}
source: {registry: "127.0.0.1:5000/staging"}
destinations:
  - {name: prod, registry: "127.0.0.1:5001/prod", canonical: true}
images:
  - name: app
    dmap: {"sha256:${'a'.repeat(64)}": ["v1.0.0"]}
`);
  writeFileSync(join(work, 'inventory.json'), JSON.stringify({ repos: {} }));
  const r = await promoflow(['plan', '-f', manifest, '--inventory', join(work, 'inventory.json'), '--json']);
  assert.equal(r.code, 10, `exit 10: changes planned (${r.stderr})`);
  // --json is JSON lines: the plan's header first (counts, phases), then one line per edge.
  const p = JSON.parse(r.stdout.split('\n')[0]!) as { type: string; counts: { copy: number } };
  assert.equal(p.type, 'plan');
  assert.equal(p.counts.copy, 1);
  for (const pkg of ['@temporalio/client', '@temporalio/worker']) assert.ok(!loaded(r.modules, pkg), `plan does not load ${pkg}`);
});

test('installed: status loads the Temporal client, never the worker runtime', async () => {
  // Unreachable at the start is waited out for PROMOFLOW_RECONNECT_SECONDS (default 300) before exit 3: 2 s here.
  const r = await promoflow(['status', 'no-such-run', '--temporal-address', '127.0.0.1:1'], app, { PROMOFLOW_RECONNECT_SECONDS: '2' });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
  assert.ok(loaded(r.modules, '@temporalio/client'));
  assert.ok(!loaded(r.modules, '@temporalio/worker'), 'status does not load @temporalio/worker');
});

test('installed: a full demo (embedded Temporal and registries, promote, sign, verify) from the installed package', async () => {
  const r = await promoflow(['demo', '--state-dir', join(work, 'demo')], work);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^promoflow: demo: SUCCEEDED \(workflow promote\/demo\//m);
  assert.match(r.stdout, /total: 3 promoted, 0 already present, 0 failed, 0 lost, 0 skipped/);
  assert.ok(!r.modules.some((m) => m.includes('/tsx/') || m.endsWith('.ts')), 'no TypeScript loaded');
});
