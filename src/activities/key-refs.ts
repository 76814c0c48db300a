// Key references from manifests, resolved on the worker only: `file://PATH` or `env://VAR` holding a PEM. The
// error names the reference and what to fix, never the key.
import { readFileSync } from 'node:fs';

export class KeyRefError extends Error {
  override name = 'KeyRefError';
}

export function readKeyRef(ref: string, what: string): string {
  if (ref.startsWith('file://')) {
    try {
      return readFileSync(ref.slice('file://'.length), 'utf8');
    } catch (e) {
      throw new KeyRefError(`${what} ${ref}: cannot read it on the worker (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (ref.startsWith('env://')) {
    const v = process.env[ref.slice('env://'.length)];
    if (!v) throw new KeyRefError(`${what} ${ref}: the variable is not set on the worker`);
    return v;
  }
  throw new KeyRefError(`${what} ${ref}: unsupported reference (use file://PATH or env://VAR; KMS signers plug in through the Signer interface)`);
}
