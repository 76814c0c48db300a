// `promoflow trusted-root [--out FILE]`: the sigstore trusted root this machine's settings select (PROMOFLOW_TUF_*,
// default the public-good instance), obtained and verified through TUF exactly as a worker obtains it, written to
// FILE or printed. How an air-gapped worker's PROMOFLOW_TRUSTED_ROOT is prepared on a connected machine, and the
// file to give `cosign verify --trusted-root`.
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { TrustRootConfigError, trustRootConfigFromEnv, TrustRootUnavailableError, TufTrustRoot } from '../../signing';
import { CliError, EXIT } from '../exit-codes';
import { check, parse } from '../flags';
import type { Io } from '../promote';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parse('trusted-root', argv, { out: { type: 'string' } });
  const out = check(z.string().min(1, '--out needs a file path').optional(), values.out, 'trusted-root');
  try {
    const root = new TufTrustRoot(trustRootConfigFromEnv(process.env), (line) => io.stderr(line));
    const { source, text } = await root.refresh();
    const from = source === 'tuf' ? `TUF repository ${root.config.mirrorURL}` : source === 'cache' ? `cache ${root.cachedFile} (repository unreachable)` : `PROMOFLOW_TRUSTED_ROOT ${root.config.fallbackFile ?? ''}`;
    if (out === undefined) {
      io.stdout(text);
      return EXIT.OK;
    }
    writeFileSync(out, text);
    io.stderr(`trusted root from the ${from} written to ${out}`);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof TrustRootConfigError) throw new CliError(`promoflow trusted-root: ${e.message}`, EXIT.INVALID);
    if (e instanceof TrustRootUnavailableError) throw new CliError(`promoflow trusted-root: ${e.message}`, EXIT.UNAVAILABLE);
    throw e;
  }
}
