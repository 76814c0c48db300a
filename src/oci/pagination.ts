// Link-header pagination (tags/list, _catalog): the next page's URL, which must stay on the origin of the page that
// named it. Pages carry the registry's credentials, so a Link to another origin is refused, never followed.
import { OciError } from './errors';
import { header, type HttpResponse } from './transport';

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (m && /(^|;)\s*rel\s*=\s*"?next"?\s*(;|$)/i.test(m[2] ?? '')) return m[1];
  }
  return undefined;
}

/** The next page after `res` (fetched from `current`), or undefined on the last page. */
export function nextPage(res: HttpResponse, current: URL, what: string): URL | undefined {
  const next = nextLink(header(res, 'link'));
  if (next === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(next, current);
  } catch {
    throw new OciError(`${what}: the registry sent an invalid pagination link`);
  }
  if (u.origin !== current.origin) throw new OciError(`${what}: pagination link points to another origin (${u.origin}); refusing to send this registry's credentials there`);
  return u;
}
