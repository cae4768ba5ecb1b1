import { sign, verify } from 'node:crypto';
import { z } from 'zod';
import type { PrivateKey } from './keys.ts';
import type { TrustSet } from './trust.ts';

/** A detached signature: which key, and the 64 signature bytes in base64. */
export const SignatureEnvelope = z.strictObject({
  keyid: z.string().regex(/^[0-9a-f]{64}$/),
  sig: z.string().regex(/^[A-Za-z0-9+/]{86}==$/),
});
export type Signature = z.infer<typeof SignatureEnvelope>;

/** Signs the exact bytes given: there is no canonicalisation on this path. */
export function signBytes(key: PrivateKey, bytes: Uint8Array): Signature {
  return { keyid: key.keyid, sig: sign(null, bytes, key.key).toString('base64') };
}

/** Checks one signature with one public key. */
export function verifyBytes(
  publicKey: { key: import('node:crypto').KeyObject },
  bytes: Uint8Array,
  sig: string,
): boolean {
  const raw = Buffer.from(sig, 'base64');
  if (raw.length !== 64) return false;
  try {
    return verify(null, bytes, publicKey.key, raw);
  } catch {
    return false;
  }
}

export type Verdict = 'ok' | 'untrusted' | 'revoked' | 'bad';

/**
 * Checks a detached signature against a trust set. A revoked key is refused even when the
 * signature is good; a key the set does not hold is `untrusted`.
 */
export function verifyEnvelope(trust: TrustSet, bytes: Uint8Array, s: Signature): Verdict {
  if (trust.revoked.has(s.keyid)) return 'revoked';
  const key = trust.keys.get(s.keyid);
  if (!key) return 'untrusted';
  return verifyBytes(key, bytes, s.sig) ? 'ok' : 'bad';
}
