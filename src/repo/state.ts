import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { UpliftError } from '../errors/index.ts';
import { previousOf, writeDurably } from './durable.ts';
import { meetsThreshold, parseRoot, type RootMetadata } from './metadata.ts';

/**
 * What a client remembers about one repository, in `<state dir>/repos/root-<id>/` (identity.ts):
 * `trusted-root.json` (the last root it verified, as published) and `seen.json` (the highest index
 * version it accepted, its hash, and when). Each file keeps its previous good copy in `.prev`, so
 * a torn or damaged file (a kill during a write, a disk that lied) falls back to it.
 */
export interface ClientState {
  dir: string;
  root?: RootMetadata;
  seen?: Seen;
  /** Files that were damaged and what was used instead, for the operator. */
  recovered: string[];
  /** Whether the current files are good, so the next write keeps them as `.prev`. */
  rootFileGood: boolean;
  seenFileGood: boolean;
}

export const Seen = z.object({
  repository: z.string(),
  indexVersion: z.number().int().nonnegative(),
  indexSha256: z.string(),
  /** When the client last accepted an index that was not expired. */
  seenAt: z.string(),
  rootVersion: z.number().int().positive(),
  /** The index role's key ids and threshold when the version was seen (fast-forward recovery). */
  indexRole: z.string(),
});
export type Seen = z.infer<typeof Seen>;

/** `$UPLIFT_STATE_DIR`, else `$XDG_STATE_HOME/uplift`, else `~/.local/state/uplift`. */
export function stateBaseDir(): string {
  const env = process.env.UPLIFT_STATE_DIR;
  if (env) return env;
  return join(process.env.XDG_STATE_HOME || join(homedir(), '.local/state'), 'uplift');
}

async function readOrUndefined(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A stored root is good when it parses and a threshold of its own root keys signed it. */
function goodRoot(raw: Buffer | undefined, file: string): RootMetadata | undefined {
  if (raw === undefined) return undefined;
  try {
    // An older uplift stored the root as published (pretty-printed); it is still the root verified.
    const root = parseRoot(raw, file, { reencode: true });
    return meetsThreshold(root, root.signed, 'root').ok ? root : undefined;
  } catch {
    return undefined;
  }
}

function goodSeen(raw: Buffer | undefined): Seen | undefined {
  if (raw === undefined) return undefined;
  try {
    const parsed = Seen.safeParse(JSON.parse(raw.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function loadClientState(dir: string): Promise<ClientState> {
  const recovered: string[] = [];
  const rootFile = join(dir, 'trusted-root.json');
  const seenFile = join(dir, 'seen.json');

  const rootRaw = await readOrUndefined(rootFile);
  let root = goodRoot(rootRaw, rootFile);
  const rootFileGood = root !== undefined;
  if (!root && rootRaw !== undefined) {
    root = goodRoot(await readOrUndefined(previousOf(rootFile)), previousOf(rootFile));
    recovered.push(
      root
        ? `${rootFile} was damaged; used the previous trusted root (version ${root.signed.version})`
        : `${rootFile} was damaged and has no good previous copy`,
    );
  } else if (!root) {
    root = goodRoot(await readOrUndefined(previousOf(rootFile)), previousOf(rootFile));
    if (root) recovered.push(`${rootFile} was missing; used the previous trusted root`);
  }

  const seenRaw = await readOrUndefined(seenFile);
  let seen = goodSeen(seenRaw);
  const seenFileGood = seen !== undefined;
  if (!seen) {
    const prevRaw = await readOrUndefined(previousOf(seenFile));
    seen = goodSeen(prevRaw);
    if (seenRaw !== undefined || prevRaw !== undefined) {
      if (seen) recovered.push(`${seenFile} was damaged or missing; used its previous copy`);
      else
        throw new UpliftError(
          'UPLIFT_REPO_INVALID',
          `${seenFile}: the record of index versions seen is damaged, and so is its previous copy`,
          {
            hint: `Without it uplift cannot detect replayed metadata; remove ${dir} and fetch again with --root and the repository's root.json from a source you trust.`,
            location: { file: seenFile },
          },
        );
    }
  }
  return { dir, root, seen, recovered, rootFileGood, seenFileGood };
}

export async function saveTrustedRoot(state: ClientState, root: RootMetadata): Promise<void> {
  await writeDurably(join(state.dir, 'trusted-root.json'), root.raw, {
    keepPrevious: state.rootFileGood,
    mode: 0o600,
  });
  state.root = root;
  state.rootFileGood = true;
}

export async function saveSeen(state: ClientState, seen: Seen): Promise<void> {
  await writeDurably(join(state.dir, 'seen.json'), `${JSON.stringify(seen, null, 2)}\n`, {
    keepPrevious: state.seenFileGood,
    mode: 0o600,
  });
  state.seen = seen;
  state.seenFileGood = true;
}
