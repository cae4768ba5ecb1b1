import { constants } from 'node:fs';
import { access, lstat, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { shellWord, UpliftError } from '../errors/index.ts';
import { walk } from '../util/index.ts';
import { statePaths } from './paths.ts';
import { exists } from './tree.ts';

/**
 * Who apply, resume and rollback run as. The reference: "For NON-ROOT installation, run the
 * upgrade with NON-ROOT user. Attempts to run the upgrade with root user will be successful and no
 * error message will be returned. However after the upgrade the permissions on installation files
 * will be wrong and your installation will be corrupt."
 *
 * - The owner of the installation runs uplift: every file it writes is the owner's.
 * - root runs uplift on a non-root installation: uplift becomes the owner (setgroups, setgid,
 *   setuid) before it writes anything, so the state beside the installation, the staged tree, the
 *   service it starts and the vendor's update scripts are all the owner's. No root-owned file can
 *   appear.
 * - Anyone else is refused up front (UPLIFT_APPLY_WRONG_USER, exit 3), before the lock.
 * Then every entry of the installation (and the method's other directories, such as Axway's
 * installer) must belong to the owner, and every directory be writable by them: otherwise the
 * upgrade would leave files whose owner or mode it cannot keep.
 */
export interface Ownership {
  /** The installation's owner (of its top directory). */
  uid: number;
  gid: number;
  user?: string;
  /** Who uplift ran as when it started. */
  startedAs: number;
  /** `owner`: uplift already runs as the owner; `became-owner`: root switched to the owner. */
  how: 'owner' | 'became-owner' | 'not-unix';
  /** Entries checked. */
  checked: number;
}

export interface OwnershipOptions {
  /** Other directories the hop method changes (Axway's installer directory), checked like the installation. */
  extraDirs?: readonly string[];
  /** Walk every entry (apply); resume and rollback only switch user, so they can always repair. */
  walk?: boolean;
}

/** The owner of an installation that a crash may have left missing (between the two renames). */
async function ownerStat(install: string): Promise<{ uid: number; gid: number; of: string }> {
  for (const p of [install, statePaths(install).dir, dirname(install)]) {
    const st = await lstat(p).catch(() => undefined);
    if (st) return { uid: st.uid, gid: st.gid, of: p };
  }
  throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `the installation ${install} does not exist`, {
    hint: 'Check the --install path.',
    location: { file: install },
    unchanged: true,
  });
}

/** The user name and home of a uid, from /etc/passwd (Node has no getpwuid for another user). */
async function passwdEntry(uid: number): Promise<{ user?: string; home?: string }> {
  const text = await readFile('/etc/passwd', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (Number(f[2]) === uid) return { user: f[0], home: f[5] };
  }
  return {};
}

/** Whether `uid`/`gid` may create and rename entries in `dir`, from its mode bits (root can test for another user). */
function canWrite(st: { uid: number; gid: number; mode: number }, uid: number, gid: number) {
  if (uid === 0) return true;
  if (st.uid === uid) return (st.mode & 0o300) === 0o300;
  if (st.gid === gid) return (st.mode & 0o030) === 0o030;
  return (st.mode & 0o003) === 0o003;
}

function wrongUser(message: string, hint: string, file: string, details?: string[]): UpliftError {
  return new UpliftError('UPLIFT_APPLY_WRONG_USER', message, {
    hint,
    location: { file },
    unchanged: true,
    ...(details ? { details: details.map((d) => ({ message: d })) } : {}),
  });
}

/**
 * Decides who runs the command, switches root to a non-root owner, and refuses (nothing written)
 * when the user would leave wrong ownership. Call before anything is written: before the lock.
 */
