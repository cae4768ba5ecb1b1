import { formatBytes } from '../../util/index.ts';
import { pass, plural, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult } from '../types.ts';

export const id = 'history-folders';

/**
 * Above either limit the history folders noticeably lengthen the backup and the upgrade (the guide:
 * "the high volume of files in the history folders could significantly slow down the upgrade").
 * The guide gives no number; these are where copying them starts to cost minutes of downtime.
 */
export const limits = { files: 10_000, bytes: 1024 ** 3 } as const;

async function run(ctx: CheckContext): Promise<CheckResult> {
  const files = ctx.facts.data?.historyFiles;
  const bytes = ctx.facts.data?.historyBytes;
  const hist = `${ctx.install}/var/db/hist`;
  if (files === undefined || bytes === undefined) {
    return warn(
      'the size of var/db/hist is unknown',
      `count the files in ${hist}; move them outside the installation if there are many`,
    );
  }
  const details = { files, bytes, limits };
  const found = `var/db/hist holds ${plural(files, 'file')}, ${formatBytes(bytes)}`;
  if (files > limits.files || bytes > limits.bytes) {
    return warn(
      `${found}: more than ${plural(limits.files, 'file')} or ${formatBytes(limits.bytes)} slows the upgrade down`,
      `move the contents of ${hist} outside the installation before the upgrade, and back after it`,
      details,
    );
  }
  return pass(
    `${found}, within ${plural(limits.files, 'file')} and ${formatBytes(limits.bytes)}`,
    details,
  );
}

export const api: Check = {
  id,
  title: 'History folders small enough not to slow the upgrade',
  run,
};
