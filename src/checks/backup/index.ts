import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { formatBytes } from '../../util/index.ts';
import { fail, pass, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult } from '../types.ts';
import { walk } from '../walk.ts';

export const id = 'backup';

/**
 * Folders whose files change all the time while the product runs (logs, the database, uploads)
 * and uplift's own state. A backup is current when it is newer than the last change of the rest:
 * the version, the code and the configuration, which is what an upgrade replaces.
 */
const alwaysChanging = ['var', 'data', '.uplift'];

async function run(ctx: CheckContext): Promise<CheckResult> {
  const dir = dirname(ctx.install);
  const prefix = `${basename(ctx.install)}-backup-`;
  const pattern = join(dir, `${prefix}*.tar.gz`);
  const names = (await readdir(dir).catch(() => [] as string[])).filter(
    (n) => n.startsWith(prefix) && n.endsWith('.tar.gz'),
  );
  const backups = (
    await Promise.all(
      names.map(async (name) => {
        const s = await stat(join(dir, name)).catch(() => undefined);
        return s?.isFile() ? { file: join(dir, name), size: s.size, mtime: s.mtime } : undefined;
      }),
    )
  )
    .filter((b) => b !== undefined)
    .sort((a, b) => b.mtime.getTime() - a.mtime.getTime());
  const newest = backups[0];
  const remedy = `back up the installation right before the upgrade, e.g. with uplift backup, as ${pattern}`;
  if (newest === undefined) {
    return warn(`no backup of the installation found (looked for ${pattern})`, remedy, { pattern });
  }
  const damage = await findDamage(newest.file, newest.size);
  if (damage !== undefined) {
    // Worse than no backup: the operator believes the upgrade can be undone from it.
    return fail(
      `the newest backup ${basename(newest.file)} ${damage}: a restore from it would fail`,
      `${remedy}, and delete ${newest.file}`,
      { pattern, backup: { file: newest.file, size: newest.size }, damage },
    );
  }
  const last = await lastChange(ctx.install);
  const details = {
    pattern,
    backup: { file: newest.file, size: newest.size, madeAt: newest.mtime.toISOString() },
    lastChange: last && { file: last.file, at: last.mtime.toISOString() },
  };
  const made = `${basename(newest.file)} (${formatBytes(newest.size)}, ${newest.mtime.toISOString()})`;
  if (last !== undefined && newest.mtime.getTime() < last.mtime.getTime()) {
    return warn(
      `the newest backup ${made} is older than the installation's last change (${last.file}, ${last.mtime.toISOString()})`,
      remedy,
      details,
    );
  }
  return pass(`backup ${made} is newer than the installation's last change`, details);
}

/** Why a backup cannot be a gzip archive, read from its first bytes; undefined when it can. */
async function findDamage(file: string, size: number): Promise<string | undefined> {
  if (size === 0) return 'is empty';
  const head = Buffer.alloc(2);
  const handle = await open(file, 'r').catch(() => undefined);
  if (handle === undefined) return 'cannot be read';
  try {
    await handle.read(head, 0, 2, 0);
  } finally {
    await handle.close();
  }
  return head[0] === 0x1f && head[1] === 0x8b ? undefined : 'is not a gzip file';
}

async function lastChange(install: string): Promise<{ file: string; mtime: Date } | undefined> {
  let last: { file: string; mtime: Date } | undefined;
  await walk(
    install,
    (file, s) => {
      if (last === undefined || s.mtime > last.mtime) last = { file, mtime: s.mtime };
    },
    alwaysChanging,
  );
  return last;
}

export const api: Check = { id, title: 'A backup newer than the installation', run };
