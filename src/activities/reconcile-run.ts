// Activities of the sharded reconcile (reconcileRun): resolve where the manifests are (a stored bundle, a git ref
// fetched at its current head, or a directory) into a bundle in the state store; plan the inventory with the
// promotion's shard planning (repository group × destination group, a repository never split); inventory one
// batch (its findings written to the store, only counts and a sample returned); turn the findings into the repair
// promotion's bundle (the same policy as promote); copy verified signatures from peers when there is no signing
// key; and settle which findings the repairs fixed. The registry reading is an InventoryReader: the real one over
// the worker's OCI client, a stub in the scale benchmark.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import {
  FINDING_SAMPLE, edgeCount, runBundle, runSigningOf, sourceSignedByOf, type DestinationRef, type EdgeRecord, type FindingCounts, type InventoryShardBatchInput, type InventoryShardBatchResult,
  type PlanInventoryInput, type PlanRepairInput, type PlanRepairResult, type PlannedPhase, type RepairRecord, type RepairSignaturesFromPeersInput, type ResolveSourceInput,
  type ResolveSourceResult, type RunBundle, type RunSigning, type SettleRepairsInput, type SettleRepairsResult,
} from '../contract';
import { GitSource, ManifestLoadError, loadSpec, loadSpecFrom, type RegistryEndpoint, type Spec } from '../manifest';
import { summarize, type DesiredRepo, type DriftItem, type DriftPolicy } from '../plan';
import { getJson, putJson, type StateRef, type StateStore } from '../state';
import { shardPhase, type ShardDoc } from './shards';
import { DocCache, readAccount } from './sharded';
import { inventoryRepos, reconcileActivities } from './reconcile';
import { classify } from './failures';
import type { ActivityDeps } from './deps';

const run = promisify(execFile);

/** Reads what one destination holds for some repositories and diffs it (the registry one, or a stub). */
export type InventoryReader = (destination: DestinationRef, repos: DesiredRepo[], policy: DriftPolicy, publicKey: string | undefined, progress: () => void) => Promise<DriftItem[]>;

const MAX_SHARDS = 1000;
const stateRef = z.custom<StateRef>((v) => typeof v === 'string' && /^sha256:[0-9a-f]{64}$/.test(v));
const driftItem = z.object({
  kind: z.string(), destination: z.string(), image: z.string(), digest: z.string().optional(), tag: z.string().optional(), found: z.string().optional(),
  repair: z.enum(['promote', 'signatures', 'none']), project: z.string().optional(), allowTagMove: z.boolean().optional(), detail: z.string(),
}) as unknown as z.ZodType<DriftItem>;
const repairRecord = z.object({
  kind: z.string(), destination: z.string(), image: z.string(), digest: z.string().optional(), tag: z.string().optional(), status: z.enum(['repaired', 'failed', 'not-repaired']), via: z.string().optional(), error: z.string().optional(),
}) as unknown as z.ZodType<RepairRecord>;
/** A findings (or repair records) document: a leaf holds records, an inner node references parts (compactRefs). */
const findingsNode = z.object({ parts: z.array(stateRef).optional(), findings: z.array(driftItem).optional(), repairs: z.array(repairRecord).optional() });
const shardsDoc = z.object({ shards: z.array(stateRef) });
const entry = z.object({ image: z.string(), digest: z.string(), tags: z.array(z.string()), allowTagMove: z.boolean().optional(), project: z.string().optional(), dests: z.array(z.string()) });
const shardDoc = z.object({ phase: z.string(), group: z.string(), taskQueue: z.string().optional(), batches: z.array(z.array(entry)) });

/** Every finding of a findings tree, in order (for paging and for repair planning). */
export async function* readFindings(store: StateStore, ref: StateRef): AsyncGenerator<DriftItem> {
  const node = await getJson(store, ref, findingsNode, 'findings');
  for (const f of node.findings ?? []) yield f;
  for (const p of node.parts ?? []) yield* readFindings(store, p);
}

