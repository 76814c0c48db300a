// Hostile-registry benchmark (not a test): a real `promoflow worker` process (Temporal dev server from src/dev)
// promotes from the hostile registry (src/testing/hostile-registry.ts) while it plays the memory attacks of issue 12:
// a 10,000-level index chain, an index of 20,000 children, an 11.7 MB manifest, an image declaring 100 GiB, an
// endless layer declared at 64 MiB, and (under a source policy) an endless .sig layer. Each attack must fail its item
// with a bounded error while the worker's peak RSS (VmHWM from /proc, the kernel's high-water mark) stays under
// 300 MB. The worker runs compiled, as the Docker image runs it (`npm run build` first). Prints the RSS when ready,
// the highest sampled during the runs and the peak, and each item's outcome; exits 1 when the bound is broken.
//
// Run: npm run bench:hostile [-- --limit-mb 300]
import { generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EdgeResult, PromotionRunInput, PromotionRunResult } from '../src/contract';
import { TASK_QUEUE } from '../src/contract';
import { REPO_ROOT, startCliWorker, startTestEnvironment, testClient } from '../src/testing/harness';
import { startHostileRegistry, type HostileRegistry } from '../src/testing/hostile-registry';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

/** A /proc/<pid>/status field in MiB (VmRSS: now; VmHWM: peak since the process started). */
function procMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The attacks, as run items (image name → digest) on the hostile registry's `staging/` repositories. */
function plantAttacks(h: HostileRegistry): Array<{ image: string; digest: string; attack: string }> {
  const endlessLayer = `sha256:${'e'.repeat(64)}` as const;
  h.serveBlob(endlessLayer, { kind: 'endless' }, 'staging/endless');
  const hugeDeclared = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${'b'.repeat(64)}` as const, size: 100 * 2 ** 30 };
  return [
    { image: 'chain', digest: h.indexChain('staging/chain', 10_000).digest, attack: '10,000-level index chain' },
    { image: 'wide', digest: h.wideIndex('staging/wide', 20_000).digest, attack: 'index of 20,000 children' },
    { image: 'huge', digest: h.hugeManifest('staging/huge', 11_700_000).digest, attack: '11.7 MB manifest' },
    { image: 'declared', digest: h.image('staging/declared', { layers: [hugeDeclared] }).digest, attack: 'image declaring 100 GiB' },
    { image: 'endless', digest: h.image('staging/endless', { layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: endlessLayer, size: 64 << 20 }] }).digest, attack: 'endless layer declared at 64 MiB' },
  ];
}

async function main(): Promise<void> {
  const limitMiB = Number(arg('limit-mb', '300'));
  const env = await startTestEnvironment('bench-hostile', { registries: [], temporal: true });
  const h = await startHostileRegistry();
  // The worker as production runs it: the compiled CLI with its prebuilt workflow bundle (the Docker image ships
  // dist/), built from the current sources first.
  execFileSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  const worker = startCliWorker(env, [], { compiled: true });
  try {
    await worker.ready();
    const baseline = procMiB(worker.pid, 'VmRSS');
    const client = await testClient(env);
    const base = (name: string): Omit<PromotionRunInput, 'items'> => ({
      name,
      manifestFiles: ['bench'],
      source: { registry: `${h.host}/staging` },
      destinations: [{ name: 'prod', registry: `${h.host}/prod` }],
      phases: [{ name: 'all', destinations: ['prod'], soakSeconds: 0, verify: false, approval: false }],
      concurrency: 8,
    });
    const run = async (input: PromotionRunInput): Promise<PromotionRunResult> =>
      client.workflow.execute('promotionRun', { taskQueue: TASK_QUEUE, workflowId: `bench-hostile-${input.name}-${Date.now()}`, args: [input] });

    const attacks = plantAttacks(h);
    const results: EdgeResult[] = [];
    const t0 = Date.now();
    // VmHWM includes start-up (the workflow bundle is built then); the samples show what the attacks added.
    let duringRuns = 0;
    const sampler = setInterval(() => (duringRuns = Math.max(duringRuns, procMiB(worker.pid, 'VmRSS'))), 20);
    results.push(...(await run({ ...base('memory'), items: attacks.map((a) => ({ image: a.image, digest: a.digest, tags: ['v1'] })) })).edges);

    // An endless .sig layer, read by the source policy (the signature check reads the source's .sig image).
    const pub = join(env.stateDir, 'cosign.pub');
    writeFileSync(pub, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
    const signed = h.image('staging/signed', { tags: ['v1'] });
    const endlessSig = `sha256:${'5'.repeat(64)}` as const;
    h.serveBlob(endlessSig, { kind: 'endless' }, 'staging/signed');
    h.signature('staging/signed', signed.digest, { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: endlessSig, size: 300 });
    attacks.push({ image: 'signed', digest: signed.digest, attack: 'endless .sig layer (source policy)' });
    results.push(...(await run({ ...base('signature'), sourceSignedBy: `file://${pub}`, items: [{ image: 'signed', digest: signed.digest, tags: ['v1'] }] })).edges);
    const seconds = (Date.now() - t0) / 1000;
    clearInterval(sampler);

    const peak = procMiB(worker.pid, 'VmHWM');
    for (const a of attacks) {
      const e = results.find((r) => r.image === a.image);
      console.log(`${a.attack.padEnd(36)} ${e?.status ?? 'missing'}${e?.errorType ? ` (${e.errorType})` : ''}: ${(e?.error ?? '').slice(0, 140)}`);
    }
    console.log(`worker RSS: ready ${baseline.toFixed(0)} MiB, highest sampled during the hostile runs ${duringRuns.toFixed(0)} MiB, peak (VmHWM, start-up included) ${peak.toFixed(0)} MiB; bound ${limitMiB} MiB; runs took ${seconds.toFixed(1)} s`);
    const contained = attacks.every((a) => results.find((r) => r.image === a.image)?.status === 'failed');
    if (!contained) console.log('an attack was not refused');
    if (!(peak < limitMiB) || !contained) process.exitCode = 1;
    await client.connection.close();
  } finally {
    await worker.stop();
    await h.stop();
    await env.cleanup();
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
