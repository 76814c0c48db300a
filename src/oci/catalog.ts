// The catalog API: every repository of a registry (`/v2/_catalog`, following Link pagination). Registries that do
// not offer it answer 404, reported as such.
import { z } from 'zod';
import type { RegistryClient } from './client';
import { OciError, ReadMismatchError } from './errors';
import { sha256 } from './digest';
import { rereading } from './retry';
import type { RepositoryRef } from '../model';
import { nextPage } from './pagination';
import { discard, readBody } from './transport';

const Catalog = z.object({ repositories: z.array(z.string()).nullable().optional() }).loose();

/** A bound on what a registry's catalog may make us hold (registry.k8s.io has a few thousand repositories). */
const MAX_REPOSITORIES = 1_000_000;

function parseCatalog(body: Buffer, what: string): string[] {
  try {
    return Catalog.parse(JSON.parse(body.toString('utf8'))).repositories ?? [];
  } catch {
    throw new ReadMismatchError(`${what}: the registry returned an invalid catalog`, sha256(body));
  }
}

/** Every repository of a registry (catalog API, following Link pagination). */
export async function listRepositories(client: RegistryClient, registry: string): Promise<string[]> {
  const at: RepositoryRef = { registry, repository: '' };
  let url = new URL('/v2/_catalog?n=1000', await client.base(registry));
  const out: string[] = [];
  const what = `list repositories of ${registry}`;
  for (let empty = 0; ; ) {
    const pageUrl = url;
    // A page garbled or cut off in transit is read again; the same invalid page twice is the registry's answer.
    const { page, next } = await rereading(async () => {
      const res = await client.send(at, { method: 'GET', path: pageUrl, headers: { accept: 'application/json' }, scopes: ['registry:catalog:*'] });
      if (res.status !== 200) {
        if (res.status === 404) await discard(res);
        throw res.status === 404 ? new OciError(`${registry} has no catalog API: name the repository (registry/repo) instead`) : await client.error(res, { what, registry });
      }
      return { page: parseCatalog(await readBody(res, 16 << 20), what), next: nextPage(res, pageUrl, what) };
    }, client.retry);
    // One push per name: spreading a huge page into push() overflows the call stack.
    for (const r of page) out.push(r);
    if (out.length > MAX_REPOSITORIES) throw new OciError(`${what}: more than ${MAX_REPOSITORIES} repositories; name a repository prefix instead`);
    if (!next) return out;
    if (page.length === 0 && ++empty > 1) throw new OciError(`${what}: the registry keeps sending empty pages`);
    url = next;
  }
}