/** Every repair record of a records tree, in order. */
export async function* readRepairs(store: StateStore, ref: StateRef): AsyncGenerator<RepairRecord> {
  const node = await getJson(store, ref, findingsNode, 'repair records');
  for (const r of node.repairs ?? []) yield r;
  for (const p of node.parts ?? []) yield* readRepairs(store, p);
}

const endpointOf = (e: RegistryEndpoint) => ({ registry: e.registry, ...(e.insecure !== undefined ? { insecure: e.insecure } : {}), ...(e.credentials ? { credentials: e.credentials } : {}), ...(e.limits ? { limits: e.limits } : {}) });

/**
 * The repairs' signing settings: promote's, except that keyless signing without a trusted root would sign anew with
 * the public-good instance unasked, so repairs then leave signing out (signature drift is then repaired only by
 * verified copies from peers).
 */
function repairSigning(spec: Spec): RunSigning | undefined {
  return spec.signing?.keyless && !spec.signing.keyless.trustedRoot ? undefined : runSigningOf(spec);
}

/** The reconcile bundle: every declared digest at every destination it goes to (no `work` filter), the repair policy. */
export function reconcileBundleFromSpec(spec: Spec, commit?: string): RunBundle {
  const signing = repairSigning(spec);
  const items: RunBundle['items'] = [];
  for (const img of spec.images) {
    for (const [digest, tags] of Object.entries(img.dmap)) items.push({ image: img.name, digest, tags: [...tags].sort(), ...(img.allowTagMove ? { allowTagMove: true } : {}), ...(img.project ? { project: img.project } : {}) });
  }
  return {
    version: 1,
    name: spec.name,
    manifestFiles: spec.files,
    ...(commit ? { commit } : {}),
    source: endpointOf(spec.source),
    destinations: spec.destinations.map((d) => ({ name: d.name, ...endpointOf(d), ...(d.taskQueue ? { taskQueue: d.taskQueue } : {}) })),
    phases: spec.phases.map((p) => ({ name: p.name, destinations: p.destinations, soakSeconds: p.soakSeconds, verify: p.gates.verify, approval: p.gates.approval })),
    ...(spec.projects?.length ? { projects: spec.projects.map((p) => ({ name: p.name, source: endpointOf(p.source), destinations: p.destinations })) } : {}),
    ...(signing ? { signing } : {}),
    ...(spec.sourcePolicy ? { sourceSignedBy: sourceSignedByOf(spec)! } : {}),
    items,
  };
}

/** What the manifests ask reconcile to check, and the public key beside a `file://….key` signing key. */
export function reconcilePolicy(spec: Spec): { policy: DriftPolicy; publicKey?: string } {
  const cosignTags = spec.signing ? spec.signing.formats.includes('cosign-tag') : false;
  const key = spec.signing?.key;
  return {
    policy: { signatures: cosignTags, attestations: cosignTags && (spec.signing?.attest ?? false) },
    ...(key?.startsWith('file://') && key.endsWith('.key') ? { publicKey: `${key.slice(0, -'.key'.length)}.pub` } : {}),
  };
}

