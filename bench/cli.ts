// CLI start-up benchmark: whole-process wall time, CPU time and peak RSS of `--help`, `plan` (a small manifest
// against an inventory file, so no registry is involved) and `status` (an unknown workflow ID against the embedded
// Temporal dev server: start-up, connect, one describe), each run as a user runs it:
//   package   the compiled CLI as installed from `npm pack` (bin/ + dist/, no TypeScript, no tsx): what users get
//   checkout  bin/promoflow.js in this repository (the TypeScript sources through tsx): what developers run
// CPU and peak RSS come from the child itself (a --require hook writes process.resourceUsage() at exit), so they
// belong to the command alone. Wall times on a shared machine are noisy: compare medians, and the CPU column.
// Run: npm run bench:cli [-- --runs N] [-- --only package|checkout]   (builds dist/ first when it is missing)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevTemporal } from '../src/dev/temporal';

const ROOT = resolve(__dirname, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, only: { type: 'string' } } });
const RUNS = Number(values.runs);

interface Sample { wallMs: number; cpuMs: number; rssMiB: number; code: number | null }

/** A directory laid out like an installed package: bin/ and dist/ only (node_modules shared with the checkout). */
function packageLayout(work: string): string {
  if (!existsSync(join(ROOT, 'dist', 'client', 'cli.js'))) {
    console.error('bench:cli: building dist/ (npm run build)');
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  }
  const pkg = join(work, 'package');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  copyFileSync(join(ROOT, 'bin', 'promoflow.js'), join(pkg, 'bin', 'promoflow.js'));
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(ROOT, 'dist'), join(pkg, 'dist'));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  return join(pkg, 'bin', 'promoflow.js');
}

function runOnce(bin: string, args: string[], hook: string, out: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((done, fail) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--require', hook, bin, ...args], { env: { ...env, PROMOFLOW_BENCH_USAGE: out }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => void (err += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      if (!existsSync(out)) return fail(new Error(`${args.join(' ')}: no usage written (exit ${code}): ${err}`));
      const u = JSON.parse(readFileSync(out, 'utf8')) as { userCPUTime: number; systemCPUTime: number; maxRSS: number };
      rmSync(out);
      done({ wallMs, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, rssMiB: u.maxRSS / 1024, code });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'promoflow-bench-cli-'));
  const hook = join(work, 'usage.cjs');
  writeFileSync(hook, "process.on('exit', () => require('node:fs').writeFileSync(process.env.PROMOFLOW_BENCH_USAGE, JSON.stringify(process.resourceUsage())));\n");
  const manifest = join(work, 'promotion.yaml');
  writeFileSync(manifest, `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: bench}
source: {registry: "127.0.0.1:5000/staging"}
destinations:
  - {name: prod, registry: "127.0.0.1:5001/prod", canonical: true}
  - {name: mirror, registry: "127.0.0.1:5002/mirror"}
phases:
  - {name: production, destinations: [prod]}
  - {name: mirrors, destinations: [mirror]}
images:
  - name: app
    dmap: {"sha256:${'1'.repeat(64)}": ["v1.0.0"]}
`);
  const inventory = join(work, 'inventory.json');
  writeFileSync(inventory, JSON.stringify({ repos: {} }));
  const temporal = await startDevTemporal({ stateDir: join(work, 'temporal'), headless: true });
  try {
    const env = { ...process.env, TEMPORAL_ADDRESS: temporal.address };
    const variants = [
      { name: 'package', bin: packageLayout(work) },
      { name: 'checkout', bin: join(ROOT, 'bin', 'promoflow.js') },
    ].filter((v) => !values.only || v.name === values.only);
    const commands: Array<[string, string[]]> = [
      ['--help', ['--help']],
      ['plan', ['plan', '-f', manifest, '--inventory', inventory]],
      ['status', ['status', 'bench/no-such-run']],
    ];
    console.log(`promoflow CLI start-up, ${RUNS} runs each after one warm-up (median [min-max])`);
    console.log(`${'variant'.padEnd(9)} ${'command'.padEnd(7)} ${'wall ms'.padStart(20)} ${'cpu ms'.padStart(20)} ${'peak RSS MiB'.padStart(13)}  exit`);
    for (const v of variants) {
      for (const [label, args] of commands) {
        await runOnce(v.bin, args, hook, join(work, 'usage.json'), env);
        const s: Sample[] = [];
        for (let i = 0; i < RUNS; i++) s.push(await runOnce(v.bin, args, hook, join(work, 'usage.json'), env));
        const fmt = (xs: number[]) => `${median(xs).toFixed(0)} [${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}]`;
        console.log(`${v.name.padEnd(9)} ${label.padEnd(7)} ${fmt(s.map((x) => x.wallMs)).padStart(20)} ${fmt(s.map((x) => x.cpuMs)).padStart(20)} ${median(s.map((x) => x.rssMiB)).toFixed(0).padStart(13)}  ${[...new Set(s.map((x) => x.code))].join(',')}`);
      }
    }
  } finally {
    await temporal.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:cli: ${(e as Error).message}`);
  process.exitCode = 1;
});
