// Tag listing with pagination: follows the Link header (rel="next") until the registry stops sending one, streamed
// page by page and bounded by the registry's maxTags (a hostile registry may send 130,000 tags in one page).
import { z } from 'zod';
import type { RegistryClient } from './client';
import { OciError } from './errors';
import { formatRepository, type RepositoryRef } from '../model';
import { limitHint } from './limits';
import { nextPage } from './pagination';
import { discard, readBody } from './transport';

const TagList = z.object({ name: z.string().optional(), tags: z.array(z.string()).nullable().optional() }).loose();

/** Every tag of a repository, page by page (`pageSize` is a hint the registry may lower). */
export async function* iterateTags(c: RegistryClient, repo: RepositoryRef, opts: { pageSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<string[]> {
  let url: URL = await c.url(repo, `tags/list${opts.pageSize ? `?n=${opts.pageSize}` : ''}`);
  const what = `list tags of ${formatRepository(repo)}`;
  const { maxTags } = c.limitsFor(repo.registry);
  let seen = 0;
  let empty = 0;
  for (;;) {
    const res = await c.send(repo, { method: 'GET', path: url, headers: { accept: 'application/json' }, scopes: [`repository:${repo.repository}:pull`], ...(opts.signal ? { signal: opts.signal } : {}) });
    if (res.status === 404) {
      // distribution answers NAME_UNKNOWN for a repository with no tags yet.
      await discard(res);
      return;
    }
    if (res.status !== 200) throw await c.error(res, { what, registry: repo.registry });
    const body = await readBody(res, 16 << 20);
    let parsed: z.infer<typeof TagList>;
    try {
      parsed = TagList.parse(JSON.parse(body.toString('utf8')));
    } catch {
      throw new OciError(`${what}: the registry returned an invalid tag list`);
    }
    const tags = parsed.tags ?? [];
    seen += tags.length;
    // Every page is non-empty or the last: an endless run of empty pages also ends here, at most maxTags + 1 pages.
    if (seen > maxTags) throw new OciError(`${what}: more than ${maxTags} tags; ${limitHint(repo.registry, 'maxTags')}`, { code: 'TOO_MANY_TAGS' });
    yield tags;
    const next = nextPage(res, url, what);
    if (!next) return;
    if (tags.length === 0 && ++empty > 1) throw new OciError(`${what}: the registry keeps sending empty pages`);
    url = next;
  }
}

export async function listTags(c: RegistryClient, repo: RepositoryRef, opts: { pageSize?: number; signal?: AbortSignal } = {}): Promise<string[]> {
  const all: string[] = [];
  // One push per tag: spreading a 130,000-element page into push() overflows the call stack.
  for await (const page of iterateTags(c, repo, opts)) for (const t of page) all.push(t);
  return all;
}
