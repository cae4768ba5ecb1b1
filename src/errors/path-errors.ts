import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UpliftError } from './uplift-error.ts';

/** Why a path could not be written or read, in an operator's words, by errno code. */
const reasons: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the filesystem is read-only',
  ENAMETOOLONG: 'the path is too long',
  // util/regular-file.ts: a FIFO, a device, a socket or a link where a regular file belongs.
  ENOTREG: 'it is not a regular file (a FIFO, a device, a socket or a symbolic link)',
};

/**
 * The coded error for a path the user gave (`--out`, `--report`, `--stage`, a folder argument)
 * that uplift cannot write: a parent that is a file, a folder where the file goes, no permission.
 * Returns undefined for any other failure (a full disk, an I/O error), which the caller rethrows:
 * only what the user can fix by giving another path is bad input.
 *
 * `option` names what the user gave (`--out`, `the repository folder`), for the hint.
 */
export function unwritablePathError(
  err: unknown,
  path: string,
  option = 'the output',
): UpliftError | undefined {
  const why = reasons[(err as NodeJS.ErrnoException | undefined)?.code ?? ''];
  if (why === undefined) return undefined;
  return new UpliftError('UPLIFT_PATH_UNWRITABLE', `cannot write ${path}: ${why}`, {
    hint: `Give ${option} a path in a folder you can write; missing folders are created.`,
    location: { file: path },
    unchanged: true,
    cause: err,
  });
}

/**
 * The coded error for an input file the user named that cannot be read as a file: missing, a
 * folder, or unreadable. Returns undefined for any other failure, which the caller rethrows.
 */
export function unreadableFileError(
  err: unknown,
  file: string,
  hint: string,
): UpliftError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT')
    return new UpliftError('UPLIFT_FILE_NOT_FOUND', `${file} does not exist`, {
      hint,
      location: { file },
      unchanged: true,
      cause: err,
    });
  const why =
    code === 'ENOTDIR' ? 'a part of the path is a file, not a folder' : reasons[code ?? ''];
  if (why === undefined) return undefined;
  return new UpliftError('UPLIFT_FILE_UNREADABLE', `cannot read ${file}: ${why}`, {
    hint,
    location: { file },
    unchanged: true,
    cause: err,
  });
}

/**
 * The coded error for a write that found the disk (or the quota) full. Returns undefined for any
 * other failure, which the caller rethrows. A full disk is not bad input (exit 1): the same
 * command works once space is freed, which the hint says. `kept` tells what stays on disk.
 */
export function noSpaceError(
  err: unknown,
  path: string,
  kept = 'Nothing was kept.',
): UpliftError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return undefined;
  const why = code === 'EDQUOT' ? 'the disk quota is used up' : 'the disk is full';
  return new UpliftError('UPLIFT_NO_SPACE', `cannot write ${path}: ${why}. ${kept}`, {
    hint: 'Free space on the disk that holds it (or give another path), then run the same command again.',
    location: { file: path },
    cause: err,
  });
}

/**
 * `mkdir -p` for a path the user gave, failing with {@link unwritablePathError} when it cannot be
 * made. Node's recursive mkdir reports ENOENT on a read-only filesystem; the first missing folder
 * is made alone then, for the real reason (EROFS, EACCES).
 */
export async function makeFolders(dir: string, path: string, option: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    let cause = err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      let first = resolve(dir);
      while (dirname(first) !== first && !(await stat(dirname(first)).catch(() => undefined)))
        first = dirname(first);
      cause = await mkdir(first).then(
        () => err,
        (e: unknown) => e,
      );
    }
    throw unwritablePathError(cause, path, option) ?? err;
  }
}
