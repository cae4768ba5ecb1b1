import { UpliftError } from '../errors/index.ts';

/**
 * Checks a relative path taken from an archive or a manifest before it is used to build a path on
 * disk: no absolute paths, no `..`, no `.` or empty segments (except the root itself, `.`), no NUL.
 * Backslashes are ordinary characters in Linux names, so they are allowed.
 */
export function checkRelativePath(path: string, where: string): string {
  const problem = pathProblem(path);
  if (problem) {
    throw new UpliftError(
      'UPLIFT_BACKUP_UNSAFE_ENTRY',
      `${where}: entry ${JSON.stringify(path)} ${problem}`,
      {
        hint: 'This archive was not written by uplift or was altered; use another backup.',
        unchanged: true,
      },
    );
  }
  return path;
}

function pathProblem(path: string): string | undefined {
  if (path === '.') return undefined;
  if (path === '') return 'is empty';
  if (path.includes('\0')) return 'contains a NUL byte';
  if (path.startsWith('/')) return 'is absolute';
  for (const segment of path.split('/')) {
    if (segment === '..') return 'climbs out with ".."';
    if (segment === '' || segment === '.') return 'has an empty or "." segment';
  }
  return undefined;
}

/** The parent of a relative path; `.` for top-level entries. */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? '.' : path.slice(0, i);
}
