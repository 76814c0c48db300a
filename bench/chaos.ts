// The chaos suite at full size: one signed, attested, two-phase promotion of 10 images to 6 registries and then a
// reconcile with repair, both through the CLI, with seeded fault proxies in front of every registry (about 5% of
// requests: 503, 429 with Retry-After, resets, responses cut mid-body, flipped bytes, stalls), at least 10 worker
// SIGKILLs under a supervisor, a Temporal restart and a registry restart; then every destination is checked with
// cosign v2 and v3, skopeo and crane. Prints the faults injected and the outcome table; exit 0 only if all held.
// Run: npm run chaos [-- --seed N] [--images N] [--destinations N] [--kills N] [--fault-rate 0.05]
import { parseArgs } from 'node:util';
import { DEFAULT_CHAOS, renderChaosReport, runChaos } from '../src/testing/chaos';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      images: { type: 'string', default: String(DEFAULT_CHAOS.images) },
      destinations: { type: 'string', default: String(DEFAULT_CHAOS.destinations) },
      kills: { type: 'string', default: String(DEFAULT_CHAOS.kills) },
      'fault-rate': { type: 'string', default: String(DEFAULT_CHAOS.faultRate) },
    },
  });
  const num = (k: keyof typeof values): number => {
    const n = Number(values[k]);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} ${JSON.stringify(values[k])}: expected a number`);
    return n;
  };
  const report = await runChaos({
    ...DEFAULT_CHAOS,
    seed: num('seed'),
    images: num('images'),
    destinations: Math.max(2, num('destinations')),
    kills: num('kills'),
    faultRate: num('fault-rate'),
    log: (l) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${l}\n`),
  });
  process.stdout.write(renderChaosReport(report) + '\n');
  process.exitCode = report.passed ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`chaos: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 2;
});
