// The chaos suite, short: a signed, attested, two-phase promotion (3 images, one an index, × 2 registries) and a reconcile with
// repair, through the CLI, with seeded faults at every registry, worker SIGKILLs under a supervisor, a Temporal
// restart and a registry restart; every edge must end promoted and verified (cosign, skopeo, crane from outside),
// nothing corrupt, no tag moved, one signature layer per signer, both CLIs exit 0. `npm run chaos` is the full size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderChaosReport, runChaos } from '../src/testing/chaos';

test('chaos, short: faults, worker kills, a Temporal and a registry restart: 100% promoted and verified, account exact', { timeout: 600_000 }, async (t) => {
  const report = await runChaos({ seed: 16, images: 3, destinations: 2, kills: 2, faultRate: 0.05, temporalRestart: true, registryRestart: true, log: (l) => t.diagnostic(l) });
  const table = renderChaosReport(report);
  for (const line of table.split('\n')) t.diagnostic(line);
  const faults = Object.values(report.faults).reduce((a, b) => a + b, 0);
  assert.ok(faults > 0 && report.events.workerKills >= 2 && report.events.temporalRestarts === 2 && report.events.registryRestarts === 2, 'the chaos happened');
  assert.equal(report.promote.exit, 0, table);
  assert.equal(report.reconcile.exit, 0, table);
  assert.equal(report.promote.promoted + report.promote.present, 6, table);
  for (const c of report.checks) if (!c.note) assert.equal(c.ok, c.total, `${c.name}\n${table}`);
  assert.equal(report.passed, true, table);
});
