// in-toto attestation statements. cosign >= 3.0.6 parses statements strictly (protojson): exactly _type,
// subject, predicateType, predicate at the top, so nothing else is ever written.
import { z } from 'zod';
import { assertDigest, digestHex } from '../model';
import { goJson, parseJsonWith, utf8 } from './encoding';

export const INTOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

export interface Subject {
  name?: string;
  digest: { sha256: string };
}

export interface Statement<P = unknown> {
  _type: string;
  subject: Subject[];
  predicateType: string;
  predicate: P;
}

export function subjectForDigest(name: string | undefined, digest: string): Subject {
  assertDigest(digest, 'subject digest');
  const d = { sha256: digest.slice('sha256:'.length) };
  return name ? { name, digest: d } : { digest: d };
}

export function statement<P>(subject: Subject[], predicateType: string, predicate: P): Statement<P> {
  if (subject.length === 0) throw new Error('in-toto statement needs at least one subject');
  return { _type: INTOTO_STATEMENT_V1, subject, predicateType, predicate };
}

export function serializeStatement(st: Statement): Buffer {
  return utf8(goJson({ _type: st._type, subject: st.subject, predicateType: st.predicateType, predicate: st.predicate }));
}

export const StatementSchema = z
  .object({
    _type: z.string(),
    subject: z.array(z.object({ name: z.string().optional(), digest: z.record(z.string(), z.string()) }).passthrough()).min(1),
    predicateType: z.string(),
    predicate: z.unknown(),
  })
  .strict();

export type ParsedStatement = z.infer<typeof StatementSchema>;

export function parseStatement(bytes: Uint8Array): ParsedStatement {
  return parseJsonWith(bytes, StatementSchema, 'in-toto statement is not JSON', (issues) => `in-toto statement is malformed: ${issues}`, '(top)');
}

/**
 * Does a signed statement (the payload whose signature already verified) speak of `digest`, with the expected
 * predicate type when one is given? The reason names what differs.
 */
export function statementCovers(payload: Uint8Array, check: { digest: string; predicateType?: string }): { ok: true } | { ok: false; reason: string } {
  let st;
  try {
    st = parseStatement(payload);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  if (check.predicateType !== undefined && st.predicateType !== check.predicateType) return { ok: false, reason: `predicateType is ${st.predicateType}, expected ${check.predicateType}` };
  if (!st.subject.some((s) => s.digest['sha256'] === digestHex(check.digest))) return { ok: false, reason: `no statement subject has digest ${check.digest}` };
  return { ok: true };
}
