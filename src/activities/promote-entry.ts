// The registry EntryExecutor: one image digest to some of its destinations inside a batch activity, the same
// steps as an ImagePromotion child but without a workflow per digest: check the source (when signing or a source
// policy needs it), copy to all destinations at once (one failing destination never stops the others), sign
// and attest once at the signing home when it is among them, replicate the signatures to the others, and verify
// every destination (digest and tags when the phase verifies; signatures when the run signs). Failures become
// records: transient ones (registry down, 429, resets) are marked so the batch is retried within its window.
import { ApplicationFailure } from '@temporalio/common';
import type { ShardEntry } from './shards';
import { copyActivities, copyToDestinations } from './copy';
import { replicateToMirrors, signingActivities, type MirrorOutcome } from './signing';
import { verifyActivities } from './verify';
import type { ActivityDeps } from './deps';
import type { EntryContext, EntryExecutor, ExecutedEdge } from './sharded';
import type { DestinationRef, EdgeRecord, ProvenanceRef, SourceEvidence } from '../contract';

function failureOf(e: unknown): { type: string; message: string; transient: boolean } {
  if (e instanceof ApplicationFailure) return { type: e.type ?? 'Error', message: e.message, transient: !e.nonRetryable };
  return { type: 'Error', message: e instanceof Error ? e.message.split('\n')[0]! : String(e), transient: true };
}

/**
 * What the digest's provenance and VSA record. Every field comes from the bundle, the entry and the workflow's
 * state (the rollout's timestamps; the current phase's start dates the attestation), so a retry writes the same.
 */
function provenanceFor(entry: ShardEntry, ctx: EntryContext, evidence: SourceEvidence | undefined): ProvenanceRef {
  const rollout = ctx.rollout ?? [];
  // The phases this digest went through: those with one of its destinations, and the current one.
  const mine = new Set([...(entry.earlier ?? []), ...entry.dests]);
  const phases = rollout.filter((p, k) => k === rollout.length - 1 || (ctx.bundle.phases.find((b) => b.name === p.name)?.destinations.some((d) => mine.has(d)) ?? false));
  return {
    sourceRepository: `${ctx.source.registry}/${entry.image}`,
    // Where this image goes in this run, and nowhere else (not every destination of every project).
    destinations: ctx.goesTo.map((r) => `${r}/${entry.image}`),
    manifestPath: ctx.bundle.manifestFiles.join(','),
    ...(ctx.bundle.commit ? { gitCommit: ctx.bundle.commit } : {}),
    ...ctx.run,
    finishedOn: rollout.at(-1)?.startedAt ?? ctx.run.startedOn,
    ...(ctx.rollout ? { rollout: { tags: [...entry.tags], phases } } : {}),
    verification: {
      sourcePolicy: evidence ? evidence.policy : { type: 'none' },
      inputAttestations: evidence?.signatures ?? [],
    },
  };
}

