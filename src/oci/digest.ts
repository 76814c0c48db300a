// Content digests (the name grammar is src/model's): sha256 of bytes, and a verifying stream wrapper that hashes as bytes pass and fails at the end
// (or as soon as the size is exceeded), before a consumer can commit anything it forwarded.
import { createHash } from 'node:crypto';
import type { Digest } from '../model';
import { DigestMismatchError } from './errors';

export function sha256(bytes: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Yield `source` unchanged while hashing it; after the last chunk, throw DigestMismatchError if the digest (or the
 * expected size, when given) differs. `what` names the blob in the error.
 */
export async function* verifying(source: AsyncIterable<Uint8Array>, expected: string, what: string, size?: number): AsyncGenerator<Uint8Array> {
  const h = createHash('sha256');
  let n = 0;
  for await (const chunk of source) {
    n += chunk.length;
    if (size !== undefined && n > size) throw new DigestMismatchError(`${what}: more than the ${size} bytes declared; the source is corrupt or not this blob`);
    h.update(chunk);
    yield chunk;
  }
  const got = `sha256:${h.digest('hex')}`;
  if (got !== expected) throw new DigestMismatchError(`${what}: content digest is ${got}, expected ${expected}; the data was corrupted in transit or at the source; nothing was committed`);
  if (size !== undefined && n !== size) throw new DigestMismatchError(`${what}: ${n} bytes, expected ${size}`);
}
