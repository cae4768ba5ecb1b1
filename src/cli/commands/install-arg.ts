import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { enforceOwnership } from '../../apply/index.ts';
import { UpliftError } from '../../errors/index.ts';

// The --install argument of the run commands. Kept out of apply.ts so that status, history,
// resume and rollback start without the planner and the apply engine.

/**
 * The installation's real path. `allowMissing`: a crash between the two renames of a switch leaves
 * no directory at the path, and resume, status and rollback must still find its state beside it.
 */
export async function resolveInstall(dir: string, allowMissing = false): Promise<string> {
  let real: string;
  try {
    real = await realpath(resolve(dir));
  } catch {
    if (allowMissing) {
      const parent = await realpath(dirname(resolve(dir))).catch(() => undefined);
      if (parent) return join(parent, basename(resolve(dir)));
    }
    throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `the installation ${dir} does not exist`, {
      hint: 'Check the --install path.',
      location: { file: dir },
      unchanged: true,
    });
  }
  if (!(await stat(real)).isDirectory())
    throw new UpliftError(
      'UPLIFT_USAGE',
      `--install ${dir} is a file, not an installation folder`,
      {
        hint: 'Give the folder the product is installed in, e.g. --install /opt/product.',
        location: { file: dir },
        unchanged: true,
      },
    );
  return real;
}

/**
 * The installation a run command (`resume`, `rollback`) works on, once its owner is enforced, and
 * the progress callback that prints each line on stderr.
 */
export async function ownedInstall(
  dir: string,
  io: { stderr: (s: string) => void },
): Promise<{ install: string; progress: (line: string) => void }> {
  const install = await resolveInstall(dir, true);
  await enforceOwnership(install);
  return { install, progress: (line) => io.stderr(`${line}\n`) };
}
