import { dirname, join } from 'node:path';
import { ExitCode, shellWord, UpliftError } from '../../errors/index.ts';
import {
  addToRepository,
  currentTime,
  initRepository,
  parseExpiry,
  publicKeyOf,
  publishIndex,
  rotateRoot,
} from '../../repo/index.ts';
import {
  loadPrivateKey,
  loadPublicKey,
  type PrivateKey,
  type PublicKey,
} from '../../signing/index.ts';
import { formatBytes } from '../../util/index.ts';
import type { CommandResult } from '../types.ts';

/** A `.key` file is a private key; anything else is read as a public key file. */
async function publicKey(file: string): Promise<PublicKey> {
  return file.endsWith('.key') ? publicKeyOf(await loadPrivateKey(file)) : loadPublicKey(file);
}

async function privateKeys(files: readonly string[], option: string): Promise<PrivateKey[]> {
  if (files.length === 0)
    throw new UpliftError('UPLIFT_USAGE', `${option} is required`, {
      hint: `Pass ${option} with a private key file (.key) that keys generate made.`,
    });
  return Promise.all(files.map(loadPrivateKey));
}

function positiveInt(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UpliftError(
      'UPLIFT_USAGE',
      `${option} ${JSON.stringify(value)} is not a whole number from 1`,
      {
        hint: `Example: ${option} 2`,
      },
    );
  return n;
}

const short = (id: string) => id.slice(0, 16);

/** The commands that make a repository's three keys in `<parent>/keys/` and then the repository. */
function newKeysFor(dir: string): string {
  const keys = join(dirname(dir), 'keys');
  const key = (name: string, ext: string) => shellWord(join(keys, `${name}.${ext}`));
  return [
    ...['root', 'index', 'packs'].map(
      (k) => `uplift keys generate --out ${shellWord(join(keys, k))}`,
    ),
    `uplift repo init ${shellWord(dir)} --root-key ${key('root', 'key')} --index-key ${key('index', 'key')} --pack-key ${key('packs', 'pub')}`,
  ].join('\n');
}

export interface RepoInitOptions {
  rootKey: string[];
  threshold?: string;
  indexKey: string[];
  indexThreshold?: string;
  packKey: string[];
  expires: string;
  indexExpires: string;
}

/** `uplift repo init DIR`. */
export async function init(dir: string, o: RepoInitOptions): Promise<CommandResult> {
  const now = currentTime();
  if (o.indexKey.length === 0 || o.packKey.length === 0)
    throw new UpliftError('UPLIFT_USAGE', 'repo init needs --index-key and --pack-key', {
      hint: `Give the keys: the root and index private keys (.key) and the public key (.pub) packs are signed with. New ones, made beside the repository:\n${newKeysFor(dir)}`,
    });
  const r = await initRepository({
    dir,
    rootKeys: await privateKeys(o.rootKey, '--root-key'),
    threshold: positiveInt(o.threshold, '--threshold') ?? 1,
    indexKeys: await Promise.all(
      o.indexKey.map(async (f) => (f.endsWith('.key') ? loadPrivateKey(f) : loadPublicKey(f))),
    ),
    indexThreshold: positiveInt(o.indexThreshold, '--index-threshold') ?? 1,
    packKeys: await Promise.all(o.packKey.map(publicKey)),
    rootExpires: parseExpiry(o.expires, now),
    indexExpires: parseExpiry(o.indexExpires, now, '--index-expires'),
  });
  const lines = [
    `Created repository ${dir}`,
    `  root     version 1, expires ${r.root.expires}`,
    `  keys     root ${r.root.keys.root.map(short).join(', ')}; index ${r.root.keys.index.map(short).join(', ')}; packs ${r.root.keys.packs.map(short).join(', ')}`,
    r.index
      ? `  index    version 1 (empty), expires ${r.index.expires}`
      : "  index    not written: --index-key was a .pub; sign the first index with the index key's .key:\n           uplift repo publish --help",
    `Give clients ${dir}/root.json by a channel they trust (fetch takes it as --root).`,
  ];
  return { data: r, text: `${lines.join('\n')}\n`, exitCode: ExitCode.ok };
}

