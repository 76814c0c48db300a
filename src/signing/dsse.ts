// DSSE (Dead Simple Signing Envelope) v1: the pre-authentication encoding that is actually signed, and the
// envelope JSON cosign stores in .att layers (go-securesystemslib field order, keyid always present).
import { z } from 'zod';
import { b64, fromB64, goJson, parseJsonWith, utf8 } from './encoding';
import type { Signer } from './signer';

export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes as ASCII decimal. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = utf8(payloadType);
  return Buffer.concat([utf8(`DSSEv1 ${type.length} `), type, utf8(` ${payload.length} `), Buffer.from(payload)]);
}

export const EnvelopeSchema = z.object({
  payloadType: z.string(),
  payload: z.string(),
  signatures: z.array(z.object({ keyid: z.string().optional(), sig: z.string() })).min(1),
});

export type Envelope = z.infer<typeof EnvelopeSchema>;

export async function signEnvelope(payloadType: string, payload: Uint8Array, signer: Signer): Promise<Envelope> {
  const sig = await signer.sign(pae(payloadType, payload));
  // cosign writes keyid "" for key-based attestations; keep it so mirrors see identical bytes whoever signed.
  return { payloadType, payload: b64(payload), signatures: [{ keyid: '', sig: b64(sig) }] };
}

export function serializeEnvelope(env: Envelope): Buffer {
  return utf8(
    goJson({
      payloadType: env.payloadType,
      payload: env.payload,
      signatures: env.signatures.map((s) => ({ keyid: s.keyid ?? '', sig: s.sig })),
    }),
  );
}

export interface DecodedEnvelope {
  envelope: Envelope;
  payload: Buffer;
  signatures: Buffer[];
}

export function parseEnvelope(bytes: Uint8Array): DecodedEnvelope {
  const envelope = parseJsonWith(bytes, EnvelopeSchema, 'DSSE envelope is not JSON', () => 'DSSE envelope is malformed');
  return {
    envelope,
    payload: fromB64(envelope.payload, 'DSSE payload'),
    signatures: envelope.signatures.map((s) => fromB64(s.sig, 'DSSE signature')),
  };
}
