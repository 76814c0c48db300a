// Byte-level encodings shared by every signing module: base64, and JSON written the way Go's encoding/json writes
// it, because cosign (Go) produced the formats we must match byte-for-byte. (Digests are src/model's; hashing is
// src/oci's.)
import type { z } from 'zod';

/** Standard, padded base64: what cosign writes in annotations and what DSSE uses. */
export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** Strict std base64 decode: Node's decoder silently skips junk, which would let a tampered value through. */
export function fromB64(text: string, what = 'base64 value'): Buffer {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    throw new Error(`${what} is not standard padded base64`);
  }
  return Buffer.from(text, 'base64');
}

/**
 * JSON as Go's json.Marshal writes it: no whitespace, and <, >, &, U+2028, U+2029 escaped (HTML-safe).
 * Callers order object keys as the Go struct declares them; maps must be passed through sortedRecord.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Go marshals map[string]T with sorted keys. */
export function sortedRecord<T>(rec: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(rec).sort()) out[k] = rec[k] as T;
  return out;
}

export function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/**
 * Untrusted JSON bytes (registry blobs, envelopes, payloads) → a validated value. `notJson` is the error when the
 * bytes do not parse; `invalid` builds it from the schema's issues (path: message; …) when they do not validate.
 */
export function parseJsonWith<T>(bytes: Uint8Array, schema: z.ZodType<T>, notJson: string, invalid: (issues: string) => string, topPath = ''): T {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new Error(notJson);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(invalid(parsed.error.issues.map((i) => `${i.path.join('.') || topPath}: ${i.message}`).join('; ')));
  return parsed.data;
}