export interface RepoAddOptions {
  catalog?: boolean;
  product?: string;
  platform?: string;
  from?: string;
  to?: string;
  kind?: string;
}

/** `uplift repo add DIR FILE...`. */
export async function add(dir: string, files: string[], o: RepoAddOptions): Promise<CommandResult> {
  const r = await addToRepository({
    dir,
    files,
    catalog: o.catalog === true,
    attributes: { product: o.product, platform: o.platform, from: o.from, to: o.to, kind: o.kind },
  });
  const lines = r.added.map(
    (a) =>
      `  ${a.status === 'added' ? 'added        ' : 'already there'} ${a.path} (${formatBytes(a.size)})`,
  );
  lines.push(`Run uplift repo publish ${dir} --index-key KEY to list them in the signed index.`);
  return { data: r, text: `${lines.join('\n')}\n`, exitCode: ExitCode.ok };
}

export interface RepoPublishOptions {
  indexKey: string[];
  expires: string;
  version?: string;
}

/** `uplift repo publish DIR`. */
export async function publish(dir: string, o: RepoPublishOptions): Promise<CommandResult> {
  const r = await publishIndex({
    dir,
    indexKeys: await privateKeys(o.indexKey, '--index-key'),
    expires: parseExpiry(o.expires, currentTime()),
    version: positiveInt(o.version, '--version'),
  });
  const lines = [
    `Published index version ${r.version} of ${dir}${r.previousVersion === null ? '' : ` (was ${r.previousVersion})`}, expires ${r.expires}`,
    `  ${r.packs.length} pack(s), ${r.catalogs.length} catalog(s)`,
    ...(r.reencoded.length
      ? [`  re-encoded canonically (same signatures): ${r.reencoded.join(', ')}`]
      : []),
    ...r.packs.map(
      (p) =>
        `  ${p.path}  ${formatBytes(p.size)}${p.platform ? `  ${p.platform}` : ''}${p.to ? `  → ${p.to}` : ''}`,
    ),
    ...r.catalogs.map(
      (c) => `  ${c.path}  ${formatBytes(c.size)}${c.product ? `  ${c.product}` : ''}`,
    ),
  ];
  return { data: r, text: `${lines.join('\n')}\n`, exitCode: ExitCode.ok };
}

export interface RepoRotateOptions {
  sign: string[];
  addRootKey: string[];
  removeRootKey: string[];
  threshold?: string;
  indexKey: string[];
  indexThreshold?: string;
  packKey: string[];
  expires: string;
}

/** `uplift repo rotate DIR`. */
export async function rotate(dir: string, o: RepoRotateOptions): Promise<CommandResult> {
  const remove = await Promise.all(
    o.removeRootKey.map(async (k) => (/^[0-9a-f]{64}$/.test(k) ? k : (await publicKey(k)).keyid)),
  );
  const r = await rotateRoot({
    dir,
    signers: await privateKeys(o.sign, '--sign'),
    addRootKeys: await Promise.all(o.addRootKey.map(publicKey)),
    removeRootKeys: remove,
    threshold: positiveInt(o.threshold, '--threshold'),
    indexKeys: o.indexKey.length > 0 ? await Promise.all(o.indexKey.map(publicKey)) : undefined,
    indexThreshold: positiveInt(o.indexThreshold, '--index-threshold'),
    packKeys: o.packKey.length > 0 ? await Promise.all(o.packKey.map(publicKey)) : undefined,
    expires: parseExpiry(o.expires, currentTime()),
  });
  const lines = [
    `Root version ${r.version} of ${dir}, expires ${r.expires}`,
    `  root   ${r.thresholds.root} of ${r.keys.root.map(short).join(', ')}`,
    `  index  ${r.thresholds.index} of ${r.keys.index.map(short).join(', ')}`,
    `  packs  ${r.keys.packs.map(short).join(', ')}`,
  ];
  if (r.indexKeysChanged)
    lines.push(`The index keys changed: run uplift repo publish ${dir} --index-key NEW.key now.`);
  return { data: r, text: `${lines.join('\n')}\n`, exitCode: ExitCode.ok };
}
