import { z } from 'zod';

/** Lowercase hex SHA-256. */
export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');

/** Permission bits only; which of them a pack may carry is checked by verification (safe-path.ts). */
export const FileMode = z.number().int().min(0).max(0o7777);

/** A relative POSIX path; its safety (no `..`, no control characters…) is checked by safe-path.ts. */
export const PackPath = z.string().min(1).max(4096);

/** The platform id a pack is built for, as detection reports it (`linux-x86-64`). */
export const PlatformId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a platform id such as linux-x86-64');

/**
 * One file of the installation the pack changes. `add` and `replace` carry the new content's size,
 * mode and SHA-256 and have an entry in the payload; `delete` has none. In a delta pack, `replace`
 * and `delete` carry `was`, the SHA-256 the file has in the from version, so apply can prove its
 * base before it changes anything.
 */
export const PackFile = z.discriminatedUnion('action', [
  z.strictObject({
    path: PackPath,
    action: z.literal('add'),
    size: z.number().int().nonnegative(),
    mode: FileMode,
    sha256: Sha256,
  }),
  z.strictObject({
    path: PackPath,
    action: z.literal('replace'),
    size: z.number().int().nonnegative(),
    mode: FileMode,
    sha256: Sha256,
    was: Sha256.optional(),
  }),
  z.strictObject({
    path: PackPath,
    action: z.literal('delete'),
    was: Sha256.optional(),
  }),
]);
export type PackFile = z.infer<typeof PackFile>;

/** A symbolic link's target: a relative path inside the tree (checked by safe-path.ts). */
export const LinkTarget = z.string().min(1).max(4096);

/**
 * A symbolic link of the installation the pack changes (format 1.1). `add` and `replace` carry the
 * target, and a `symlink` payload entry of the same name and target; `delete` has none. A path may
 * change kind between versions: then the old kind's list deletes it and the new kind's adds it.
 */
export const PackSymlink = z.discriminatedUnion('action', [
  z.strictObject({ path: PackPath, action: z.enum(['add', 'replace']), target: LinkTarget }),
  z.strictObject({ path: PackPath, action: z.literal('delete') }),
]);
export type PackSymlink = z.infer<typeof PackSymlink>;

/**
 * An empty directory of the installation the pack changes (format 1.1): one that holds no file or
 * link of the release. Directories that hold something are implied by their entries.
 */
export const PackDirectory = z.discriminatedUnion('action', [
  z.strictObject({ path: PackPath, action: z.enum(['add', 'replace']), mode: FileMode }),
  z.strictObject({ path: PackPath, action: z.literal('delete') }),
]);
export type PackDirectory = z.infer<typeof PackDirectory>;

/** A script the pack carries in its payload under `.uplift-pack/`; never installed as a file. */
export const PackScript = z.strictObject({
  path: PackPath,
  size: z.number().int().nonnegative(),
  mode: FileMode,
  sha256: Sha256,
});
export type PackScript = z.infer<typeof PackScript>;

const Id = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a kebab-case id');

/**
 * A configuration migration: a script apply runs with two arguments, the installation as it was
 * (read only) and the new tree being prepared, before the new version starts. It reads `reads`
 * from the first and writes only `writes` into the second (paths relative to the installation).
 */
export const ConfigMigration = z.strictObject({
  id: Id,
  description: z.string().max(1000).optional(),
  run: z.enum(['node', 'sh']),
  reads: z.array(PackPath).max(100),
  writes: z.array(PackPath).max(100),
  script: PackScript,
});
export type ConfigMigration = z.infer<typeof ConfigMigration>;

/** A database migration: SQL run by apply in one transaction against `database` (relative path). */
export const DatabaseMigration = z.strictObject({
  id: Id,
  description: z.string().max(1000).optional(),
  engine: z.literal('sqlite'),
  database: PackPath,
  run: z.literal('sql'),
  script: PackScript,
});
export type DatabaseMigration = z.infer<typeof DatabaseMigration>;

export const HookPhase = z.enum(['before-stop', 'after-stop', 'before-start', 'after-start']);
export type HookPhase = z.infer<typeof HookPhase>;

