import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UpliftError } from '../errors/index.ts';
import { canonicalJson } from '../util/index.ts';
import { writeDurably } from './durable.ts';
import { parseRoot, type RootMetadata } from './metadata.ts';
import type { RootSigned } from './schema.ts';
import { loadClientState, type Seen } from './state.ts';

/**
 * Which repository a client is talking to is decided by its root keys, never by the text of the
 * address that reached it. A repository's identity is the SHA-256 (hex) of the RFC 8785 JSON of
 * `{ keyids, threshold }` of its root role: the sorted, distinct root key ids and the root
 * threshold. Those are what a client trusts; the other roles' keys may rotate under them.
 *
 * Client state (`<state dir>/repos/`):
 *   root-<16 hex>/            one repository's trusted root and seen index (state.ts), named by the
 *                             identity of the first root the client trusted for it
 *   by-root/<identity>.json   { state }: every root identity the repository has had, across
 *                             rotations, names its folder
 *   by-address/<16 hex>.json  { address, state }: the repository an address was last found to serve
 *   <16 hex>/                 the layout before: state keyed by the address; migrated when met
 */
export function repositoryIdentity(root: RootSigned): string {
  const role = root.roles.root;
  const text = canonicalJson({
    keyids: [...new Set(role.keyids)].sort(),
    threshold: role.threshold,
  });
  return createHash('sha256').update(text).digest('hex');
}

const Pointer = z.object({ state: z.string().regex(/^root-[0-9a-f]{16}$/) });

function hash16(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function reposDir(base: string): string {
  return join(base, 'repos');
}

function byRootFile(base: string, identity: string): string {
  return join(reposDir(base), 'by-root', `${identity}.json`);
}

function byAddressFile(base: string, address: string): string {
  return join(reposDir(base), 'by-address', `${hash16(address)}.json`);
}

async function readPointer(file: string): Promise<string | undefined> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const p = Pointer.safeParse(JSON.parse(raw));
    if (p.success) return p.data.state;
  } catch {
    // falls through: a torn pointer is only a lost shortcut, the keys still decide
  }
  return undefined;
}

async function writePointer(file: string, value: Record<string, string>): Promise<void> {
  await writeDurably(file, `${JSON.stringify(value)}\n`, { mode: 0o600 });
}

function stateDirOf(base: string, name: string): string {
  return join(reposDir(base), name);
}

function stateNameFor(identity: string): string {
  return `root-${identity.slice(0, 16)}`;
}

export interface LocateOptions {
  base: string;
  /** The canonical address (URL without credentials, or `file://` real path). */
  address: string;
  /** Reads `root.json` from the repository, to find a moved repository by its keys. */
  readRoot(): Promise<Buffer | undefined>;
  initialRoot?: { raw: Buffer; file: string };
  /** Bind the address to the repository of `initialRoot`, whatever it was bound to. */
  resetTrust?: boolean;
}

export interface Located {
  dir: string;
  /** Root identities the client has trusted for this repository. */
  known: Set<string>;
  notes: string[];
}

async function knownIdentities(dir: string): Promise<Set<string>> {
  const known = new Set<string>();
  const state = await loadClientState(dir).catch(() => undefined);
  if (state?.root) known.add(repositoryIdentity(state.root.signed));
  try {
    const ids = JSON.parse(await readFile(join(dir, 'identities.json'), 'utf8')) as unknown;
    for (const id of Array.isArray(ids) ? ids : []) if (typeof id === 'string') known.add(id);
  } catch {
    // missing or torn: only a lagging mirror's older root.json is then not recognised
  }
  return known;
}

/**
 * Finds the client state of the repository at `address`: by the keys of `--root` when given, else
 * by the address's last binding (or the state an older uplift kept under the address, migrated),
 * else by the keys of the `root.json` the address serves (a repository that moved). The address
 * text alone never starts a fresh history for keys the client already knows.
 */
