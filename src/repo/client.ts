import { createHash } from 'node:crypto';
import { UpliftError } from '../errors/index.ts';
import {
  locateRepositoryState,
  recordRepositoryState,
  repositoryIdentity,
  rootChanged,
} from './identity.ts';
import {
  ageOf,
  type IndexMetadata,
  isoSeconds,
  meetsThreshold,
  parseIndex,
  parseRoot,
  type RootMetadata,
} from './metadata.ts';
import type { RootSigned } from './schema.ts';
import { loadClientState, saveSeen, saveTrustedRoot, stateBaseDir } from './state.ts';

/** Reads one metadata file of a repository; undefined when the repository does not have it. */
export interface MetadataReader {
  /** The repository's address for messages, with any credentials removed. */
  name: string;
  read(path: string): Promise<Buffer | undefined>;
}

export interface RefreshOptions {
  reader: MetadataReader;
  /**
   * The canonical address (URL without credentials, or `file://` real path): the client state is
   * found by the repository's root keys (identity.ts), the address only remembers which it was.
   */
  address?: string;
  /** The client state base folder (default {@link stateBaseDir}). */
  stateBase?: string;
  /** One fixed state folder instead of finding it by address and keys. */
  stateDir?: string;
  /** A root obtained out of band, for the first use (or to start over). */
  initialRoot?: { raw: Buffer; file: string };
  /** Bind the address to the repository of `initialRoot`, whatever it served before. */
  resetTrust?: boolean;
  now: Date;
  /** The longest root rotation chain walked in one refresh. */
  maxRootRotations?: number;
}

export interface RefreshResult {
  root: RootMetadata;
  index: IndexMetadata;
  /** `updated`: a newer index than seen before; `unchanged`: the same one ("no update"). */
  indexStatus: 'updated' | 'unchanged' | 'first';
  /** Root versions walked in this refresh. */
  rotations: number[];
  /** The previous highest index version, when one was recorded. */
  previousIndexVersion?: number;
  /** Damaged state files and what was used instead. */
  recovered: string[];
  /** The repository identity (identity.ts) and what changed about where its state is kept. */
  identity: string;
  notes: string[];
}