/** A hook: a script apply runs at one phase, with the installation directory as its argument. */
export const PackHook = z.strictObject({
  id: Id,
  description: z.string().max(1000).optional(),
  phase: HookPhase,
  run: z.enum(['node', 'sh']),
  timeoutSeconds: z.number().int().min(1).max(86_400),
  script: PackScript,
});
export type PackHook = z.infer<typeof PackHook>;

export const PackPayload = z.strictObject({
  /** `zstd` is the only one today; the field lets another be added (docs/pack-format.md). */
  compression: z.literal('zstd'),
  level: z.number().int().min(1).max(22),
  /** Bytes of the compressed payload: exactly the rest of the file after the signature. */
  bytes: z.number().int().nonnegative(),
  /** SHA-256 of the compressed payload bytes. */
  sha256: Sha256,
  /** Bytes of the tar stream inside: decompression stops beyond this (zip bombs). */
  unpackedBytes: z.number().int().nonnegative(),
  /** Number of tar entries: every add/replace file, symlink and directory, plus every script. */
  entries: z.number().int().nonnegative(),
});
export type PackPayload = z.infer<typeof PackPayload>;

/**
 * `uplift-pack/1.1` adds `symlinks` and `directories`; a pack without either is written as
 * `uplift-pack/1`, byte for byte what earlier versions of uplift wrote and read.
 */
export const packFormats = ['uplift-pack/1', 'uplift-pack/1.1'] as const;

/** The signed manifest of a pack (docs/pack-format.md). */
export const PackManifest = z.strictObject({
  format: z.enum(packFormats),
  product: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  kind: z.enum(['full', 'delta']),
  from: z.strictObject({
    /** The versions this pack applies to, in the catalog's pattern grammar (docs/catalog.md). */
    range: z.string().min(1).max(1000),
    /** The version of the from tree it was built against. */
    version: z.string().min(1).max(200),
  }),
  to: z.string().min(1).max(200),
  platform: PlatformId,
  build: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  /** ISO 8601; from the to tree's manifest or the build flag, never the clock (determinism). */
  created: z.iso.datetime(),
  files: z.array(PackFile),
  /** Format 1.1. */
  symlinks: z.array(PackSymlink).optional(),
  /** Format 1.1. */
  directories: z.array(PackDirectory).optional(),
  migrations: z.strictObject({
    config: z.array(ConfigMigration),
    database: z.array(DatabaseMigration),
  }),
  hooks: z.array(PackHook),
  space: z.strictObject({
    /** Bytes verification writes into a staging directory: every payload file and script. */
    stage: z.number().int().nonnegative(),
    /** Change of the installation's size after apply: new minus replaced and deleted bytes (may be negative). */
    growth: z.number().int(),
  }),
  payload: PackPayload,
});
export type PackManifest = z.infer<typeof PackManifest>;

/** The `--migrations FILE.yaml` of `uplift pack build` (docs/pack-format.md, "Migrations and hooks"). */
export const MigrationsFile = z.strictObject({
  migrations: z.literal(1),
  config: z
    .array(
      z.strictObject({
        id: Id,
        description: z.string().max(1000).optional(),
        run: z.enum(['node', 'sh']),
        reads: z.array(PackPath).max(100).default([]),
        writes: z.array(PackPath).max(100).default([]),
        script: PackPath,
      }),
    )
    .default([]),
  database: z
    .array(
      z.strictObject({
        id: Id,
        description: z.string().max(1000).optional(),
        engine: z.literal('sqlite'),
        database: PackPath,
        script: PackPath,
      }),
    )
    .default([]),
  hooks: z
    .array(
      z.strictObject({
        id: Id,
        description: z.string().max(1000).optional(),
        phase: HookPhase,
        run: z.enum(['node', 'sh']),
        timeoutSeconds: z.number().int().min(1).max(86_400).default(300),
        script: PackPath,
      }),
    )
    .default([]),
});
export type MigrationsFile = z.infer<typeof MigrationsFile>;
