// The verification gate: does a destination hold exactly the declared digests, with every declared tag pointing
// at its digest? Read-only; returns the problems found (an empty list means verified).
import { Context } from '@temporalio/activity';
import { headManifest } from '../oci';
import { repositoryIn } from '../model';
import type { VerifyInput, VerifyProblem } from '../contract';
import { classify } from './failures';
import type { ActivityDeps } from './deps';

export function verifyActivities({ scopes, heartbeat }: Pick<ActivityDeps, 'scopes' | 'heartbeat'>) {
  return {
    async verifyDestination(input: VerifyInput): Promise<VerifyProblem[]> {
      const ctx = Context.current();
      try {
        const client = scopes.clientFor(input.destination);
        const problems: VerifyProblem[] = [];
        for (const it of input.items) {
          const repo = repositoryIn(input.destination.registry, it.image);
          // A tag that resolves to the digest proves the digest there too: one HEAD per tag, and one for the digest
          // only when no tag does (an untagged edge, or a problem to tell apart).
          const found: VerifyProblem[] = [];
          let proven = false;
          for (const tag of it.tags) {
            const t = await headManifest(client, repo, tag);
            if (!t) found.push({ image: it.image, digest: it.digest, problem: `tag ${tag} is missing` });
            else if (t.digest !== it.digest) found.push({ image: it.image, digest: it.digest, problem: `tag ${tag} points to ${t.digest}` });
            else proven = true;
          }
          if (!proven && !(await headManifest(client, repo, it.digest))) {
            problems.push({ image: it.image, digest: it.digest, problem: `${repo.registry}/${repo.repository}@${it.digest} is missing` });
            continue;
          }
          problems.push(...found);
          if (heartbeat) heartbeat();
          else ctx.heartbeat();
        }
        return problems;
      } catch (e) {
        throw classify(e);
      }
    },
  };
}