/** The index role as a comparable string: when it changes, index versions start over. */
function indexRoleOf(root: RootSigned): string {
  const r = root.roles.index;
  return `${[...new Set(r.keyids)].sort().join(',')}/${r.threshold}`;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * Brings a client's view of a repository up to date, TUF style: start from the trusted root,
 * walk `<N>.root.json` one version at a time (each signed by a threshold of the previous root's
 * root keys and of its own), refuse an expired root, then take `index.json` only when a threshold
 * of index keys signed it, its version is not lower than the highest seen (a replay), and it has
 * not expired (a freeze). The new root and the seen version are persisted durably.
 */
export async function refreshRepository(opts: RefreshOptions): Promise<RefreshResult> {
  const { reader, now } = opts;
  const maxRotations = opts.maxRootRotations ?? 256;
  const base = opts.stateBase ?? stateBaseDir();
  const located = opts.stateDir
    ? { dir: opts.stateDir, known: undefined, notes: [] }
    : await locateRepositoryState({
        base,
        address: opts.address ?? reader.name,
        readRoot: () => reader.read('root.json'),
        initialRoot: opts.initialRoot,
        resetTrust: opts.resetTrust,
      });
  const state = await loadClientState(located.dir);

  let trusted = state.root;
  if (!trusted) {
    if (!opts.initialRoot)
      throw new UpliftError('UPLIFT_REPO_NOT_TRUSTED', `no trusted root for ${reader.name}`, {
        hint: "Give --root the repository's root.json, obtained from its owner by a channel you trust.",
      });
    // The operator's own copy, perhaps pretty-printed by an older uplift: its signed content is what
    // is trusted, and a repository's files are held to the one encoding.
    const initial = parseRoot(opts.initialRoot.raw, opts.initialRoot.file, { reencode: true });
    const self = meetsThreshold(initial, initial.signed, 'root');
    if (!self.ok)
      throw new UpliftError(
        'UPLIFT_REPO_SIGNATURE_THRESHOLD',
        `${opts.initialRoot.file}: ${self.good} of the ${self.threshold} root signatures it needs are valid`,
        {
          hint: 'Get the root.json again from the repository owner.',
          location: { file: opts.initialRoot.file },
        },
      );
    trusted = initial;
  }
  const startRoot = trusted;
  const startIndexRole = state.seen?.indexRole ?? indexRoleOf(startRoot.signed);

  // Root rotation: consecutive versions only, each vouched for by the old root and by itself.
  const rotations: number[] = [];
  const walked: RootMetadata[] = [startRoot];
  for (;;) {
    const next = trusted.signed.version + 1;
    const file = `${next}.root.json`;
    const raw = await reader.read(file);
    if (raw === undefined) break;
    if (rotations.length >= maxRotations)
      throw new UpliftError(
        'UPLIFT_REPO_ROOT_CHAIN',
        `${reader.name}: more than ${maxRotations} root rotations in one step (from version ${startRoot.signed.version})`,
        { hint: 'Get a recent root.json from the repository owner and pass it with --root.' },
      );
    const candidate = parseRoot(raw, file);
    if (candidate.signed.version !== next)
      throw new UpliftError(
        'UPLIFT_REPO_ROOT_CHAIN',
        `${file} holds root version ${candidate.signed.version}, not ${next}`,
        {
          hint: 'Root versions must follow one another; tell the repository owner.',
          location: { file, path: 'signed.version' },
        },
      );
    const byOld = meetsThreshold(candidate, trusted.signed, 'root');
    const byNew = meetsThreshold(candidate, candidate.signed, 'root');
    if (!byOld.ok || !byNew.ok)
      throw new UpliftError(
        'UPLIFT_REPO_ROOT_CHAIN',
        !byOld.ok
          ? `${file} is signed by ${byOld.good} of the ${byOld.threshold} root keys of version ${trusted.signed.version} it needs`
          : `${file} is signed by ${byNew.good} of the ${byNew.threshold} of its own root keys it needs`,
        {
          hint: 'A new root must be signed by a threshold of the old root keys and of its own; tell the repository owner.',
          location: { file },
        },
      );
    trusted = candidate;
    walked.push(candidate);
    rotations.push(next);
  }

  // root.json names the newest root: newer than the chain reached means a version is missing.
  const currentRaw = await reader.read('root.json');
  if (currentRaw !== undefined) {
    const current = parseRoot(currentRaw, 'root.json');
    if (current.signed.version > trusted.signed.version)
      throw new UpliftError(
        'UPLIFT_REPO_ROOT_CHAIN',
        `root.json is version ${current.signed.version}, but the chain stops at ${trusted.signed.version}: ${trusted.signed.version + 1}.root.json is missing`,
        {
          hint: 'Every root version must be published as <N>.root.json; tell the repository owner.',
        },
      );
    // The same version with other content, or an older root with keys this client never trusted
    // for the repository: another repository answers at this address.
    if (
      (current.signed.version === trusted.signed.version &&
        !current.signedBytes.equals(trusted.signedBytes)) ||
      (current.signed.version < trusted.signed.version &&
        located.known !== undefined &&
        !located.known.has(repositoryIdentity(current.signed)))
    )
      throw rootChanged(
        reader.name,
        `root.json is version ${current.signed.version} with other root keys or content than the root version ${trusted.signed.version} trusted for this repository`,
      );
  }

  const rootExpires = new Date(trusted.signed.expires);
  if (rootExpires.getTime() <= now.getTime())
    throw new UpliftError(
      'UPLIFT_REPO_EXPIRED',
      `root version ${trusted.signed.version} of ${reader.name} expired at ${isoSeconds(rootExpires)} (${ageOf(rootExpires, now)} ago)`,
      {
        hint: "uplift will not trust expired keys: the repository's owner must publish a new root (repo rotate, in the repository's folder):\nuplift repo rotate --help",
      },
    );
  if (trusted !== state.root || !state.rootFileGood) await saveTrustedRoot(state, trusted);

  // A rotation that changed the index keys starts index versions over (fast-forward recovery).
  const indexRole = indexRoleOf(trusted.signed);
  const seen = indexRole === startIndexRole ? state.seen : undefined;

  const indexRaw = await reader.read('index.json');
  if (indexRaw === undefined)
    throw new UpliftError('UPLIFT_REPO_INVALID', `${reader.name} has no index.json`, {
      hint: "The repository's owner must sign and publish its index (repo publish, with the repository's folder and the index key):\nuplift repo publish --help",
    });
  const index = parseIndex(indexRaw, 'index.json');
  const signers = meetsThreshold(index, trusted.signed, 'index');
  if (!signers.ok)
    throw new UpliftError(
      'UPLIFT_REPO_SIGNATURE_THRESHOLD',
      `index.json of ${reader.name} is signed by ${signers.good} of the ${signers.threshold} index keys it needs`,
      {
        hint: 'The index was not signed with the keys root.json names for the index role; tell the repository owner.',
        location: { file: 'index.json', path: 'signatures' },
      },
    );

  const indexSha = sha256(index.signedBytes);
  let indexStatus: RefreshResult['indexStatus'] = seen ? 'updated' : 'first';
  if (seen && index.signed.version < seen.indexVersion)
    throw new UpliftError(
      'UPLIFT_REPO_ROLLBACK',
      `index.json of ${reader.name} is version ${index.signed.version}, older than version ${seen.indexVersion} seen at ${seen.seenAt}: replayed metadata`,
      {
        hint: 'Someone is serving old metadata (a rollback attack) or the repository was restored from an old copy; tell its owner, use another mirror.',
        location: { file: 'index.json', path: 'signed.version' },
      },
    );
  if (seen && index.signed.version === seen.indexVersion) {
    if (indexSha !== seen.indexSha256)
      throw new UpliftError(
        'UPLIFT_REPO_ROLLBACK',
        `index.json of ${reader.name} is version ${index.signed.version} again but with other content than seen at ${seen.seenAt}`,
        {
          hint: 'Each published index must have a new version; tell the repository owner.',
          location: { file: 'index.json', path: 'signed.version' },
        },
      );
    indexStatus = 'unchanged';
  }
  const expires = new Date(index.signed.expires);
  if (expires.getTime() <= now.getTime()) {
    const fresh = state.seen
      ? `; the last fresh index was seen at ${state.seen.seenAt} (${ageOf(new Date(state.seen.seenAt), now)} ago)`
      : '';
    throw new UpliftError(
      'UPLIFT_REPO_EXPIRED',
      `index.json version ${index.signed.version} of ${reader.name} expired at ${isoSeconds(expires)} (${ageOf(expires, now)} ago): cannot get fresh metadata${fresh}`,
      {
        hint: "The repository's owner must publish again (a mirror that keeps serving an expired index is stale or frozen):\nuplift repo publish --help",
        location: { file: 'index.json', path: 'signed.expires' },
      },
    );
  }

  await saveSeen(state, {
    repository: reader.name,
    indexVersion: index.signed.version,
    indexSha256: indexSha,
    seenAt: isoSeconds(now),
    rootVersion: trusted.signed.version,
    indexRole,
  });
  if (!opts.stateDir)
    await recordRepositoryState(base, located.dir, opts.address ?? reader.name, [
      ...walked,
      trusted,
    ]);
  return {
    root: trusted,
    index,
    indexStatus,
    rotations,
    previousIndexVersion: seen?.indexVersion,
    recovered: state.recovered,
    identity: repositoryIdentity(trusted.signed),
    notes: located.notes,
  };
}
