// Reconcile inventory benchmark: one repository of 1,000 tags on each of 3 local registries (CNCF distribution),
// inventoried as the Reconcile workflow's activities do it (every tag resolved, declared digests checked, diffed),
// one batch per registry, all three at once. Reports wall time and the requests each registry received (counted
// by a pass-through proxy in front of it). Not a test.
// Run: npm run bench:reconcile   (or: node --import tsx bench/reconcile.ts [tags])
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient, putManifest } from '../src/oci';
import { startRegistry, type LocalRegistry } from '../src/dev/registry';
import { startFaultProxy, type FaultProxy } from '../src/testing/fault-proxy';
import { buildImage, pushImage } from '../src/dev/sample-images';
import { inventoryRepos } from '../src/activities/reconcile';
import type { DesiredRepo } from '../src/plan/drift';

const TAGS = Number(process.argv[2] ?? 1000);
const REGISTRIES = 3;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'promoflow-bench-reconcile-'));
  const registries: LocalRegistry[] = [];
  const proxies: FaultProxy[] = [];
  const setup = new RegistryClient();
  try {
    const image = buildImage({ seed: 'bench-reconcile' });
    const tags = Array.from({ length: TAGS }, (_, i) => `v1.${Math.floor(i / 100)}.${i % 100}`);
    for (let r = 0; r < REGISTRIES; r++) {
      const reg = await startRegistry({ name: `bench-${r}`, stateDir: dir });
      registries.push(reg);
      const repo = { registry: reg.host, repository: 'bench/app' };
      await pushImage(setup, repo, image, []);
      const manifest = { bytes: image.manifest, mediaType: image.mediaType };
      for (let i = 0; i < tags.length; i += 50) await Promise.all(tags.slice(i, i + 50).map((t) => putManifest(setup, repo, t, manifest)));
      proxies.push(await startFaultProxy(reg.host));
    }
    // Declared: the digest with 990 of the tags; 10 tags on each registry are unexpected (a realistic small drift).
    const declared = tags.slice(0, TAGS - 10);
    const run = async (hosts: string[]) => {
      const client = new RegistryClient();
      const t0 = performance.now();
      const results = await Promise.all(
        hosts.map((host, r) => {
          const repos: DesiredRepo[] = [{ destination: `r${r}`, image: 'app', entries: [{ digest: image.digest, tags: declared }] }];
          return inventoryRepos(client, { destination: { name: `r${r}`, registry: `${host}/bench` }, repos, policy: { signatures: false, attestations: false } });
        }),
      );
      const ms = performance.now() - t0;
      client.close();
      return { ms, results };
    };
    // Timed straight to the registries; counted through the proxies (their own cost would skew the time).
    const { ms, results } = await run(registries.map((r) => r.host));
    const counted = await run(proxies.map((p) => p.host));
    const requests = proxies.map((p) => p.requests.length);
    const byMethod: Record<string, number> = {};
    for (const p of proxies) for (const q of p.requests) byMethod[q.method] = (byMethod[q.method] ?? 0) + 1;
    console.log(`reconcile inventory: ${REGISTRIES} registries × 1 repository × ${TAGS} tags`);
    console.log(`  wall time          ${ms.toFixed(0)} ms (${((REGISTRIES * TAGS) / (ms / 1000)).toFixed(0)} tags/s)`);
    console.log(`  (through counting proxies: ${counted.ms.toFixed(0)} ms)`);
    console.log(`  requests           ${requests.reduce((a, b) => a + b, 0)} total; per registry ${requests.join(', ')}; by method ${JSON.stringify(byMethod)}`);
    console.log(`  tags read          ${results.map((x) => x.tagsRead).join(', ')}`);
    console.log(`  findings           ${results.map((x) => x.report.items.length).join(', ')} (expected ${10} unexpected tags each)`);
    console.log(`  peak RSS           ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  } finally {
    setup.close();
    for (const p of proxies) await p.stop();
    for (const r of registries) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:reconcile: ${(e as Error).message}`);
  process.exitCode = 1;
});