/** `git fetch` of `ref` from `repository` into a worker-local cache: the commit the ref points to now. */
export async function fetchHead(repository: string, ref: string, cacheRoot = join(tmpdir(), 'promoflow-git')): Promise<{ top: string; commit: string }> {
  const top = join(cacheRoot, createHash('sha256').update(repository).digest('hex').slice(0, 16));
  await mkdir(top, { recursive: true });
  const git = (args: string[]) => run('git', args, { cwd: top, encoding: 'utf8', maxBuffer: 64 << 20 });
  await git(['init', '--bare', '--quiet']);
  try {
    await git(['fetch', '--quiet', '--force', '--no-tags', repository, `+${ref}:refs/promoflow/head`]);
  } catch (e) {
    const msg = ((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n').pop() ?? 'git fetch failed';
    // A ref or repository that does not exist is the schedule's mistake; anything else (network) is transient.
    if (/couldn't find remote ref|does not appear to be a git repository|not found/i.test(msg)) throw ApplicationFailure.nonRetryable(`cannot fetch ${ref} from ${repository}: ${msg}`, 'SourceUnavailable');
    throw ApplicationFailure.retryable(`cannot fetch ${ref} from ${repository}: ${msg}`, 'SourceFetchFailed');
  }
  const commit = (await git(['rev-parse', 'refs/promoflow/head^{commit}'])).stdout.trim();
  return { top, commit };
}

/** The manifests at the current head of `ref` (path: a manifest file or directory inside the repository). */
export async function loadGitHead(repository: string, ref: string, manifestPath: string): Promise<{ spec: Spec; commit: string }> {
  const { top, commit } = await fetchHead(repository, ref);
  const path = manifestPath.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  // The manifest path names a file or a directory inside the repository; GitSource roots at its directory.
  const isFile = /\.ya?ml$/.test(path);
  const dir = isFile ? path.split('/').slice(0, -1).join('/') : path;
  const rel = isFile ? path.split('/').pop()! : '';
  const spec = await loadOrFail(() => loadSpecFrom(new GitSource(top, commit, dir, `${repository}@${commit.slice(0, 12)}:${dir || '.'}`), rel));
  return { spec, commit };
}

async function loadOrFail(load: () => Promise<{ spec: Spec }>): Promise<Spec> {
  try {
    return (await load()).spec;
  } catch (e) {
    if (e instanceof ManifestLoadError) throw ApplicationFailure.nonRetryable(`${e.format()}\n${e.errors.length} error(s) in the manifest: nothing was reconciled`, 'ManifestInvalid');
    throw ApplicationFailure.nonRetryable((e as Error).message, 'ManifestInvalid');
  }
}

function desiredRepos(shard: ShardDoc, batch: number): Map<string, DesiredRepo[]> {
  const byDest = new Map<string, Map<string, DesiredRepo>>();
  for (const e of shard.batches[batch] ?? []) {
    for (const d of e.dests) {
      let repos = byDest.get(d);
      if (!repos) byDest.set(d, (repos = new Map()));
      let r = repos.get(e.image);
      if (!r) repos.set(e.image, (r = { destination: d, image: e.image, entries: [] }));
      r.entries.push({ digest: e.digest, tags: [...e.tags].sort(), ...(e.allowTagMove ? { allowTagMove: true } : {}), ...(e.project ? { project: e.project } : {}) });
    }
  }
  return new Map([...byDest].map(([d, m]) => [d, [...m.values()]]));
}

function countFindings(items: readonly DriftItem[]): FindingCounts {
  const c: FindingCounts = {};
  for (const i of items) {
    const t = (c[i.destination] ??= {});
    t[i.kind] = (t[i.kind] ?? 0) + 1;
  }
  return c;
}

export function registryInventory(deps: ActivityDeps): InventoryReader {
  return async (destination, repos, policy, publicKey, progress) => {
    const r = await inventoryRepos(deps.scopes.clientFor(destination), { destination, repos, policy, ...(publicKey ? { publicKey } : {}) }, progress);
    return r.report.items;
  };
}

export function reconcileRunActivities(deps: ActivityDeps, inventory: InventoryReader = registryInventory(deps)) {
  const { store } = deps;
  // Documents are immutable: every batch of a run reads the same bundle and shard list, parsed once per worker.
  const cache = new DocCache(64);
  const bundleOf = (ref: StateRef) => cache.get(ref, () => getJson(store, ref, runBundle, 'reconcile bundle'));
  const shardOf = async (shards: StateRef, i: number): Promise<ShardDoc> => {
    const ref = (await cache.get(shards, () => getJson(store, shards, shardsDoc, 'shard list'))).shards[i];
    if (!ref) throw ApplicationFailure.nonRetryable(`shard ${i} is not in the shard list ${shards}`, 'StateCorrupt');
    return cache.get(ref, () => getJson(store, ref, shardDoc, 'shard'));
  };
  const peers = reconcileActivities(deps);

  return {
    async resolveReconcileSource(input: ResolveSourceInput): Promise<ResolveSourceResult> {
      const s = input.source;
      if (s.kind === 'bundle') {
        const b = await bundleOf(s.bundle);
        return { bundle: s.bundle, manifestFiles: b.manifestFiles, ...(b.commit ? { commit: b.commit } : {}), ...s.policy };
      }
      if (s.kind === 'dir') {
        const spec = await loadOrFail(() => loadSpec(s.path));
        return { bundle: await putJson(store, reconcileBundleFromSpec(spec)), manifestFiles: spec.files, ...reconcilePolicy(spec) };
      }
      const { spec, commit } = await loadGitHead(s.repository, s.ref, s.path);
      return { bundle: await putJson(store, reconcileBundleFromSpec(spec, commit)), commit, manifestFiles: spec.files, ...reconcilePolicy(spec) };
    },

    /** Shards of the whole desired state (every phase's destinations), a repository never split. */
    async planInventory(input: PlanInventoryInput): Promise<PlannedPhase & { repos: number }> {
      const bundle = await bundleOf(input.bundle);
      const shards: ShardDoc[] = [];
      for (let pi = 0; pi < bundle.phases.length; pi++) {
        shards.push(...shardPhase(bundle, pi, new Set(), { batchEdges: input.batchEdges, shardEdges: input.shardEdges, maxShards: MAX_SHARDS, wholeRepos: true }).shards);
      }
      const refs: StateRef[] = [];
      for (const s of shards) refs.push(await putJson(store, s));
      const queues: Record<number, string> = {};
      shards.forEach((s, i) => s.taskQueue && (queues[i] = s.taskQueue));
      const repos = new Set<string>();
      for (const s of shards) for (const b of s.batches) for (const e of b) for (const d of e.dests) repos.add(`${d}\u0000${e.image}`);
      return {
        shards: await putJson(store, { shards: refs }),
        sizes: shards.map((s) => [s.batches.reduce((n, b) => n + b.reduce((k, e) => k + e.dests.length, 0), 0), s.batches.length]),
        ...(Object.keys(queues).length ? { queues } : {}),
        repos: repos.size,
      };
    },

    /**
     * Inventory one batch. With `unreadable` set (the batch failed past its retries) nothing is read: every
     * repository of the batch is reported unreadable with that reason.
     */
    async inventoryShardBatch(input: InventoryShardBatchInput): Promise<InventoryShardBatchResult> {
      const ctx = Context.current();
      const bundle = await bundleOf(input.bundle);
      const shard = await shardOf(input.shards, input.shard);
      const byDest = desiredRepos(shard, input.batch);
      const items: DriftItem[] = [];
      let repos = 0;
      let done = 0;
      try {
        for (const [name, want] of byDest) {
          repos += want.length;
          const dest = bundle.destinations.find((d) => d.name === name);
          if (input.unreadable || !dest) {
            const why = input.unreadable ?? `destination ${name} is not in the bundle`;
            for (const r of want) items.push({ kind: 'unreadable', destination: r.destination, image: r.image, repair: 'none', detail: `could not read ${r.image} at ${r.destination}: ${why}` });
            continue;
          }
          items.push(...(await inventory(dest, want, input.policy, input.publicKey, () => ctx.heartbeat({ done: ++done }))));
        }
      } catch (e) {
        throw classify(e);
      }
      const report = summarize(items, repos);
      return {
        repos,
        counts: countFindings(items),
        findings: items.length,
        repairable: report.repairable,
        sample: items.slice(0, FINDING_SAMPLE),
        ...(items.length ? { ref: await putJson(store, { findings: items }) } : {}),
      };
    },

    /**
     * The repair promotion: each digest with promotion-repairable findings, with work only at those destinations
     * and only the tags safe to set there (a tag moved by hand that may not be reset stays out). The signing home
     * is a phase of its own first (the other destinations replicate signatures from it).
     */
    async planRepair(input: PlanRepairInput): Promise<PlanRepairResult> {
      const bundle = await bundleOf(input.bundle);
      const declared = new Map(bundle.items.map((i) => [`${i.project ?? ''}|${i.image}|${i.digest}`, i]));
      const work: DriftItem[] = [];
      const keep = new Set<string>();
      for await (const f of readFindings(store, input.findings)) {
        if (!f.digest) continue;
        if (f.kind === 'moved-tag' && f.repair === 'none') keep.add(`${f.destination}|${f.image}|${f.digest}|${f.tag}`);
        if (f.repair === 'promote' || (f.repair === 'signatures' && bundle.signing)) work.push(f);
      }
      if (work.length === 0) return {};
      // (item, tags allowed there, tag move allowed) → destinations.
      const groups = new Map<string, { item: RunBundle['items'][number]; tags: string[]; allowTagMove: boolean; dests: Set<string> }>();
      const byDestItem = new Map<string, { allowTagMove: boolean }>();
      for (const f of work) {
        const k = `${f.destination}|${f.project ?? ''}|${f.image}|${f.digest}`;
        const prev = byDestItem.get(k) ?? { allowTagMove: false };
        prev.allowTagMove ||= f.kind === 'moved-tag' && f.repair === 'promote';
        byDestItem.set(k, prev);
      }
      for (const [k, v] of byDestItem) {
        const [dest, project, image, digest] = k.split('|') as [string, string, string, string];
        const item = declared.get(`${project}|${image}|${digest}`);
        if (!item) continue;
        const tags = item.tags.filter((t) => !keep.has(`${dest}|${image}|${digest}|${t}`));
        const allowTagMove = (item.allowTagMove ?? false) || v.allowTagMove;
        const g = `${project}|${image}|${digest}|${tags.join(',')}|${allowTagMove}`;
        let e = groups.get(g);
        if (!e) groups.set(g, (e = { item, tags, allowTagMove, dests: new Set() }));
        e.dests.add(dest);
      }
      const items = [...groups.values()].map(({ item, tags, allowTagMove, dests }) => ({
        image: item.image, digest: item.digest, tags, ...(allowTagMove ? { allowTagMove: true } : {}), ...(item.project ? { project: item.project } : {}), work: [...dests].sort(),
      }));
      const all = bundle.destinations.map((d) => d.name);
      const home = bundle.signing?.home.name;
      const homeWork = home !== undefined && items.some((i) => i.work.includes(home));
      const gates = { soakSeconds: 0, verify: true, approval: false };
      const phases = homeWork
        ? [{ name: 'repair-home', destinations: [home], ...gates }, { name: 'repair', destinations: all.filter((d) => d !== home), ...gates }]
        : [{ name: 'repair', destinations: all, ...gates }];
      const repair: RunBundle = { ...bundle, name: `${input.name}-repair`, phases, items };
      return { promotion: { bundle: await putJson(store, repair), phases: phases.map(({ destinations: _d, ...p }) => p), totalEdges: edgeCount(repair) } };
    },

    /** Without a signing key: copy each missing or invalid signature/attestation from a peer holding a verified one. */
    async repairSignaturesFromPeers(input: RepairSignaturesFromPeersInput): Promise<{ records?: StateRef }> {
      const bundle = await bundleOf(input.bundle);
      if (bundle.signing) return {};
      const byDigest = new Map<string, { image: string; digest: string; kinds: Set<'sig' | 'att'>; to: Set<string> }>();
      for await (const i of readFindings(store, input.findings)) {
        if (!i.digest) continue;
        const sig = i.repair === 'signatures' && (i.kind === 'missing-signature' || i.kind === 'invalid-signature');
        const att = i.repair === 'signatures' && (i.kind === 'missing-attestation' || i.kind === 'invalid-attestation');
        if (!sig && !att) continue;
        const k = `${i.image}@${i.digest}`;
        let e = byDigest.get(k);
        if (!e) byDigest.set(k, (e = { image: i.image, digest: i.digest, kinds: new Set(), to: new Set() }));
        e.kinds.add(sig ? 'sig' : 'att');
        e.to.add(i.destination);
      }
      if (byDigest.size === 0) return {};
      const projects = new Map((bundle.projects ?? []).map((p) => [p.name, p.destinations]));
      const projectOf = new Map(bundle.items.map((i) => [i.image, i.project]));
      const names = bundle.destinations.map((d) => d.name);
      const endpoints = [...bundle.destinations, { name: 'source', ...bundle.source }];
      const records: RepairRecord[] = [];
      const list = [...byDigest.values()];
      for (let i = 0; i < list.length; i += 100) {
        const chunk = list.slice(i, i + 100).map((e) => {
          const p = projectOf.get(e.image);
          const holders = p ? names.filter((n) => projects.get(p)?.includes(n)) : names;
          return { image: e.image, digest: e.digest, kinds: [...e.kinds].sort(), to: [...e.to], from: [...holders.filter((n) => !e.to.has(n)), 'source'] };
        });
        const { results } = await peers.repairSignatures({ endpoints, items: chunk, ...(input.publicKey ? { publicKey: input.publicKey } : {}) });
        for (const r of results) {
          records.push({ kind: r.kind === 'sig' ? 'missing-signature' : 'missing-attestation', destination: r.destination, image: r.image, digest: r.digest, status: r.status === 'failed' ? 'failed' : 'repaired', ...(r.from ? { via: `copy from ${r.from}` } : {}), ...(r.error ? { error: r.error } : {}) });
        }
      }
      return { records: await putJson(store, { repairs: records }) };
    },

    /** Which findings the repairs fixed: each repairable finding gets one record (repaired, failed, not repaired). */
    async settleRepairs(input: SettleRepairsInput): Promise<SettleRepairsResult> {
      const edges = new Map<string, EdgeRecord>();
      if (input.promotion) for await (const e of readAccount(store, input.promotion)) edges.set(`${e.image}@${e.digest}|${e.destination}`, e);
      const sigs = new Map<string, RepairRecord>();
      if (input.signatures) for await (const r of readRepairs(store, input.signatures)) sigs.set(`${r.image}@${r.digest}|${r.destination}|${r.kind.endsWith('signature') ? 'sig' : 'att'}`, r);
      const records: RepairRecord[] = [];
      const out = { repaired: 0, failed: 0, notRepaired: 0 };
      for await (const f of readFindings(store, input.findings)) {
        if (f.repair === 'none') continue;
        const base = { kind: f.kind, destination: f.destination, image: f.image, ...(f.digest ? { digest: f.digest } : {}), ...(f.tag ? { tag: f.tag } : {}) };
        const key = `${f.image}@${f.digest}|${f.destination}`;
        const sig = f.repair === 'signatures' ? sigs.get(`${key}|${f.kind.endsWith('signature') ? 'sig' : 'att'}`) : undefined;
        const edge = edges.get(key);
        let rec: RepairRecord;
        if (sig) rec = { ...base, status: sig.status, ...(sig.via ? { via: sig.via } : {}), ...(sig.error ? { error: sig.error } : {}) };
        else if (edge) {
          const ok = edge.outcome === 'promoted' || edge.outcome === 'present';
          rec = { ...base, status: ok ? 'repaired' : 'failed', via: 'repair promotion', ...(ok ? {} : { error: `${edge.errorType ?? edge.outcome}: ${edge.error ?? ''}` }) };
        } else if (input.promotionError && (f.repair === 'promote' || f.repair === 'signatures')) rec = { ...base, status: 'failed', error: input.promotionError };
        else rec = { ...base, status: 'not-repaired' };
        records.push(rec);
        out[rec.status === 'repaired' ? 'repaired' : rec.status === 'failed' ? 'failed' : 'notRepaired']++;
      }
      return { ...out, ...(records.length ? { records: await putJson(store, { repairs: records }) } : {}) };
    },
  };
}
