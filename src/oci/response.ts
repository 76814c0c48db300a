// Turning a non-success registry response into a typed OciError: parses the OCI error body
// ({"errors":[{code,message,detail}]}) and maps status + code to the error classes callers branch on.
import { z } from 'zod';
import { BlobUnknownError, ManifestUnknownError, OciError, RegistryUnavailableError, TooManyRequestsError, UnauthorizedError } from './errors';
import { discard, header, readBody, type HttpResponse } from './transport';

const ErrorBody = z.object({
  errors: z.array(z.object({ code: z.string().optional(), message: z.string().optional(), detail: z.unknown().optional() }).loose()),
});

export interface ErrorContext {
  /** What we were doing, e.g. "GET manifest 127.0.0.1:5000/app@sha256:…". */
  what: string;
  registry: string;
  /** Which resource kind a 404 refers to. */
  notFound?: 'manifest' | 'blob';
}

/** Parse Retry-After: delay-seconds or an HTTP-date. */
export function parseRetryAfter(v: string | undefined, now = Date.now()): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const d = Date.parse(t);
  if (Number.isNaN(d)) return undefined;
  return Math.max(0, d - now);
}

async function errorDetail(res: HttpResponse): Promise<{ code?: string; message?: string }> {
  if (res.body.readableEnded) return {};
  try {
    const buf = await readBody(res, 64 * 1024);
    const parsed = ErrorBody.safeParse(JSON.parse(buf.toString('utf8')));
    if (parsed.success && parsed.data.errors.length > 0) {
      const e = parsed.data.errors[0]!;
      const out: { code?: string; message?: string } = {};
      if (e.code !== undefined) out.code = e.code;
      if (e.message !== undefined) out.message = e.message;
      return out;
    }
  } catch {
    // not an OCI error body
  } finally {
    await discard(res);
  }
  return {};
}

export async function errorFromResponse(res: HttpResponse, ctx: ErrorContext): Promise<OciError> {
  const { code, message } = await errorDetail(res);
  const s = res.status;
  const said = `${s}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  const base = { status: s, ...(code !== undefined ? { code } : {}) };
  if (s === 401 || s === 403) {
    return new UnauthorizedError(`${ctx.what}: ${said}; check the credentials for ${ctx.registry} (docker login, docker config.json, credential helper) and that they grant this access`, base);
  }
  if (s === 404 && (ctx.notFound === 'manifest' || code === 'MANIFEST_UNKNOWN')) {
    return new ManifestUnknownError(`${ctx.what}: manifest not found (${said}); check the repository, tag or digest exist`, base);
  }
  if (s === 404 && (ctx.notFound === 'blob' || code === 'BLOB_UNKNOWN')) {
    return new BlobUnknownError(`${ctx.what}: blob not found (${said})`, base);
  }
  if (s === 429) {
    const ra = parseRetryAfter(header(res, 'retry-after'));
    return new TooManyRequestsError(`${ctx.what}: ${said}; ${ctx.registry} is rate-limiting: lower the request rate or concurrency for it`, { ...base, ...(ra !== undefined ? { retryAfterMs: ra } : {}) });
  }
  if (s >= 500 || s === 408) {
    return new RegistryUnavailableError(`${ctx.what}: ${said}; ${ctx.registry} is failing, retry later`, base);
  }
  return new OciError(`${ctx.what}: unexpected ${said}`, { ...base, retryable: false });
}
