import { z } from 'zod';

/**
 * Repository metadata: `root.json` (the keys and who signs what) and `index.json` (what the
 * repository holds). Both are `{ signed, signatures }`; each signature covers the RFC 8785
 * canonical bytes of `signed`. See docs/repository.md.
 */

const KeyId = z.string().regex(/^[0-9a-f]{64}$/, 'a key id is 64 lowercase hex digits');
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 is 64 lowercase hex digits');
const Version = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const Expires = z.iso.datetime({ offset: true });

/**
 * A file's place in the repository: `packs/<name>` or `catalogs/<name>`, one plain name with no
 * folder, dot segment, backslash or control character, so a client can use it as a file name.
 */
export const RepoPath = z
  .string()
  .regex(
    /^(packs|catalogs)\/[A-Za-z0-9_+][A-Za-z0-9._+ -]{0,254}$/,
    'a path is packs/<name> or catalogs/<name> with a plain file name',
  );

export const Role = z.object({
  keyids: z.array(KeyId).min(1),
  threshold: z.number().int().min(1),
});
export type Role = z.infer<typeof Role>;

export const RoleName = z.enum(['root', 'index', 'packs']);
export type RoleName = z.infer<typeof RoleName>;

export const RootSigned = z.object({
  type: z.literal('root'),
  version: Version,
  expires: Expires,
  keys: z.record(KeyId, z.object({ public: z.string() })),
  roles: z.object({ root: Role, index: Role, packs: Role }),
});
export type RootSigned = z.infer<typeof RootSigned>;

export const CatalogEntry = z.object({
  path: RepoPath,
  size: z.number().int().nonnegative(),
  sha256: Sha256,
  product: z.string().optional(),
});
export type CatalogEntry = z.infer<typeof CatalogEntry>;

export const PackEntry = z.object({
  path: RepoPath,
  size: z.number().int().nonnegative(),
  sha256: Sha256,
  product: z.string().optional(),
  platform: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  kind: z.string().optional(),
});
export type PackEntry = z.infer<typeof PackEntry>;

export const IndexSigned = z.object({
  type: z.literal('index'),
  version: Version,
  expires: Expires,
  catalogs: z.array(CatalogEntry),
  packs: z.array(PackEntry),
});
export type IndexSigned = z.infer<typeof IndexSigned>;

/** The envelope. Signatures are checked one by one, so a malformed one only fails to count. */
export const Envelope = z.object({
  signed: z.record(z.string(), z.unknown()),
  signatures: z.array(z.object({ keyid: z.string(), sig: z.string() })),
});
export type Envelope = z.infer<typeof Envelope>;