export async function enforceOwnership(
  install: string,
  o: OwnershipOptions = {},
): Promise<Ownership> {
  const me = process.getuid?.();
  if (me === undefined || !process.setuid || !process.setgid)
    return { uid: -1, gid: -1, startedAs: -1, how: 'not-unix', checked: 0 };
  const owner = await ownerStat(install);
  const pw = await passwdEntry(owner.uid);
  const ownerName = pw.user ?? `uid ${owner.uid}`;
  const asOwner = `put sudo -u ${pw.user ?? `'#${owner.uid}'`} in front of the same command`;
  let how: Ownership['how'] = 'owner';
  if (me !== owner.uid) {
    if (me !== 0) {
      const mine = (await passwdEntry(me)).user ?? `uid ${me}`;
      throw wrongUser(
        `${install} belongs to ${ownerName}, but uplift runs as ${mine}: the upgrade would leave files ${ownerName} does not own, or fail halfway on files ${mine} cannot change`,
        `Run uplift as the installation's owner: ${asOwner}; nothing was changed.`,
        install,
      );
    }
    // root on a non-root installation: become the owner for the whole command.
    const parent = dirname(install);
    const pst = await lstat(parent);
    if (!canWrite(pst, owner.uid, owner.gid))
      throw wrongUser(
        `${install} belongs to ${ownerName}, who cannot write its folder ${parent}: uplift runs the upgrade as the owner (root would leave root-owned files in a non-root installation) and keeps its state and the new version's tree there`,
        `Give ${ownerName} write access to ${parent} (or move the installation into a folder ${ownerName} owns); nothing was changed.`,
        parent,
      );
    process.setgroups?.([owner.gid]);
    process.setgid(owner.gid);
    process.setuid(owner.uid);
    if (pw.home) process.env.UPLIFT_OWNER_HOME = pw.home;
    how = 'became-owner';
  }
  let checked = 0;
  if (o.walk) {
    const foreign: string[] = [];
    const locked: string[] = [];
    let foreignCount = 0;
    for (const root of [install, ...(o.extraDirs ?? [])]) {
      if (!(await exists(root))) continue;
      const top = await lstat(root);
      const entries = [{ path: '.', type: 'directory', uid: top.uid, mode: top.mode & 0o7777 }];
      for await (const e of walk(root)) entries.push(e);
      for (const e of entries) {
        checked++;
        const shown = root === install ? e.path : `${root}/${e.path}`;
        if (e.uid !== owner.uid) {
          foreignCount++;
          if (foreign.length < 5) foreign.push(`${shown} (uid ${e.uid})`);
        } else if (e.type === 'directory' && (e.mode & 0o300) !== 0o300) {
          if (locked.length < 5) locked.push(`${shown} (mode ${e.mode.toString(8)})`);
        }
      }
    }
    if (foreignCount > 0)
      throw wrongUser(
        `${foreignCount} entr${foreignCount === 1 ? 'y' : 'ies'} of ${install} do${foreignCount === 1 ? 'es' : ''} not belong to its owner ${ownerName} (e.g. ${foreign.join(', ')}); an upgrade cannot keep their owner, and a root-owned file corrupts a non-root installation`,
        `Give them back to the owner, then run the same apply command again:\nchown -R ${pw.user ?? owner.uid} ${shellWord(install)}`,
        install,
        foreign,
      );
    if (locked.length > 0)
      throw wrongUser(
        `${ownerName} cannot write ${locked.length === 1 ? 'a folder' : 'folders'} of ${install}: ${locked.join(', ')}`,
        `Give the owner write access to those folders (chmod u+w), then run the same apply command again; nothing was changed.`,
        install,
        locked,
      );
    await access(dirname(install), constants.W_OK | constants.X_OK).catch(() => {
      throw wrongUser(
        `${ownerName} cannot write ${dirname(install)}, where uplift keeps its state beside the installation`,
        `Give ${ownerName} write access to ${dirname(install)}; nothing was changed.`,
        dirname(install),
      );
    });
  }
  return {
    uid: owner.uid,
    gid: owner.gid,
    ...(pw.user ? { user: pw.user } : {}),
    startedAs: me,
    how,
    checked,
  };
}

/** Entries under `root` (itself included) that do not belong to `uid`: what must never remain. */
export async function foreignEntries(root: string, uid: number): Promise<string[]> {
  if (!(await exists(root))) return [];
  const top = await lstat(root);
  const out = top.uid === uid ? [] : ['.'];
  for await (const e of walk(root)) if (e.uid !== uid) out.push(e.path);
  return out;
}
