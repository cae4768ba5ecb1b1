import { formatBytes } from '../../util/index.ts';
import { fail, pass, plural, skip, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult } from '../types.ts';

export const id = 'history-folders';

/**
 * The guide asks to move the history folders out before every upgrade, because "the high volume
 * of files in the history folders could significantly slow down the upgrade process", but gives
 * no number. Above `warn` copying them starts to cost minutes of downtime; above `fail` (100,000
 * files) the downtime estimate no longer holds, so the upgrade should not start until they are
 * moved. The folder is the one the profile's detection counts `data.historyFiles` in; a profile
 * that counts none has no history folder, and the check is skipped.
 */
export const limits = {
  warn: { files: 10_000, bytes: 1024 ** 3 },
  fail: { files: 100_000, bytes: 10 * 1024 ** 3 },
} as const;

async function run(ctx: CheckContext): Promise<CheckResult> {
  const files = ctx.facts.data?.historyFiles;
  const bytes = ctx.facts.data?.historyBytes;
  const folder = ctx.profile.historyFolder;
  if (folder === undefined && files === undefined)
    return skip(`the ${ctx.profile.name} profile names no history folder`);
  const rel = folder ?? 'the history folder';
  const hist = folder ? `${ctx.install}/${folder}` : rel;
  const move = `move the contents of ${hist} outside the installation before the upgrade, and back after it`;
  if (files === undefined || bytes === undefined) {
    return warn(
      `the size of ${rel} is unknown (facts data.historyFiles, data.historyBytes)`,
      `count the files in ${hist}; if there are many, ${move}`,
    );
  }
  const details = { files, bytes, limits };
  const found = `${rel} holds ${plural(files, 'file')}, ${formatBytes(bytes)}`;
  const over = (l: { files: number; bytes: number }) => files > l.files || bytes > l.bytes;
  const limit = (l: { files: number; bytes: number }) =>
    `${plural(l.files, 'file')} or ${formatBytes(l.bytes)}`;
  if (over(limits.fail)) {
    return fail(
      `${found}: more than ${limit(limits.fail)}, which makes the upgrade run far past its estimate`,
      move,
      details,
    );
  }
  if (over(limits.warn)) {
    return warn(`${found}: more than ${limit(limits.warn)} slows the upgrade down`, move, details);
  }
  return pass(
    `${found}, within ${plural(limits.warn.files, 'file')} and ${formatBytes(limits.warn.bytes)}`,
    details,
  );
}

export const api: Check = {
  id,
  title: 'History folders small enough not to slow the upgrade',
  run,
};
