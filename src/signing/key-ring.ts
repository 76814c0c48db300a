// The signing keys and trust roots one worker uses, loaded once per reference: scrypt key derivation is slow on
// purpose and a trusted root is parsed once. An object the worker owns (not a module-level cache), so tests and
// workers each get their own, and a failed load is retried on the next use.
import type { TrustMaterial } from '@sigstore/verify';
import { z } from 'zod';
import { parseJsonWith } from './encoding';
import { loadPrivateKey } from './keys';
import { trustMaterialFromTrustedRoot } from './keyless';
import type { Signer } from './signer';

/** Reads a key or trusted-root reference (file:// or env://) into its text; throws a message naming the reference. */
export type ReferenceReader = (ref: string, what: string) => string;

export class KeyReferenceError extends Error {
  override name = 'KeyReferenceError';
}

/** A trusted_root.json is a JSON object; its fields are checked by sigstore's own parser. */
const trustedRootJson = z.record(z.string(), z.unknown());

export class KeyRing {
  private readonly signers = new Map<string, Promise<Signer>>();
  private readonly roots = new Map<string, TrustMaterial>();

  constructor(
    private readonly read: ReferenceReader,
    private readonly password: () => string | undefined = () => undefined,
  ) {}

  /** The signer for a key reference (password from the worker's environment). */
  signer(keyRef: string | undefined): Promise<Signer> {
    if (!keyRef) return Promise.reject(new KeyReferenceError('signing key: none configured (neither key nor keyless)'));
    let s = this.signers.get(keyRef);
    if (!s) {
      s = (async () => loadPrivateKey(this.read(keyRef, 'signing key'), this.password()))();
      s.catch(() => this.signers.delete(keyRef));
      this.signers.set(keyRef, s);
    }
    return s;
  }

  /** The trust material a keyless policy names (a trusted_root.json on the worker). */
  trustedRoot(ref: string | undefined): TrustMaterial {
    if (!ref) throw new KeyReferenceError('keyless verification: signing.keyless.trustedRoot is not set');
    let t = this.roots.get(ref);
    if (!t) {
      const text = this.read(ref, 'trusted root');
      let json: Record<string, unknown>;
      try {
        json = parseJsonWith(Buffer.from(text, 'utf8'), trustedRootJson, `trusted root ${ref}: not JSON`, (issues) => `trusted root ${ref}: not a JSON object (${issues})`);
      } catch (e) {
        throw new KeyReferenceError((e as Error).message);
      }
      t = trustMaterialFromTrustedRoot(json);
      this.roots.set(ref, t);
    }
    return t;
  }
}
