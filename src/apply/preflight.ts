import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import type { PlanStep } from '../plan/index.ts';
import type { VendorManifest } from './tree.ts';

/** What apply and its dry run check and name before a run begins. */

export function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, 'Z');
  return `${t}-${randomBytes(3).toString('hex')}`;
}

export function manualStepError(s: PlanStep, done: number): UpliftError {
  const detail = s.manual?.detail ? `: ${s.manual.detail}` : '';
  return new UpliftError(
    'UPLIFT_APPLY_MANUAL_STEP',
    `step ${s.index} is not a pack uplift can apply: ${s.title}${detail}${done > 0 ? ` (${done} hop${done === 1 ? '' : 's'} before it went in)` : ''}`,
    {
      hint: s.packProblem
        ? `${s.packProblem}. Do the step by hand, then plan and apply again.`
        : 'Do this step by hand (uplift plan lists how), then run the same apply command again.',
      unchanged: done === 0,
    },
  );
}

/** Refuses an installation on another filesystem than its parent (the switch renames across them). */
export async function checkSameFilesystem(install: string): Promise<void> {
  const [a, b] = await Promise.all([stat(install), stat(dirname(install))]);
  if (a.dev !== b.dev)
    throw new UpliftError(
      'UPLIFT_APPLY_CROSS_DEVICE',
      `${install} is a mount point: apply prepares the new version beside it and switches by rename, which cannot cross filesystems`,
      {
        hint: `Install the product in a directory inside the mount (e.g. ${install}/product), so its parent is on the same filesystem.`,
        unchanged: true,
      },
    );
}

/**
 * The installed version's vendor manifest: the installation's own (the profile's
 * `detection.vendorManifest`), else, for an installation made without one (an `npm install`, an
 * unpacked archive), the manifest of the release tree given as `--base-tree`. The first apply
 * writes it into the installation, so the next needs no `--base-tree`.
 */
export async function readVendorManifest(
  install: string,
  rel: string,
  baseTree?: string,
): Promise<VendorManifest> {
  const file = join(install, rel);
  let own: string | undefined;
  try {
    own = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !baseTree) throw unreadable(file, err);
  }
  const from = own === undefined ? join(baseTree as string, 'manifest.json') : file;
  try {
    return JSON.parse(own ?? (await readFile(from, 'utf8'))) as VendorManifest;
  } catch (err) {
    throw unreadable(from, err);
  }
}

function unreadable(file: string, err: unknown): UpliftError {
  return new UpliftError(
    'UPLIFT_APPLY_STAGE_FAILED',
    `cannot read the vendor manifest ${file}: ${(err as Error).message}`,
    {
      hint: 'The installation must keep the manifest of its vendor files (the profile names it), or give the release tree it was installed from with --base-tree.',
      location: { file },
      unchanged: true,
    },
  );
}
