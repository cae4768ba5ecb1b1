import { readlink, realpath } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { matchesAnyGlob, walk } from '../../util/index.ts';
import { listSome, pass, plural, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult } from '../types.ts';

export const id = 'outside-links';

/** A link of the installation whose target resolves outside it. */
export interface OutsideLink {
  /** The link, relative to the installation. */
  path: string;
  /** The link text, as the link holds it. */
  target: string;
  /** Where it leads, every link resolved (the lexical path when it dangles). */
  resolved: string;
  /** False when nothing is there (a dangling link). */
  exists: boolean;
  /** Its own path matches the profile's data (paths.data, paths.databases): backed up and restored through. */
  data: boolean;
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep));
}

/** Every link of the installation that leaves it, in walk order; the walk never follows a link. */
async function outsideLinks(install: string, data: readonly string[]): Promise<OutsideLink[]> {
  const root = await realpath(install);
  const found: OutsideLink[] = [];
  for await (const e of walk(root, { onError: () => {} })) {
    if (e.type !== 'symlink') continue;
    const abs = join(root, e.path);
    const target = await readlink(abs).catch(() => undefined);
    if (target === undefined) continue;
    let resolved: string;
    let exists = true;
    try {
      resolved = await realpath(abs);
    } catch {
      exists = false;
      resolved = resolve(dirname(abs), target);
    }
    if (isInside(resolved, root)) continue;
    found.push({ path: e.path, target, resolved, exists, data: matchesAnyGlob(data, e.path) });
  }
  return found;
}

const shown = (l: OutsideLink) => `${l.path} -> ${l.target}${l.exists ? '' : ' (missing)'}`;

/**
 * Operators link configuration files, folders and database folders to other disks. uplift keeps
 * every link as the customer's (apply never writes through one, a backup records it), but it backs
 * up and restores what a link points to only when the profile declares the link as data: the rest
 * the operator must back up. Declared data links and links inside the installation pass; a link
 * that leaves it and is not data warns, naming it, because its target is in no uplift backup.
 */
async function run(ctx: CheckContext): Promise<CheckResult> {
  const links = await outsideLinks(ctx.install, ctx.profile.data ?? []);
  const details = { links };
  if (links.length === 0) return pass('no link leaves the installation', details);
  const through = links.filter((l) => l.data && l.exists);
  const only = links.filter((l) => !(l.data && l.exists));
  const found = `${plural(links.length, 'link')} ${links.length === 1 ? 'leaves' : 'leave'} the installation`;
  const parts = [
    ...(through.length > 0
      ? [`declared data, backed up through: ${listSome(through.map(shown))}`]
      : []),
    ...(only.length > 0
      ? [`not data, the backup holds the link only: ${listSome(only.map(shown))}`]
      : []),
  ];
  const message = `${found}; ${parts.join('; ')}`;
  if (only.length === 0) return pass(message, details);
  return warn(
    message,
    "back up what the links that are not data point to yourself (uplift keeps the links, not their targets), or declare them in the profile's paths.data so that uplift backs them up and restores them",
    details,
  );
}

export const api: Check = {
  id,
  title: 'Links that leave the installation are known, and backed up',
  run,
};
