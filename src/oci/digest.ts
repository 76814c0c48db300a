// Content digests (the name grammar is src/model's): sha256 of bytes, and a verifying stream wrapper that hashes as bytes pass and fails at the end
// (or as soon as the size is exceeded), before a consumer can commit anything it forwarded (the last chunk waits for the check).
import { createHash } from 'node:crypto';
import type { Digest } from '../model';
import { ReadMismatchError } from './errors';
import { bodyError } from './transport';

export function sha256(bytes: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Yield `source` unchanged while hashing it; after the last chunk, throw ReadMismatchError (transient: re-read) if
 * the digest (or the expected size, when given) differs. A stream that breaks off is a transient
 * RegistryUnavailableError. `what` names the blob in the error.
 */
export async function* verifying(source: AsyncIterable<Uint8Array>, expected: string, what: string, size?: number): AsyncGenerator<Uint8Array> {
  const h = createHash('sha256');
  let n = 0;
  // The last chunk is held back until the digest is checked: a consumer forwarding the bytes (a monolithic PUT with
  // Content-Length) never sends a complete wrong body, so nothing is committed whether or not the far end verifies.
  let held: Uint8Array | undefined;
  try {
    for await (const chunk of source) {
      n += chunk.length;
      if (size !== undefined && n > size) throw new ReadMismatchError(`${what}: more than the ${size} bytes declared were read; nothing was committed`, `size>${size}`);
      h.update(chunk);
      if (held !== undefined) yield held;
      held = chunk;
    }
  } catch (e) {
    throw bodyError(what, e);
  }
  const got = `sha256:${h.digest('hex')}`;
  if (got !== expected) throw new ReadMismatchError(`${what}: content digest is ${got}, expected ${expected}; nothing was committed`, got);
  if (size !== undefined && n !== size) throw new ReadMismatchError(`${what}: ${n} bytes read, expected ${size}; nothing was committed`, `size=${n}`);
  if (held !== undefined) yield held;
}
