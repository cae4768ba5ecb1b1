import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UpliftError, unreadableFileError } from '../errors/index.ts';
import { readRegularFile } from '../util/index.ts';
import { loadPublicKey, type PublicKey, publicKeyFromBase64 } from './keys.ts';

/** Keys whose signatures are accepted, and key ids that are refused even with a good signature. */
export interface TrustSet {
  keys: Map<string, PublicKey>;
  revoked: Set<string>;
}

/** A trust file: `{ format: "uplift-trust/1", keys: [{ public, name? }], revoked: [keyid] }`. */
export const TrustFile = z.strictObject({
  format: z.literal('uplift-trust/1'),
  keys: z.array(
    z.strictObject({
      public: z.string(),
      keyid: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
      name: z.string().optional(),
    }),
  ),
  revoked: z.array(z.string().regex(/^[0-9a-f]{64}$/)).default([]),
});
export type TrustFile = z.infer<typeof TrustFile>;

export function trustOf(keys: PublicKey[], revoked: Iterable<string> = []): TrustSet {
  return { keys: new Map(keys.map((k) => [k.keyid, k])), revoked: new Set(revoked) };
}

/**
 * Loads trust from a public key file (`.pub`), a trust file (`uplift-trust/1` JSON), or a
 * directory of `.pub` files with an optional `revoked` file (one key id per line).
 */
export async function loadTrust(path: string): Promise<TrustSet> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `${path} does not exist`, {
      hint: 'Give --trust a .pub file, a trust file or a directory of .pub files.',
      location: { file: path },
    });
  }
  if (isDir) {
    const names = (await readdir(path)).sort();
    const keys = await Promise.all(
      names.filter((n) => n.endsWith('.pub')).map((n) => loadPublicKey(join(path, n))),
    );
    const revoked = names.includes('revoked')
      ? (await readTrustFile(join(path, 'revoked')))
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '' && !l.startsWith('#'))
      : [];
    return trustOf(keys, revoked);
  }
  const text = await readTrustFile(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if ((json as { format?: unknown } | undefined)?.format === 'uplift-public-key/1')
    return trustOf([await loadPublicKey(path)]);
  const parsed = TrustFile.safeParse(json);
  if (!parsed.success)
    throw new UpliftError('UPLIFT_KEY_INVALID', `${path} is not a public key or a trust file`, {
      hint: 'A trust file is JSON: { "format": "uplift-trust/1", "keys": [{ "public": "<base64>" }], "revoked": ["<keyid>"] }.',
      location: { file: path, path: parsed.error.issues[0]?.path.join('.') || undefined },
    });
  const keys: PublicKey[] = [];
  for (const [i, k] of parsed.data.keys.entries()) {
    const key = publicKeyFromBase64(k.public);
    if (!key || (k.keyid && k.keyid !== key.keyid))
      throw new UpliftError('UPLIFT_KEY_INVALID', `${path}: keys[${i}] is not an ed25519 key`, {
        hint: 'Each key is the 32 raw bytes in base64, as in a .pub file; keyid, when given, is their SHA-256.',
        location: { file: path, path: `keys[${i}].public` },
      });
    keys.push(key);
  }
  return trustOf(keys, parsed.data.revoked);
}

async function readTrustFile(file: string): Promise<string> {
  try {
    return await readRegularFile(file, 'utf8');
  } catch (err) {
    throw (
      unreadableFileError(
        err,
        file,
        'Give --trust a .pub file, a trust file or a directory of .pub files.',
      ) ?? err
    );
  }
}
