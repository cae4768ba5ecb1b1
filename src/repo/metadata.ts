import { createPublicKey } from 'node:crypto';
import type { z } from 'zod';
import { UpliftError } from '../errors/index.ts';
import {
  type PrivateKey,
  type PublicKey,
  publicKeyFromBase64,
  signBytes,
  verifyBytes,
} from '../signing/index.ts';
import { canonicalJson } from '../util/index.ts';
import { Envelope, IndexSigned, type Role, type RoleName, RootSigned } from './schema.ts';

/** Metadata files larger than this are refused before parsing (an endless-data attack). */
export const maxMetadataBytes = 16 << 20;

/** A parsed, not yet trusted, metadata file. */
export interface Metadata<T> {
  signed: T;
  signatures: Envelope['signatures'];
  /** The canonical bytes of `signed`: what every signature covers. */
  signedBytes: Buffer;
  /** The file as read. */
  raw: Buffer;
}

export type RootMetadata = Metadata<RootSigned>;
export type IndexMetadata = Metadata<IndexSigned>;

/** The bytes a signature covers: RFC 8785 canonical JSON of `signed`. */
export function canonicalBytes(signed: unknown): Buffer {
  return Buffer.from(canonicalJson(signed), 'utf8');
}

function invalid(file: string, message: string, path?: string): UpliftError {
  return new UpliftError('UPLIFT_REPO_INVALID', `${file}: ${message}`, {
    hint: 'The repository serves damaged or foreign metadata; tell its owner, or check --repo.',
    location: { file, path },
  });
}

/**
 * The one encoding of a metadata file: the RFC 8785 canonical JSON of `{ signed, signatures }`
 * (keys sorted, no whitespace, each number and string written one way) and one newline. Signatures
 * cover `signed` only, so without this rule padding, key order or escapes could change the file
 * (and its hash) while it still verified; with it, every byte of the file is fixed by its content.
 */
export function encodeEnvelope(envelope: Envelope): Buffer {
  return Buffer.from(`${canonicalJson(envelope)}\n`, 'utf8');
}

/** The first offset at which `a` and `b` differ, or -1 when they are equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** A byte for a message: hex, and the character when printable. */
export function describeByte(b: number | undefined): string {
  if (b === undefined) return 'the end of the file';
  const hex = `0x${b.toString(16).padStart(2, '0')}`;
  return b >= 0x20 && b < 0x7f ? `${hex} (${JSON.stringify(String.fromCharCode(b))})` : hex;
}

export interface ParseOptions {
  /**
   * Accept another encoding than the canonical one and keep the canonical bytes as `raw`. Only for
   * files uplift wrote itself (client state, the publisher's own folder), which an older uplift
   * may have pretty-printed; never for what a repository or an operator hands in.
   */
  reencode?: boolean;
}

function parseEnvelope<S extends z.ZodType>(
  raw: Buffer,
  file: string,
  schema: S,
  opts: ParseOptions = {},
) {
  if (raw.length > maxMetadataBytes)
    throw invalid(file, `${raw.length} bytes is more than metadata may be (${maxMetadataBytes})`);
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw invalid(file, 'not JSON');
  }
  const env = Envelope.safeParse(json);
  if (!env.success)
    throw invalid(file, 'not signed metadata ({ signed, signatures })', issuePath(env.error));
  const signed = schema.safeParse(env.data.signed);
  if (!signed.success) {
    const issue = signed.error.issues[0];
    throw invalid(
      file,
      `signed.${issue?.path.join('.')}: ${issue?.message ?? 'invalid'}`,
      `signed.${issue?.path.join('.')}`,
    );
  }
  // Re-encoded from what the schema kept: fields outside `signed` that no signature covers (extra
  // envelope or signature fields) make the bytes differ too.
  const canonical = encodeEnvelope({ signed: env.data.signed, signatures: env.data.signatures });
  const at = firstDifference(raw, canonical);
  if (at !== -1 && !opts.reencode)
    throw new UpliftError(
      'UPLIFT_REPO_NOT_CANONICAL',
      `${file}: not in the canonical encoding (RFC 8785 JSON and one newline): at offset ${at} it has ${describeByte(raw[at])} where the canonical encoding has ${describeByte(canonical[at])}`,
      {
        hint: "Every byte of metadata must be covered by its signatures: padding, key order or escapes changed in transit (a damaged mirror or an attack) are refused. If the file is the owner's own, they re-encode it with uplift repo publish.",
        location: { file, path: `offset ${at}` },
      },
    );
  return {
    signed: signed.data as z.infer<S>,
    signatures: env.data.signatures,
    // Signatures cover what was published, unknown fields included, not what zod kept.
    signedBytes: canonicalBytes(env.data.signed),
    raw: at === -1 ? raw : canonical,
  };
}

function issuePath(err: z.ZodError): string | undefined {
  return err.issues[0]?.path.join('.') || undefined;
}

