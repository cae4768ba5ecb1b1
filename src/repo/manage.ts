import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { makeFolders, UpliftError } from '../errors/index.ts';
import { inspectPack } from '../pack/index.ts';
import type { PrivateKey, PublicKey } from '../signing/index.ts';
import { fsyncDir, writeDurably } from './durable.ts';
import {
  isoSeconds,
  meetsThreshold,
  parseIndex,
  parseRoot,
  publicKeyOf,
  type RootMetadata,
  signMetadata,
} from './metadata.ts';
import {
  type CatalogEntry,
  type IndexSigned,
  type PackEntry,
  RepoPath,
  type Role,
  type RootSigned,
} from './schema.ts';

/**
 * The publisher's side of a repository folder: init, add, publish, rotate. Every metadata write is
 * durable and atomic, and a command that fails writes nothing.
 */

/** The publisher's notes on files (attributes given to `repo add`, cached hashes); not metadata. */
const attributesFile = '.uplift/attributes.json';

const Attributes = z.record(
  z.string(),
  z.object({
    size: z.number(),
    mtimeMs: z.number(),
    sha256: z.string(),
    product: z.string().optional(),
    platform: z.string().optional(),
    from: z.string().optional(),
    to: z.string().optional(),
    kind: z.string().optional(),
  }),
);
type Attributes = z.infer<typeof Attributes>;

export interface FileAttributes {
  product?: string;
  platform?: string;
  from?: string;
  to?: string;
  kind?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

const ids = (keys: readonly { keyid: string }[]) => keys.map((k) => k.keyid);

function signedByAll(keys: readonly PrivateKey[]): string {
  return keys.map((k) => k.keyid.slice(0, 12)).join(', ');
}

function roleOf(ids: readonly string[], threshold: number, name: string): Role {
  const keyids = [...new Set(ids)];
  if (keyids.length === 0)
    throw new UpliftError('UPLIFT_USAGE', `the ${name} role needs at least one key`, {
      hint: `Pass --${name === 'packs' ? 'pack' : name}-key.`,
    });
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > keyids.length)
    throw new UpliftError(
      'UPLIFT_USAGE',
      `a threshold of ${threshold} is not possible with ${keyids.length} ${name} key(s)`,
      { hint: `Give a threshold between 1 and ${keyids.length}.` },
    );
  return { keyids, threshold };
}

async function loadRoot(dir: string): Promise<RootMetadata> {
  const file = join(dir, 'root.json');
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch {
    throw new UpliftError('UPLIFT_REPO_INVALID', `${dir} is not a repository: no root.json`, {
      hint: 'Create one first (the options: repo init --help), or give the folder of an existing one.',
      location: { file },
    });
  }
  return parseRoot(raw, file, { reencode: true });
}

export interface InitOptions {
  dir: string;
  rootKeys: readonly PrivateKey[];
  threshold: number;
  indexKeys: readonly (PublicKey | PrivateKey)[];
  indexThreshold: number;
  packKeys: readonly PublicKey[];
  rootExpires: Date;
  indexExpires: Date;
}

export interface InitResult {
  dir: string;
  root: { version: number; expires: string; keys: Record<'root' | 'index' | 'packs', string[]> };
  /** The first (empty) index, when an index private key was given to sign it. */
  index?: { version: number; expires: string };
}

function isPrivate(k: PublicKey | PrivateKey): k is PrivateKey {
  return !('public' in k);
}

/** `uplift repo init`: root version 1 and, when it can be signed, an empty index version 1. */
export async function initRepository(opts: InitOptions): Promise<InitResult> {
  const { dir } = opts;
  for (const name of ['root.json', '1.root.json', 'index.json'])
    if (await exists(join(dir, name)))
      throw new UpliftError('UPLIFT_REPO_EXISTS', `${join(dir, name)} exists`, {
        hint: 'This folder is already a repository: change its keys with repo rotate (see repo rotate --help).',
        location: { file: join(dir, name) },
      });
  const rootPublic = opts.rootKeys.map(publicKeyOf);
  const indexPublic = opts.indexKeys.map((k) => (isPrivate(k) ? publicKeyOf(k) : k));
  const roles = {
    root: roleOf(ids(rootPublic), opts.threshold, 'root'),
    index: roleOf(ids(indexPublic), opts.indexThreshold, 'index'),
    packs: roleOf(ids(opts.packKeys), 1, 'packs'),
  };
  const keys: RootSigned['keys'] = {};
  for (const k of [...rootPublic, ...indexPublic, ...opts.packKeys])
    keys[k.keyid] = { public: k.public };
  const signed: RootSigned = {
    type: 'root',
    version: 1,
    expires: isoSeconds(opts.rootExpires),
    keys,
    roles,
  };
  const rootBytes = signMetadata(signed, opts.rootKeys);
  const indexSigners = opts.indexKeys.filter(isPrivate);
  let index: InitResult['index'];
  let indexBytes: Buffer | undefined;
  if (indexSigners.length >= roles.index.threshold) {
    const indexSigned: IndexSigned = {
      type: 'index',
      version: 1,
      expires: isoSeconds(opts.indexExpires),
      catalogs: [],
      packs: [],
    };
    indexBytes = signMetadata(indexSigned, indexSigners);
    index = { version: 1, expires: indexSigned.expires };
  }
  await makeFolders(join(dir, 'packs'), dir, 'the repository folder');
  await makeFolders(join(dir, 'catalogs'), dir, 'the repository folder');
  await writeDurably(join(dir, '1.root.json'), rootBytes);
  await writeDurably(join(dir, 'root.json'), rootBytes);
  if (indexBytes) await writeDurably(join(dir, 'index.json'), indexBytes);
  return {
    dir,
    root: {
      version: 1,
      expires: signed.expires,
      keys: { root: roles.root.keyids, index: roles.index.keyids, packs: roles.packs.keyids },
    },
    index,
  };
}

