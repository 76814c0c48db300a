// The real-registry must-show of issue 10: N small images × D destination registries (defaults 5,000 × 20 =
// 100,000 edges; one docker-registry process per destination on loopback), copy + sign + attest + replicate +
// verify through the real CLI on several worker processes, one SIGKILLed every few seconds; then the account via
// `status --json`, a second run of the same manifest (nothing to do) and a reconcile (no drift). Prints a table.
// Run: npm run bench:scale-real [-- --images N] [--destinations N] [--workers N] [--kill-every S] [--max-kills N] [--groups N] [--worker-digests N] [--worker-activities N] [--no-histories] [--tsx]
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SCALE_REAL, renderScaleRealReport, runScaleReal } from '../src/testing/scale-real';

async function main(): Promise<void> {
  const d = DEFAULT_SCALE_REAL;
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: String(d.images) },
      destinations: { type: 'string', default: String(d.destinations) },
      workers: { type: 'string', default: String(d.workers) },
      'kill-every': { type: 'string', default: String(d.killEverySeconds) },
      // Stop killing after this many SIGKILLs (default: kill until the promotion ends).
      'max-kills': { type: 'string' },
      groups: { type: 'string', default: String(d.groups) },
      // Digests each worker promotes at once (PROMOFLOW_WORKER_DIGESTS).
      'worker-digests': { type: 'string', default: String(d.workerDigests) },
      // Activities each worker takes at once (promoflow worker --concurrency).
      'worker-activities': { type: 'string', default: String(d.workerActivities) },
      'no-histories': { type: 'boolean', default: false },
      // The product path runs compiled code (the package, the container image); --tsx runs the sources instead.
      tsx: { type: 'boolean', default: false },
    },
  });
  const num = (k: 'images' | 'destinations' | 'workers' | 'kill-every' | 'max-kills' | 'groups' | 'worker-digests' | 'worker-activities', min: number): number => {
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${k} ${JSON.stringify(values[k])}: expected an integer ≥ ${min}`);
    return n;
  };
  if (!values.tsx) execFileSync('npm', ['run', '-s', 'build'], { cwd: resolve(__dirname, '..'), stdio: 'inherit' });
  const report = await runScaleReal({
    compiled: !values.tsx,
    images: num('images', 1),
    destinations: num('destinations', 1),
    workers: num('workers', 1),
    killEverySeconds: num('kill-every', 0),
    ...(values['max-kills'] !== undefined ? { maxKills: num('max-kills', 0) } : {}),
    groups: num('groups', 1),
    workerDigests: num('worker-digests', 1),
    workerActivities: num('worker-activities', 1),
    histories: !values['no-histories'],
    log: (l) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${l}\n`),
  });
  process.stdout.write(renderScaleRealReport(report) + '\n');
  const ok = report.first.exit === 0 && report.first.verified === report.edges && report.second.nothingToDo && report.reconcile.findings === 0;
  process.exitCode = ok ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:scale-real: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
});