/** Parses a root file and checks it is self-consistent: key ids match keys, roles name known keys. */
export function parseRoot(raw: Buffer, file: string, opts: ParseOptions = {}): RootMetadata {
  const meta = parseEnvelope(raw, file, RootSigned, opts);
  for (const [keyid, k] of Object.entries(meta.signed.keys)) {
    const key = publicKeyFromBase64(k.public);
    if (!key || key.keyid !== keyid)
      throw invalid(
        file,
        `keys.${keyid} is not the ed25519 key with that id`,
        `signed.keys.${keyid}`,
      );
  }
  for (const [name, role] of Object.entries(meta.signed.roles)) {
    for (const id of role.keyids)
      if (!meta.signed.keys[id])
        throw invalid(file, `roles.${name} names key ${id}, which keys does not hold`);
    if (role.threshold > new Set(role.keyids).size)
      throw invalid(
        file,
        `roles.${name}.threshold ${role.threshold} is more than its ${role.keyids.length} keys`,
        `signed.roles.${name}.threshold`,
      );
  }
  return meta;
}

export function parseIndex(raw: Buffer, file: string, opts: ParseOptions = {}): IndexMetadata {
  return parseEnvelope(raw, file, IndexSigned, opts);
}

/** The public keys a root lists, by key id. */
export function keysOf(root: RootSigned): Map<string, PublicKey> {
  const keys = new Map<string, PublicKey>();
  for (const [keyid, k] of Object.entries(root.keys)) {
    const key = publicKeyFromBase64(k.public);
    if (key && key.keyid === keyid) keys.set(keyid, key);
  }
  return keys;
}

/**
 * The key ids of `role` whose signatures over `meta` are good. Each key id counts once, only keys
 * the role lists count, and a bad signature never counts, whatever else is in the list.
 */
export function validSigners(
  meta: Pick<Metadata<unknown>, 'signedBytes' | 'signatures'>,
  root: RootSigned,
  role: Role,
): Set<string> {
  const keys = keysOf(root);
  const allowed = new Set(role.keyids);
  const good = new Set<string>();
  for (const s of meta.signatures) {
    if (!allowed.has(s.keyid) || good.has(s.keyid)) continue;
    const key = keys.get(s.keyid);
    if (key && verifyBytes(key, meta.signedBytes, s.sig)) good.add(s.keyid);
  }
  return good;
}

/** True when a threshold of `root`'s `roleName` keys signed `meta`. */
export function meetsThreshold(
  meta: Pick<Metadata<unknown>, 'signedBytes' | 'signatures'>,
  root: RootSigned,
  roleName: RoleName,
): { ok: boolean; good: number; threshold: number } {
  const role = root.roles[roleName];
  const good = validSigners(meta, root, role).size;
  return { ok: good >= role.threshold, good, threshold: role.threshold };
}

/** Signs `signed` with each key (once per key id) and returns the file's bytes, canonically encoded. */
export function signMetadata(signed: unknown, keys: readonly PrivateKey[]): Buffer {
  const bytes = canonicalBytes(signed);
  const seen = new Set<string>();
  const signatures = [];
  for (const k of keys) {
    if (seen.has(k.keyid)) continue;
    seen.add(k.keyid);
    signatures.push(signBytes(k, bytes));
  }
  return encodeEnvelope({ signed: signed as Envelope['signed'], signatures });
}

/** The public half of a private key. */
export function publicKeyOf(key: PrivateKey): PublicKey {
  const jwk = createPublicKey(key.key).export({ format: 'jwk' });
  const pub = publicKeyFromBase64(Buffer.from(String(jwk.x), 'base64url').toString('base64'));
  /* v8 ignore next -- unreachable: loadPrivateKey accepts ed25519 keys only */
  if (!pub) throw new Error('not an ed25519 key');
  return pub;
}

const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * `7d`, `12h`, `30m`, `90s`, `2w` from `now`, or an ISO time as is. The time must be after `now`:
 * metadata that is already expired would replace the live one and lock every client out.
 */
export function parseExpiry(value: string, now: Date, option = '--expires'): Date {
  const m = /^(\d+)\s*([smhdw])$/.exec(value.trim());
  const d = m
    ? new Date(now.getTime() + Number(m[1]) * (units[m[2] as string] as number) * 1000)
    : /^\d{4}-\d{2}-\d{2}/.test(value)
      ? new Date(value)
      : undefined;
  if (d === undefined || (!m && Number.isNaN(d.getTime())))
    throw new UpliftError('UPLIFT_USAGE', `${option} ${JSON.stringify(value)} is not a duration`, {
      hint: `Write a duration such as 7d, 12h or 365d, or an ISO time (${option} 2030-01-01T00:00:00Z).`,
    });
  // Metadata times are written as YYYY-MM-DDTHH:MM:SSZ: four-digit years only.
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() > 9999)
    throw new UpliftError('UPLIFT_USAGE', `${option} ${JSON.stringify(value)} is too far ahead`, {
      hint: `Give a time before the year 10000, such as 365d or ${option} 2030-01-01T00:00:00Z.`,
    });
  if (d.getTime() <= now.getTime())
    throw new UpliftError(
      'UPLIFT_USAGE',
      `${option} ${JSON.stringify(value)} is ${isoSeconds(d)}, not after now (${isoSeconds(now)}): clients would refuse the metadata at once`,
      { hint: `Give a time in the future, such as ${option} 7d.` },
    );
  return d;
}

/** Metadata times: ISO 8601 in UTC, whole seconds. */
export function isoSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** "3 h ago"-style age of an instant, for messages about expiry. */
export function ageOf(then: Date, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}