async function readAttributes(dir: string): Promise<Attributes> {
  try {
    const parsed = Attributes.safeParse(
      JSON.parse(await readFile(join(dir, attributesFile), 'utf8')),
    );
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }))
    h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface AddOptions {
  dir: string;
  files: readonly string[];
  catalog: boolean;
  attributes: FileAttributes;
}

export interface AddResult {
  added: { path: string; size: number; sha256: string; status: 'added' | 'already-there' }[];
}

/** `uplift repo add`: copies packs or catalogs in; `repo publish` then lists them in the index. */
export async function addToRepository(opts: AddOptions): Promise<AddResult> {
  await loadRoot(opts.dir);
  const folder = opts.catalog ? 'catalogs' : 'packs';
  const plans: {
    src: string;
    path: string;
    size: number;
    sha256: string;
    attrs: FileAttributes;
  }[] = [];
  // Check everything first, so a bad file in the list leaves the repository as it was.
  for (const src of opts.files) {
    const st = await lstat(src).catch(() => undefined);
    if (!st)
      throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `${src} does not exist`, {
        hint: 'Give the packs or catalogs to add as files.',
        location: { file: src },
      });
    if (!st.isFile())
      throw new UpliftError('UPLIFT_FILE_UNREADABLE', `${src} is not a file`, {
        hint: 'Give the packs or catalogs to add as files.',
        location: { file: src },
      });
    const path = `${folder}/${basename(src)}`;
    if (!RepoPath.safeParse(path).success)
      throw new UpliftError('UPLIFT_USAGE', `${basename(src)} is not a usable file name`, {
        hint: 'Use letters, digits and . _ + - only (no folders, no leading dot).',
        location: { file: src },
      });
    const sha256 = await hashFile(src);
    const attrs: FileAttributes = opts.catalog
      ? { product: await catalogProduct(src) }
      : src.endsWith('.upk')
        ? await packAttributes(src)
        : {};
    for (const [k, v] of Object.entries(opts.attributes))
      if (v !== undefined) attrs[k as keyof FileAttributes] = v;
    plans.push({ src, path, size: st.size, sha256, attrs });
  }
  const result: AddResult = { added: [] };
  for (const p of plans) {
    const target = join(opts.dir, p.path);
    const there = await lstat(target).catch(() => undefined);
    if (there) {
      if (there.isFile() && there.size === p.size && (await hashFile(target)) === p.sha256) {
        result.added.push({
          path: p.path,
          size: p.size,
          sha256: p.sha256,
          status: 'already-there',
        });
        continue;
      }
      throw new UpliftError('UPLIFT_REPO_EXISTS', `${target} exists with other content`, {
        hint: 'Never publish other bytes under a name clients may have cached: give the new file a new name.',
        location: { file: target },
      });
    }
  }
  const attributes = await readAttributes(opts.dir);
  for (const p of plans) {
    const target = join(opts.dir, p.path);
    if (result.added.some((a) => a.path === p.path)) continue;
    const tmp = join(opts.dir, `${folder}/.${basename(p.path)}.tmp-${process.pid}`);
    await mkdir(join(opts.dir, folder), { recursive: true });
    try {
      await copyFile(p.src, tmp);
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    fsyncDir(join(opts.dir, folder));
    const st = await lstat(target);
    attributes[p.path] = { size: p.size, mtimeMs: st.mtimeMs, sha256: p.sha256, ...p.attrs };
    result.added.push({ path: p.path, size: p.size, sha256: p.sha256, status: 'added' });
  }
  await writeDurably(join(opts.dir, attributesFile), `${JSON.stringify(attributes, null, 2)}\n`);
  return result;
}

