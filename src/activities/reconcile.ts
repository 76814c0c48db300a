// Reconciliation activities. `inventoryBatch` reads a batch of one destination's repositories (every tag, the
// declared digests, .sig/.att presence from the tags list, validity with the configured public key) and diffs them
// here, with the pure drift module, so only findings travel back: history grows with the drift, not with the size
// of the registries. `repairSignatures` adapts signing's repairFromPeers (a copy that verifies, copied from a
// peer destination or the source; no private key needed).
import type { KeyObject } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { mapLimit, OciError, type RegistryClient } from '../oci';
import { repositoryIn } from '../model';
import { loadPublicKey, repairFromPeers, SLSA_PROVENANCE_V1, verifyImageAttestations, verifyImageSignatures, type NamedStore } from '../signing';
import { diffRepo, summarize, type ArtifactState, type DriftItem, type ObservedRepo } from '../plan';
import type { InventoryBatchInput, InventoryBatchResult, RepairSignaturesInput, RepairSignaturesResult } from '../contract';
import { readRepoState } from '../inventory';
import { artifactStore } from './artifacts';
import { readKeyRef } from './key-refs';
import { classify } from './failures';
import type { ActivityDeps } from './deps';

/** A public key from a reference (file://PATH or env://VAR), on the worker. */
export function resolvePublicKey(ref: string): KeyObject {
  return loadPublicKey(readKeyRef(ref, 'public key'));
}

/** The body of `inventoryBatch`, without Temporal (the benchmark calls it directly). */
export async function inventoryRepos(client: RegistryClient, input: InventoryBatchInput, progress: (done: number) => void = () => undefined): Promise<InventoryBatchResult> {
  const key = input.publicKey ? resolvePublicKey(input.publicKey) : undefined;
  let tagsRead = 0;
  let done = 0;
  const items: DriftItem[] = [];
  // Repositories one after another, each with the registry's concurrency: the per-registry limit is the bound.
  await mapLimit(input.repos, 2, async (want) => {
    const repo = repositoryIn(input.destination.registry, want.image);
    const q = { digests: new Set(want.entries.map((e) => e.digest)) };
    let observed: ObservedRepo;
    try {
      const s = await readRepoState(client, { repo, digests: q.digests, tags: new Set() }, { allTags: true, concurrency: input.destination.limits?.concurrency ?? 16 });
      tagsRead += s.allTags.length;
      const signatures: Record<string, ArtifactState> = {};
      const attestations: Record<string, ArtifactState> = {};
      const reader = artifactStore(client, repo);
      for (const d of q.digests) {
        if (!s.digests.has(d)) continue;
        if (input.policy.signatures && s.signatures?.has(d)) signatures[d] = key ? ((await verifyImageSignatures(reader, { publicKey: key, digest: d })).ok ? 'valid' : 'invalid') : 'present';
        if (input.policy.attestations && s.attestations?.has(d)) attestations[d] = key ? ((await verifyImageAttestations(reader, { publicKey: key, digest: d, predicateType: SLSA_PROVENANCE_V1 })).ok ? 'valid' : 'invalid') : 'present';
      }
      observed = { destination: want.destination, image: want.image, tags: Object.fromEntries(s.tags), digests: [...s.digests], signatures, attestations };
    } catch (e) {
      // Auth and bad-request answers are this repository's problem; anything transient fails the batch (retried).
      if (!(e instanceof OciError) || e.retryable) throw e;
      observed = { destination: want.destination, image: want.image, tags: {}, digests: [], signatures: {}, attestations: {}, error: e.message.split('\n')[0] ?? 'error' };
    }
    items.push(...diffRepo(want, observed, input.policy));
    progress(++done);
  });
  // Stable order regardless of completion order (reports are compared and rendered).
  const order = new Map(input.repos.map((r, i) => [r.image, i]));
  items.sort((a, b) => order.get(a.image)! - order.get(b.image)!);
  return { report: summarize(items, input.repos.length), tagsRead };
}

export function reconcileActivities(deps: ActivityDeps) {
  // Clients scoped to each input's endpoints, over the worker's shared client: a scheduled scan and the promotions
  // running beside it share one per-registry budget, never credentials.
  const { scopes } = deps;

  return {
    async inventoryBatch(input: InventoryBatchInput): Promise<InventoryBatchResult> {
      const ctx = Context.current();
      try {
        return await inventoryRepos(scopes.clientFor(input.destination), input, (done) => ctx.heartbeat({ done }));
      } catch (e) {
        throw classify(e);
      }
    },

    async repairSignatures(input: RepairSignaturesInput): Promise<RepairSignaturesResult> {
      const ctx = Context.current();
      try {
        const client = scopes.clientFor(...input.endpoints);
        const endpoints = new Map(input.endpoints.map((e) => [e.name, e]));
        const results: RepairSignaturesResult['results'] = [];
        // A signature is copied only once it verifies: without a key there is nothing to verify it with, and an
        // unverified .sig/.att from staging or a peer could be anyone's.
        if (!input.publicKey) {
          for (const it of input.items) for (const kind of it.kinds) for (const name of it.to) {
            results.push({ image: it.image, digest: it.digest, destination: name, kind, status: 'failed', error: `not repaired: no public key to verify a ${kind === 'sig' ? 'signature' : 'attestation'} before copying it; pass --public-key (or sign with a key in the manifest)` });
          }
          return { results };
        }
        const key = resolvePublicKey(input.publicKey);
        for (const it of input.items) {
          const named = (name: string): NamedStore => {
            const e = endpoints.get(name);
            return { name, store: e && artifactStore(client, repositoryIn(e.registry, it.image)) };
          };
          for (const kind of it.kinds) {
            const outcomes = await repairFromPeers(it.digest, kind, it.from.map(named), it.to.map(named), key);
            for (const { destination, ...o } of outcomes) results.push({ image: it.image, digest: it.digest, destination, kind, ...o });
          }
          ctx.heartbeat();
        }
        return { results };
      } catch (e) {
        throw classify(e);
      }
    },
  };
}
