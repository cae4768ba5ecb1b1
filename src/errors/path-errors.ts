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