/** What an uplift pack's manifest says about it, so the index can list it by platform and hop. */
async function packAttributes(file: string): Promise<FileAttributes> {
  const { manifest } = await inspectPack(file);
  return {
    product: manifest.product,
    platform: manifest.platform,
    from: manifest.from.range,
    to: manifest.to,
    kind: manifest.kind,
  };
}

async function catalogProduct(file: string): Promise<string | undefined> {
  try {
    const doc = parseYaml(await readFile(file, 'utf8')) as { product?: unknown } | null;
    return typeof doc?.product === 'string' ? doc.product : undefined;
  } catch {
    return undefined;
  }
}

export interface PublishOptions {
  dir: string;
  indexKeys: readonly PrivateKey[];
  expires: Date;
  /** Force the version (after an index key rotation the owner may start over); default: last + 1. */
  version?: number;
}

export interface PublishResult {
  version: number;
  previousVersion: number | null;
  expires: string;
  catalogs: CatalogEntry[];
  packs: PackEntry[];
  /** Root files an older uplift wrote in another encoding, now rewritten canonically. */
  reencoded: string[];
}

/**
 * Rewrites `root.json` and every `<N>.root.json` an older uplift pretty-printed in the one
 * canonical encoding clients accept (docs/repository.md, "Every byte is covered"). No key is
 * needed: signatures cover the canonical bytes of `signed`, which do not change.
 */
async function reencodeRoots(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => /^(\d+\.)?root\.json$/.test(n)).sort();
  const done: string[] = [];
  for (const name of names) {
    const raw = await readFile(join(dir, name));
    const root = parseRoot(raw, join(dir, name), { reencode: true });
    if (root.raw.equals(raw)) continue;
    await writeDurably(join(dir, name), root.raw);
    done.push(name);
  }
  return done;
}

/** `uplift repo publish`: a new index, version + 1, listing every file under packs/ and catalogs/. */
export async function publishIndex(opts: PublishOptions): Promise<PublishResult> {
  const root = await loadRoot(opts.dir);
  const role = root.signed.roles.index;
  for (const k of opts.indexKeys)
    if (!role.keyids.includes(k.keyid))
      throw new UpliftError(
        'UPLIFT_REPO_NOT_TRUSTED',
        `key ${k.keyid} is not an index key of root version ${root.signed.version}`,
        {
          hint: `Sign with a key the root lists for the index role (${role.keyids.map((id) => id.slice(0, 12)).join(', ')}), or rotate the root to add it.`,
        },
      );
  const indexFile = join(opts.dir, 'index.json');
  const previousRaw = await readFile(indexFile).catch(() => undefined);
  const previousVersion = previousRaw
    ? parseIndex(previousRaw, indexFile, { reencode: true }).signed.version
    : null;
  const version = opts.version ?? (previousVersion ?? 0) + 1;
  if (!Number.isSafeInteger(version) || version < 1)
    throw new UpliftError('UPLIFT_USAGE', `--version ${version} is not a version`, {
      hint: 'Give a whole number from 1.',
    });

  const attributes = await readAttributes(opts.dir);
  const kept: Attributes = {};
  const listing = async (folder: 'packs' | 'catalogs') => {
    const names = (await readdir(join(opts.dir, folder)).catch(() => [] as string[])).sort();
    const entries: PackEntry[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = `${folder}/${name}`;
      const st = await lstat(join(opts.dir, path));
      if (!st.isFile()) continue;
      if (!RepoPath.safeParse(path).success)
        throw new UpliftError('UPLIFT_REPO_INVALID', `${path} is not a usable file name`, {
          hint: 'Rename it (letters, digits and . _ + - only) or remove it.',
          location: { file: join(opts.dir, path) },
        });
      const known = attributes[path];
      const sha256 =
        known && known.size === st.size && known.mtimeMs === st.mtimeMs
          ? known.sha256
          : await hashFile(join(opts.dir, path));
      const { size: _s, mtimeMs: _m, sha256: _h, ...attrs } = known ?? {};
      kept[path] = { size: st.size, mtimeMs: st.mtimeMs, sha256, ...attrs };
      entries.push({ path, size: st.size, sha256, ...attrs });
    }
    return entries;
  };
  const packs = await listing('packs');
  const catalogs = (await listing('catalogs')).map(({ path, size, sha256, product }) => ({
    path,
    size,
    sha256,
    ...(product === undefined ? {} : { product }),
  }));
  const signed: IndexSigned = {
    type: 'index',
    version,
    expires: isoSeconds(opts.expires),
    catalogs,
    packs,
  };
  const bytes = signMetadata(signed, opts.indexKeys);
  const check = meetsThreshold(parseIndex(bytes, indexFile), root.signed, 'index');
  if (!check.ok)
    throw new UpliftError(
      'UPLIFT_REPO_SIGNATURE_THRESHOLD',
      `the index needs ${check.threshold} index key signatures; ${check.good} given`,
      { hint: 'Pass --index-key once per key, enough keys to reach the threshold.' },
    );
  const reencoded = await reencodeRoots(opts.dir);
  await writeDurably(indexFile, bytes);
  await writeDurably(join(opts.dir, attributesFile), `${JSON.stringify(kept, null, 2)}\n`);
  return { version, previousVersion, expires: signed.expires, catalogs, packs, reencoded };
}

