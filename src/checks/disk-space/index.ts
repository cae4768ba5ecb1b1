import { shellWord } from '../../errors/index.ts';
import { formatBytes } from '../../util/index.ts';
import { fail, pass, thenCheckAgain, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult } from '../types.ts';

export const id = 'disk-space';

/**
 * Room for what the pack contents unpack to and for the scripts' own temporary files, which the
 * catalog does not size: a tenth of the known need, and never less than 256 MiB.
 */
const marginShare = 0.1;
const minMargin = 256 * 1024 * 1024;

async function run(ctx: CheckContext): Promise<CheckResult> {
  const packs = ctx.plan?.estimate.downloadBytes ?? 0;
  const backup = ctx.facts.data?.installBytes;
  if (backup === undefined) {
    return warn(
      'the size of the installation is unknown, so the space the backup needs is too',
      thenCheckAgain(
        `measure the installation's size in bytes (du -sb ${shellWord(ctx.install)} prints it) and give it as --fact data.installBytes=`,
      ),
    );
  }
  const free = await ctx.host.freeBytes(ctx.install);
  const known = packs + backup;
  const margin = Math.max(minMargin, Math.ceil(known * marginShare));
  const need = known + margin;
  const details = { freeBytes: free, packBytes: packs, backupBytes: backup, marginBytes: margin };
  const sizes = `packs ${formatBytes(packs)} + backup ${formatBytes(backup)} + margin ${formatBytes(margin)}`;
  const missingPacks = ctx.plan?.steps.filter((s) => s.packProblem !== undefined).length ?? 0;
  const caveat = missingPacks > 0 ? `; ${missingPacks} pack sizes unknown` : '';
  if (free < need) {
    return fail(
      `${formatBytes(free)} free on the installation's filesystem, ${formatBytes(need)} needed (${sizes})${caveat}`,
      `free at least ${formatBytes(need - free)} on the filesystem of ${ctx.install}`,
      details,
    );
  }
  if (free < need + margin) {
    return warn(
      `${formatBytes(free)} free, ${formatBytes(need)} needed (${sizes}): less than twice the margin to spare${caveat}`,
      `free another ${formatBytes(need + margin - free)} on the filesystem of ${ctx.install} to be safe`,
      details,
    );
  }
  return pass(
    `${formatBytes(free)} free, ${formatBytes(need)} needed (${sizes})${caveat}`,
    details,
  );
}

export const api: Check = { id, title: 'Free disk for the staged packs and the backup', run };