export function registryExecutor(deps: ActivityDeps): EntryExecutor {
  return async (entry: ShardEntry, ctx: EntryContext): Promise<ExecutedEdge[]> => {
    // The steps heartbeat through the batch (keeping its progress reference), not with details of their own.
    const stepDeps = { ...deps, heartbeat: ctx.heartbeat };
    const copy = copyActivities(stepDeps);
    const copyAll = copyToDestinations(stepDeps);
    const sign = signingActivities(stepDeps);
    const replicate = replicateToMirrors(stepDeps);
    const verify = verifyActivities(stepDeps);
    const base = (d: string): Pick<EdgeRecord, 'image' | 'digest' | 'destination' | 'phase'> => ({ image: entry.image, digest: entry.digest, destination: d, phase: ctx.phase });
    const failed = (d: string, e: unknown): ExecutedEdge => {
      const f = failureOf(e);
      return { ...base(d), outcome: f.type === 'SourceLost' ? 'lost' : 'failed', errorType: f.type, error: f.message, ...(f.transient ? { transient: true } : {}) };
    };
    const signing = ctx.bundle.signing;
    let children: string[] = [];
    let subjects: Array<{ digest: string; size: number; mediaType: string }> = [];
    let sourceEvidence: SourceEvidence | undefined;
    if (signing || ctx.bundle.sourceSignedBy) {
      try {
        ({ children, descriptors: subjects, sourceEvidence } = await copy.checkSource({ image: entry.image, digest: entry.digest, source: ctx.source, ...(ctx.bundle.sourceSignedBy ? { requireSignedBy: ctx.bundle.sourceSignedBy } : {}) }));
      } catch (e) {
        return ctx.destinations.map((d) => failed(d.name, e));
      }
    }
    // One copy to all of this digest's destinations (one source read teed to all); failures stay per destination.
    const copies = await copyAll({ image: entry.image, digest: entry.digest, tags: entry.tags, allowTagMove: entry.allowTagMove, source: ctx.source, destinations: ctx.destinations, signal: ctx.signal });
    const edges: ExecutedEdge[] = ctx.destinations.map((d, i): ExecutedEdge => {
      const c = copies[i]!;
      return c.ok ? { ...base(d.name), outcome: c.result.status, ...(c.result.bytesCopied ? { bytesCopied: c.result.bytesCopied } : {}) } : failed(d.name, c.error);
    });
    const ok = (e: ExecutedEdge) => e.outcome === 'promoted' || e.outcome === 'present';
    const fail = (e: ExecutedEdge, type: string, message: string, transient = false) => Object.assign(e, { outcome: 'failed', errorType: type, error: message, ...(transient ? { transient } : {}) });
    const destOf = (name: string) => ctx.destinations.find((d) => d.name === name)!;
    if (ctx.verify) {
      await Promise.all(
        edges.filter(ok).map(async (e) => {
          try {
            const problems = await verify.verifyDestination({ destination: destOf(e.destination), items: [{ image: entry.image, digest: entry.digest, tags: entry.tags }] });
            if (problems.length) fail(e, 'VerifyFailed', problems.map((p) => p.problem).join('; '));
          } catch (err) {
            const f = failureOf(err);
            fail(e, f.type, `verification failed: ${f.message}`, f.transient);
          }
        }),
      );
    }
    if (!signing) return edges;
    // Attestations are written once per digest, in its last phase (entry.final): the provenance then holds the
    // whole rollout (every earlier phase, its soak, approval and verify gate). Earlier phases sign only.
    const attest = signing.attest && !!entry.final;
    const ref = { ...(signing.key ? { key: signing.key } : {}), ...(signing.keyless ? { keyless: signing.keyless } : {}), attest, dockerReference: signing.dockerReference, ...(signing.bundles ? { bundles: true } : {}) };
    const digests = [...children, entry.digest];
    const homeEdge = edges.find((e) => e.destination === signing.home.name);
    if (homeEdge && !ok(homeEdge)) {
      for (const e of edges.filter(ok)) fail(e, 'NotSigned', `not signed: the copy to the signing home ${signing.home.name} failed`, homeEdge.transient);
      return edges;
    }
    if (!edges.some(ok)) return edges;
    // The home holds the digest since an earlier phase when it is not in this batch: attest there.
    if (homeEdge || attest) {
      try {
        await sign.signAtHome({
          image: entry.image,
          digest: entry.digest,
          children,
          ...(signing.bundles ? { subjects } : {}),
          home: signing.home,
          signing: ref,
          provenance: provenanceFor(entry, ctx, sourceEvidence),
        });
      } catch (e) {
        const f = failureOf(e);
        for (const x of edges.filter(ok)) fail(x, 'SignFailed', `signing at ${signing.home.name} failed: ${f.type}: ${f.message}`, f.transient);
        return edges;
      }
    }
    const vsa = attest;
    // The attestations reach the destinations of the digest's earlier phases now (they hold its signature already).
    const inBatch = new Set(ctx.destinations.map((d) => d.name));
    const earlier = attest ? ctx.bundle.destinations.filter((x) => entry.earlier?.includes(x.name) && x.name !== signing.home.name && !inBatch.has(x.name)) : [];
    const earlierFailed = (d: DestinationRef, message: string, transient?: boolean) => {
      for (const x of edges.filter(ok)) fail(x, 'ReplicateFailed', `attestations not in place at ${d.name} (an earlier phase's destination): ${message}`, transient);
      return edges;
    };
    const problemsText = (ps: Array<{ digest: string; problem: string }>) => ps.map((p) => `${p.digest.slice(0, 19)}: ${p.problem}`).join('; ');
    /** Key-based .sig/.att images: read and verified at the home once, replicated to every mirror, proven there by digest. */
    const byDigest = async (): Promise<ExecutedEdge[]> => {
      const mirrors = edges.filter((e) => ok(e) && e.destination !== signing.home.name).map((e) => destOf(e.destination));
      let r: Awaited<ReturnType<typeof replicate>>;
      try {
        r = await replicate({ image: entry.image, digests, signing: ref, vsa, from: signing.home, to: [...earlier, ...mirrors] });
      } catch (err) {
        const f = failureOf(err);
        for (const x of edges.filter(ok)) fail(x, f.type === 'SignatureMissing' ? 'SignatureMissing' : 'ReplicateFailed', `signatures at the signing home ${signing.home.name}: ${f.message}`, f.transient);
        return edges;
      }
      if (r.home.length) {
        for (const x of edges.filter(ok)) fail(x, 'SignatureInvalid', `at the signing home ${signing.home.name}: ${problemsText(r.home)}`);
        return edges;
      }
      for (const [i, d] of earlier.entries()) {
        const o = r.mirrors[i]!;
        if (o.ok) continue;
        if ('error' in o) return earlierFailed(d, failureOf(o.error).message, failureOf(o.error).transient);
        return earlierFailed(d, problemsText(o.problems));
      }
      for (const e of edges.filter(ok)) {
        const k = mirrors.findIndex((d) => d.name === e.destination);
        const o: MirrorOutcome = k < 0 ? { ok: true } : r.mirrors[earlier.length + k]!;
        if (o.ok) e.signature = 'verified';
        else if ('error' in o) {
          const f = failureOf(o.error);
          fail(e, f.type === 'SignatureMissing' ? 'SignatureMissing' : 'ReplicateFailed', f.message, f.transient);
        } else fail(e, 'SignatureInvalid', problemsText(o.problems));
      }
      return edges;
    };
    /** Keyless bundles (and runs that write bundles): replicated, then verified by reading at every destination. */
    const byReading = async (): Promise<ExecutedEdge[]> => {
      for (const d of earlier) {
        try {
          await sign.replicateSignatures({ image: entry.image, digests, attest: true, ...(signing.bundles ? { bundles: true } : {}), ...(signing.keyless ? { keyless: true } : {}), from: signing.home, to: d });
          const problems = await sign.verifySignatures({ image: entry.image, digests, destination: d, signing: ref, vsa });
          if (problems.length) throw new Error(problemsText(problems));
        } catch (err) {
          const f = failureOf(err);
          return earlierFailed(d, f.message, f.transient);
        }
      }
      await Promise.all(
        edges.filter(ok).map(async (e) => {
          const dest: DestinationRef = destOf(e.destination);
          try {
            if (dest.name !== signing.home.name) {
              await sign.replicateSignatures({ image: entry.image, digests, attest, ...(signing.bundles ? { bundles: true } : {}), ...(signing.keyless ? { keyless: true } : {}), from: signing.home, to: dest });
            }
            const problems = await sign.verifySignatures({ image: entry.image, digests, destination: dest, signing: ref, vsa });
            if (problems.length) fail(e, 'SignatureInvalid', problemsText(problems));
            else e.signature = 'verified';
          } catch (err) {
            const f = failureOf(err);
            fail(e, f.type === 'SignatureMissing' ? 'SignatureMissing' : 'ReplicateFailed', f.message, f.transient);
          }
        }),
      );
      return edges;
    };
    return !signing.keyless && !signing.bundles ? byDigest() : byReading();
  };
}