export interface RotateOptions {
  dir: string;
  signers: readonly PrivateKey[];
  addRootKeys: readonly PublicKey[];
  removeRootKeys: readonly string[];
  threshold?: number;
  indexKeys?: readonly PublicKey[];
  indexThreshold?: number;
  packKeys?: readonly PublicKey[];
  expires: Date;
}

export interface RotateResult {
  version: number;
  expires: string;
  keys: Record<'root' | 'index' | 'packs', string[]>;
  thresholds: Record<'root' | 'index' | 'packs', number>;
  /** True when the index keys changed: publish the index again with a new key. */
  indexKeysChanged: boolean;
}

/**
 * `uplift repo rotate`: the next root version, signed by a threshold of the current root keys
 * and of its own. Writes `<N>.root.json`, then `root.json`.
 */
export async function rotateRoot(opts: RotateOptions): Promise<RotateResult> {
  const current = await loadRoot(opts.dir);
  const old = current.signed;
  const publicOf = new Map<string, string>(
    Object.entries(old.keys).map(([id, k]) => [id, k.public]),
  );
  for (const id of opts.removeRootKeys)
    if (!old.roles.root.keyids.includes(id))
      throw new UpliftError('UPLIFT_USAGE', `${id} is not a root key of version ${old.version}`, {
        hint: `Root keys: ${old.roles.root.keyids.join(', ')}.`,
      });
  for (const k of [...opts.addRootKeys, ...(opts.indexKeys ?? []), ...(opts.packKeys ?? [])])
    publicOf.set(k.keyid, k.public);
  const rootIds = [
    ...old.roles.root.keyids.filter((id) => !opts.removeRootKeys.includes(id)),
    ...ids(opts.addRootKeys),
  ];
  const roles = {
    root: roleOf(rootIds, opts.threshold ?? old.roles.root.threshold, 'root'),
    index: opts.indexKeys
      ? roleOf(ids(opts.indexKeys), opts.indexThreshold ?? 1, 'index')
      : roleOf(old.roles.index.keyids, opts.indexThreshold ?? old.roles.index.threshold, 'index'),
    packs: opts.packKeys ? roleOf(ids(opts.packKeys), 1, 'packs') : old.roles.packs,
  };
  const keys: RootSigned['keys'] = {};
  for (const role of Object.values(roles))
    for (const id of role.keyids) keys[id] = { public: publicOf.get(id) as string };
  const signed: RootSigned = {
    type: 'root',
    version: old.version + 1,
    expires: isoSeconds(opts.expires),
    keys,
    roles,
  };
  const bytes = signMetadata(signed, opts.signers);
  const next = parseRoot(bytes, `${signed.version}.root.json`);
  const byOld = meetsThreshold(next, old, 'root');
  const byNew = meetsThreshold(next, signed, 'root');
  if (!byOld.ok || !byNew.ok)
    throw new UpliftError(
      'UPLIFT_REPO_SIGNATURE_THRESHOLD',
      `root version ${signed.version} needs ${byOld.threshold} signature(s) from the current root keys (has ${byOld.good}) and ${byNew.threshold} from its own (has ${byNew.good}); signed by ${signedByAll(opts.signers) || 'no key'}`,
      { hint: 'Pass --sign with enough old and new root private keys.' },
    );
  await writeDurably(join(opts.dir, `${signed.version}.root.json`), bytes);
  await writeDurably(join(opts.dir, 'root.json'), bytes);
  const sameIndex =
    [...roles.index.keyids].sort().join() === [...old.roles.index.keyids].sort().join() &&
    roles.index.threshold === old.roles.index.threshold;
  return {
    version: signed.version,
    expires: signed.expires,
    keys: { root: roles.root.keyids, index: roles.index.keyids, packs: roles.packs.keyids },
    thresholds: {
      root: roles.root.threshold,
      index: roles.index.threshold,
      packs: roles.packs.threshold,
    },
    indexKeysChanged: !sameIndex,
  };
}
