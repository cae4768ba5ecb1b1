import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { journalPath, refuseIfRestoreInterrupted } from '../../backup/index.ts';
import { shellWord, UpliftError } from '../../errors/index.ts';
import { parseLock } from '../../util/index.ts';
import { fail, pass, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult } from '../types.ts';

export const id = 'one-upgrade-at-a-time';

/**
 * Where a run of uplift (apply, resume, rollback) records that it is changing the installation:
 * beside it, in apply's state folder `<parent>/.<name>.uplift/lock` (docs/apply.md), never inside
 * the installation, which apply swaps.
 */
export function lockFile(install: string): string {
  return join(dirname(install), `.${basename(install)}.uplift`, 'lock');
}

async function run(ctx: CheckContext): Promise<CheckResult> {
  const restore = await findRestore(ctx.install);
  if (restore !== undefined) return restore;
  return checkLock(ctx);
}

/**
 * A restore (`uplift restore`) running now, or one interrupted, which left the installation to be
 * finished before anything else touches it (src/backup's journal says which).
 */
async function findRestore(install: string): Promise<CheckResult | undefined> {
  try {
    await refuseIfRestoreInterrupted(install);
    return undefined;
  } catch (e) {
    if (!(e instanceof UpliftError) || e.code !== 'UPLIFT_RESTORE_INCOMPLETE') throw e;
    return fail(e.message, e.hint ?? `finish the restore of ${install} first`, {
      journal: journalPath(install),
    });
  }
}

async function checkLock(ctx: CheckContext): Promise<CheckResult> {
  const file = lockFile(ctx.install);
  const lockPath = file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return pass(`no upgrade holds ${lockPath}`);
    return warn(
      `${lockPath} exists but cannot be read (${code})`,
      `run uplift as the owner of the installation, or look at ${file} yourself`,
      { file },
    );
  }
  const lock = parseLock(text);
  if (lock === undefined) {
    return warn(
      `${lockPath} exists but is not a lock uplift can read`,
      `make sure no upgrade runs on this installation, then remove ${file}`,
      { file },
    );
  }
  const since = lock.startedAt === undefined ? '' : ` since ${lock.startedAt}`;
  const bootNow = await ctx.host.bootId();
  const sameBoot = lock.bootId === undefined || bootNow === undefined || lock.bootId === bootNow;
  const details = { file, lock, bootId: bootNow };
  if (sameBoot && lock.pid === ctx.host.pid) {
    return pass(`this run of uplift holds ${lockPath}`, details);
  }
  if (sameBoot && ctx.host.isAlive(lock.pid)) {
    return fail(
      `another upgrade is running: pid ${lock.pid} holds ${lockPath}${since}`,
      `wait for pid ${lock.pid} to finish; never remove the lock while it runs`,
      details,
    );
  }
  const why = sameBoot ? `pid ${lock.pid} is gone` : 'the machine has rebooted since';
  return warn(
    `a stale lock: ${lockPath} was taken by pid ${lock.pid}${since}, and ${why}`,
    `finish or undo that run (resume recovers the lock):\nuplift resume --install ${shellWord(ctx.install)}`,
    details,
  );
}

export const api: Check = { id, title: 'No other upgrade running on this installation', run };
