import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UpliftError, unreadableFileError } from '../errors/index.ts';
import type { HostKeyPolicy } from '../topology/types.ts';

/** A public host key as the server sends it: the SSH wire blob, whose first field is its type. */
export interface KnownKey {
  type: string;
  blob: Buffer;
  /** Where it was written, for messages: `the pinned key` or `known_hosts line 3`. */
  where: string;
}

/** The keys a node may present, read from its policy before connecting. */
export interface ExpectedKeys {
  /** Host spelling looked up (`[127.0.0.1]:2222`), for messages. */
  lookedUp: string;
  /** Describes the policy's source, for messages: `the pinned key` or a known_hosts file. */
  source: string;
  keys: KnownKey[];
  /** `@revoked` keys of known_hosts: refused even when also listed as good. */
  revoked: KnownKey[];
}

/** What the host key check decided; a refusal carries the coded error the connect rejects with. */
export type HostKeyVerdict = { ok: true } | { ok: false; error: UpliftError };

/** `SHA256:…` as `ssh-keygen -l` prints it: base64 of the blob's SHA-256, without padding. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written inside a wire blob (a uint32 length, then the name). */
export function blobType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const n = blob.readUInt32BE(0);
  return n > 0 && n < 64 && blob.length >= 4 + n ? blob.toString('latin1', 4, 4 + n) : 'unknown';
}

/**
 * Reads `type base64 [comment]` out of a line that may also start with host patterns (a
 * known_hosts line pasted as the pinned key). Undefined when no key is on it.
 */
function parseKeyWords(words: readonly string[]): { type: string; blob: Buffer } | undefined {
  for (let i = 0; i + 1 < words.length; i++) {
    const type = words[i] as string;
    const b64 = words[i + 1] as string;
    if (!/^(ssh-|ecdsa-|sk-)[\w@.-]+$/.test(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
    const blob = Buffer.from(b64, 'base64');
    if (blobType(blob) === type) return { type, blob };
  }
  return undefined;
}

/** How OpenSSH writes a host in known_hosts: bare on port 22, else `[host]:port`. */
function hostSpelling(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** An OpenSSH host pattern: `*` any run, `?` one character, matched case-insensitively. */
function globMatches(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

/**
 * Whether a known_hosts host field names this host: a hashed entry (`|1|salt|hash`, HMAC-SHA1 of
 * the spelling keyed by the salt) or a comma list of patterns, where a matching `!pattern` vetoes.
 */
function hostFieldMatches(field: string, host: string, port: number): boolean {
  const names = new Set([hostSpelling(host, port), ...(port === 22 ? [`[${host}]:22`] : [])]);
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (salt === undefined || hash === undefined) return false;
    const key = Buffer.from(salt, 'base64');
    return [...names].some(
      (n) => createHmac('sha1', key).update(n).digest('base64') === hash.replace(/\s+$/, ''),
    );
  }
  let matched = false;
  for (const p of field.split(',')) {
    const negated = p.startsWith('!');
    const pattern = negated ? p.slice(1) : p;
    if (![...names].some((n) => globMatches(pattern, n))) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** The keys the policy accepts for `host:port` (read from the file for a known_hosts policy). */
export function expectedKeys(policy: HostKeyPolicy, host: string, port: number): ExpectedKeys {
  const lookedUp = hostSpelling(host, port);
  if (policy.kind === 'pinned') {
    const key = parseKeyWords(policy.key.trim().split(/\s+/));
    if (key === undefined)
      throw new UpliftError(
        'UPLIFT_USAGE',
        `the pinned host key for ${lookedUp} is not a public key line ("type base64"): ${policy.key.slice(0, 40)}`,
        {
          hint: 'Pin the line of the host key .pub file, e.g. the output of `ssh-keyscan -t ed25519 HOST` without the host name.',
        },
      );
    return {
      lookedUp,
      source: 'the pinned key',
      keys: [{ ...key, where: 'the pinned key' }],
      revoked: [],
    };
  }
  let text: string;
  try {
    text = readFileSync(policy.file, 'utf8');
  } catch (err) {
    throw (
      unreadableFileError(
        err,
        policy.file,
        "Give the node's known_hosts file as a path that exists, or pin its key.",
      ) ?? err
    );
  }
  const keys: KnownKey[] = [];
  const revoked: KnownKey[] = [];
  text.split('\n').forEach((raw, k) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let words = line.split(/\s+/);
    let marker: string | undefined;
    if (words[0]?.startsWith('@')) {
      marker = words[0];
      words = words.slice(1);
    }
    // A certificate authority vouches for keys by signature; uplift pins keys, so it is skipped.
    if (marker === '@cert-authority') return;
    const [field, ...rest] = words;
    if (field === undefined || !hostFieldMatches(field, host, port)) return;
    const key = parseKeyWords(rest);
    if (key === undefined) return;
    const entry = { ...key, where: `${policy.file}:${k + 1}` };
    (marker === '@revoked' ? revoked : keys).push(entry);
  });
  return { lookedUp, source: `known_hosts file ${policy.file}`, keys, revoked };
}

/**
 * The host key algorithms to offer, in the order of the known keys: a server with several keys
 * then presents one the policy knows instead of the first it prefers (which would read as a
 * changed key). Empty when nothing is known: the default list, and the check refuses.
 */
export function hostKeyAlgorithms(expected: ExpectedKeys): string[] {
  const supported = [
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
  ];
  const out: string[] = [];
  for (const k of expected.keys) {
    const algos =
      k.type === 'ssh-rsa'
        ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']
        : supported.includes(k.type)
          ? [k.type]
          : [];
    for (const a of algos) if (!out.includes(a)) out.push(a);
  }
  return out;
}

/** Compares the key the server presented with what the policy expects (type and blob). */
export function verifyHostKey(
  expected: ExpectedKeys,
  presented: Buffer,
  label: string,
): HostKeyVerdict {
  const got = `${blobType(presented)} ${fingerprint(presented)}`;
  const revoked = expected.revoked.find((k) => k.blob.equals(presented));
  if (revoked)
    return {
      ok: false,
      error: new UpliftError(
        'UPLIFT_SSH_HOST_KEY_CHANGED',
        `${label}: the server presented ${got}, which ${revoked.where} marks @revoked; refused, nothing was sent`,
        { hint: 'Give the node a new host key and record it in the topology or known_hosts file.' },
      ),
    };
  if (expected.keys.some((k) => k.blob.equals(presented))) return { ok: true };
  if (expected.keys.length === 0)
    return {
      ok: false,
      error: new UpliftError(
        'UPLIFT_SSH_HOST_UNKNOWN',
        `${label}: ${expected.lookedUp} is not in the ${expected.source}; the server presented ${got}; refused, nothing was sent`,
        {
          hint: `Check that fingerprint with the node's administrator (ssh-keygen -lf on the node's host key), then add the host's key line to ${expected.source} or pin it as the node's hostKey.`,
        },
      ),
    };
  const wanted = expected.keys.map((k) => `${k.type} ${fingerprint(k.blob)} (${k.where})`);
  return {
    ok: false,
    error: new UpliftError(
      'UPLIFT_SSH_HOST_KEY_CHANGED',
      `${label}: the host key changed: expected ${wanted.join(' or ')}, received ${got}; refused, nothing was sent`,
      {
        hint: `If the node's host key was replaced on purpose, record the new key in ${expected.source}; otherwise something may be intercepting the connection: find out before going on.`,
      },
    ),
  };
}
