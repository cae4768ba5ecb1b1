import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { UpliftError } from '../errors/index.ts';
import type { OpenedStateStore, ServeTokenRecord, TokenRole } from '../state/index.ts';

/** A token name: what the audit shows as the actor. */
const tokenName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** sha256 (hex) of a token: what the store keeps. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Whether two secrets are equal, in time that does not depend on where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}

/**
 * Makes a named token (32 random bytes, base64url) and stores its hash: the token itself is
 * returned once and kept nowhere.
 */
export async function createServeToken(
  store: OpenedStateStore,
  name: string,
  role: TokenRole,
): Promise<{ token: string; record: ServeTokenRecord }> {
  if (!tokenName.test(name))
    throw new UpliftError('UPLIFT_SERVE_TOKEN_NAME', `the token name "${name}" is not allowed`, {
      hint: 'name it with 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. alice or ci-viewer)',
      unchanged: true,
    });
  const token = randomBytes(32).toString('base64url');
  if (!(await store.createToken({ name, role, hash: hashToken(token) })))
    throw new UpliftError(
      'UPLIFT_SERVE_TOKEN_EXISTS',
      `a token named "${name}" exists (or existed) in ${store.label}`,
      {
        hint: 'choose another name; names of revoked tokens stay taken so the audit keeps one meaning per name',
        unchanged: true,
      },
    );
  const record = (await store.listTokens()).find((t) => t.name === name);
  if (record === undefined) throw new Error(`unreachable: the token ${name} was just stored`);
  return { token, record };
}

/** Revokes a named token: sessions made with it end at their next request. */
export async function revokeServeToken(store: OpenedStateStore, name: string): Promise<void> {
  if (!(await store.revokeToken(name)))
    throw new UpliftError(
      'UPLIFT_SERVE_TOKEN_UNKNOWN',
      `there is no live token named "${name}" in ${store.label}`,
      {
        hint: 'list the tokens with uplift serve token list',
        unchanged: true,
      },
    );
}

/**
 * The live token a presented secret is, or undefined. The store finds it by the secret's sha256:
 * how long an index lookup takes can tell an attacker about the hash, never about a secret that
 * hashes to it, so no comparison of secrets depends on their bytes.
 */
export function findToken(
  store: OpenedStateStore,
  secret: string,
): Promise<ServeTokenRecord | undefined> {
  return store.tokenByHash(hashToken(secret));
}
