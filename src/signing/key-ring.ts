// The signing keys and trust roots one worker uses, loaded once per reference: scrypt key derivation is slow on
// purpose and a trusted root is parsed once. A keyless policy naming no trusted root gets the worker's TUF-obtained
// one (trust-root.ts). An object the worker owns (not a module-level cache), so tests and
// workers each get their own, and a failed load is retried on the next use.
import type { TrustMaterial } from '@sigstore/verify';
import { loadPrivateKey } from './keys';
import type { Signer } from './signer';
import { trustMaterialFromText, TrustRootConfigError } from './trust-root';

/** Reads a key or trusted-root reference (file:// or env://) into its text; throws a message naming the reference. */
export type ReferenceReader = (ref: string, what: string) => string;

export class KeyReferenceError extends Error {
  override name = 'KeyReferenceError';
}

export class KeyRing {
  private readonly signers = new Map<string, Promise<Signer>>();
  private readonly roots = new Map<string, TrustMaterial>();

  constructor(
    private readonly read: ReferenceReader,
    private readonly password: () => string | undefined = () => undefined,
    /** The instance's trust root through TUF, for keyless policies that name no file. */
    private readonly tuf?: { material(): Promise<TrustMaterial> },
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

  /**
   * The trust material of a keyless policy: the trusted_root.json it names on the worker, or, when it names none,
   * the instance's trust root through TUF (public-good unless the worker is configured for another).
   */
  async trustedRoot(ref: string | undefined): Promise<TrustMaterial> {
    if (!ref) {
      if (!this.tuf) throw new KeyReferenceError('keyless verification: signing.keyless.trustedRoot is not set and this worker has no TUF trust root configured');
      return this.tuf.material();
    }
    let t = this.roots.get(ref);
    if (!t) {
      const text = this.read(ref, 'trusted root');
      try {
        t = trustMaterialFromText(text, ref);
      } catch (e) {
        throw e instanceof TrustRootConfigError ? new KeyReferenceError(e.message) : e;
      }
      this.roots.set(ref, t);
    }
    return t;
  }
}