export async function locateRepositoryState(o: LocateOptions): Promise<Located> {
  const notes: string[] = [];
  const bound =
    (await readPointer(byAddressFile(o.base, o.address))) ?? (await migrateLegacy(o, notes));
  let byKeys: string | undefined;
  let initialIdentity: string | undefined;
  if (o.initialRoot) {
    // Parsed only for its keys here; refreshRepository checks it before trusting it.
    const root = parseRoot(o.initialRoot.raw, o.initialRoot.file, { reencode: true });
    initialIdentity = repositoryIdentity(root.signed);
    byKeys = await readPointer(byRootFile(o.base, initialIdentity));
  }
  if (o.resetTrust && !o.initialRoot)
    throw new UpliftError('UPLIFT_USAGE', '--reset-trust needs --root', {
      hint: 'Give the root.json the repository owner gave you as --root, beside --reset-trust in the same fetch command; its options:\nuplift fetch --help',
    });

  let name: string;
  if (o.resetTrust && initialIdentity) {
    name = byKeys ?? stateNameFor(initialIdentity);
    if (bound !== name)
      notes.push(
        `${o.address} is now trusted as the repository of ${o.initialRoot?.file} (--reset-trust)`,
      );
  } else if (bound && byKeys && bound !== byKeys) {
    throw rootChanged(
      o.address,
      `${o.initialRoot?.file} is the root of another repository than the one this address served before`,
    );
  } else if (bound) {
    name = bound;
  } else if (byKeys) {
    name = byKeys;
  } else if (initialIdentity) {
    name = stateNameFor(initialIdentity);
  } else {
    const served = await o.readRoot();
    const identity = served ? identityOrUndefined(served) : undefined;
    const found = identity ? await readPointer(byRootFile(o.base, identity)) : undefined;
    if (!found)
      throw new UpliftError('UPLIFT_REPO_NOT_TRUSTED', `no trusted root for ${o.address}`, {
        hint: "Give --root the repository's root.json, obtained from its owner by a channel you trust.",
      });
    name = found;
    notes.push(`${o.address} serves a repository trusted before at another address`);
  }
  const dir = stateDirOf(o.base, name);
  return { dir, known: await knownIdentities(dir), notes };
}

function identityOrUndefined(raw: Buffer): string | undefined {
  try {
    return repositoryIdentity(parseRoot(raw, 'root.json', { reencode: true }).signed);
  } catch {
    return undefined;
  }
}

export function rootChanged(address: string, why: string): UpliftError {
  return new UpliftError('UPLIFT_REPO_ROOT_CHANGED', `${address}: ${why}`, {
    hint: 'Another repository (other root keys) answers at this address: a mistake or an attack. If the owner really replaced the repository, re-initialise trust: add --reset-trust and --root with the root.json they give you to the same fetch command; its options:\nuplift fetch --help',
  });
}

/**
 * After a refresh the repository's keys were verified: the address now names this state, and so
 * does every root identity seen on the way (a later `--root` or a moved address finds it by them).
 */
export async function recordRepositoryState(
  base: string,
  dir: string,
  address: string,
  roots: readonly RootMetadata[],
): Promise<void> {
  const name = dir.slice(reposDir(base).length + 1);
  const ids = [...new Set(roots.map((r) => repositoryIdentity(r.signed)))];
  for (const id of ids) await writePointer(byRootFile(base, id), { state: name });
  const listFile = join(dir, 'identities.json');
  const previous = await readFile(listFile, 'utf8')
    .then((t) => JSON.parse(t) as unknown)
    .catch(() => []);
  const all = [...new Set([...(Array.isArray(previous) ? previous : []), ...ids])].sort();
  await writeDurably(listFile, `${JSON.stringify(all)}\n`, { mode: 0o600 });
  await writePointer(byAddressFile(base, address), { address, state: name });
}

/**
 * Client state an older uplift kept under `repos/<16 hex of the address>/`: its files are copied
 * (or merged, keeping the newer root and the higher index version) into the folder of the
 * repository its trusted root names, so an upgrade of uplift forgets no history. The old folder
 * stays as it was; the address binding written here means it is not read again.
 */
async function migrateLegacy(o: LocateOptions, notes: string[]): Promise<string | undefined> {
  const legacyDir = join(reposDir(o.base), hash16(o.address));
  const legacy = await loadClientState(legacyDir);
  if (!legacy.root) return undefined;
  const identity = repositoryIdentity(legacy.root.signed);
  const name = (await readPointer(byRootFile(o.base, identity))) ?? stateNameFor(identity);
  const dir = stateDirOf(o.base, name);
  const current = await loadClientState(dir);
  if (!current.root || current.root.signed.version < legacy.root.signed.version)
    await writeDurably(join(dir, 'trusted-root.json'), legacy.root.raw, { mode: 0o600 });
  if (legacy.seen && isNewer(legacy.seen, current.seen))
    await writeDurably(join(dir, 'seen.json'), `${JSON.stringify(legacy.seen, null, 2)}\n`, {
      mode: 0o600,
    });
  await recordRepositoryState(o.base, dir, o.address, [legacy.root]);
  notes.push(`client state kept under the address ${o.address} by an older uplift moved to ${dir}`);
  return name;
}

function isNewer(a: Seen, b: Seen | undefined): boolean {
  if (!b) return true;
  return a.indexRole === b.indexRole ? a.indexVersion > b.indexVersion : false;
}
