/** Longest path and segment a pack may name (bytes, UTF-8): Linux's PATH_MAX and NAME_MAX. */
const maxPathBytes = 4095;
const maxSegmentBytes = 255;

/**
 * Why a path taken from a pack (manifest or tar entry) is unsafe to join under a staging or
 * installation root, or undefined when it is safe: only relative POSIX paths of plain segments.
 * Stricter than Linux itself: backslashes and drive letters are refused too, so a pack means the
 * same thing on every platform and no reader can take a segment for a separator.
 */
export function pathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.includes('\0')) return 'contains a NUL byte';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses.
  if (/[\u0001-\u001f\u007f]/.test(path)) return 'contains a control character';
  if (path.includes('\\')) return 'contains a backslash';
  if (path.startsWith('/')) return 'is absolute';
  if (/^[A-Za-z]:/.test(path)) return 'starts with a drive letter';
  if (Buffer.byteLength(path) > maxPathBytes) return `is longer than ${maxPathBytes} bytes`;
  for (const segment of path.split('/')) {
    if (segment === '..') return 'climbs out with ".."';
    if (segment === '' || segment === '.') return 'has an empty or "." segment';
    if (Buffer.byteLength(segment) > maxSegmentBytes)
      return `has a segment longer than ${maxSegmentBytes} bytes`;
  }
  return undefined;
}

/**
 * Why a mode may not be carried by a pack, or undefined: only permission bits, without setuid,
 * setgid, sticky or world-writable (a pack never makes a file anyone may change or that runs with
 * another user's rights).
 */
export function modeProblem(mode: number): string | undefined {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) return 'is not a permission mode';
  if (mode & 0o4000) return 'sets setuid';
  if (mode & 0o2000) return 'sets setgid';
  if (mode & 0o1000) return 'sets the sticky bit';
  if (mode & 0o002) return 'is world-writable';
  return undefined;
}

/** `0o755` → `0755`, for messages. */
export function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}

/**
 * Why a symbolic link at `path` (a safe pack path) may not point at `target`, or undefined. The
 * target must stay inside the tree whatever the filesystem holds: it is relative, its `..`
 * segments all come first (a `..` after a name would climb out of whatever that name resolves to,
 * e.g. a link to `.`), and they climb no higher than the link's own directory. Every parent of a
 * pack entry is a real directory (no entry lies under a link), so the climb stays inside; what
 * follows only descends, and any link met on the way is held to the same rule.
 */
export function linkTargetProblem(path: string, target: string): string | undefined {
  if (target === '') return 'has an empty target';
  if (target.includes('\0')) return 'has a target with a NUL byte';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses.
  if (/[\u0001-\u001f\u007f]/.test(target)) return 'has a target with a control character';
  if (target.includes('\\')) return 'has a target with a backslash';
  if (target.startsWith('/')) return `points at the absolute path ${JSON.stringify(target)}`;
  if (Buffer.byteLength(target) > maxPathBytes)
    return `has a target longer than ${maxPathBytes} bytes`;
  const depth = path.split('/').length - 1;
  let climbs = 0;
  let named = false;
  for (const segment of target.split('/')) {
    if (segment === '..') {
      if (named)
        return `has the target ${JSON.stringify(target)}, with ".." after a name (write it with the ".." segments first)`;
      climbs++;
    } else if (segment !== '' && segment !== '.') {
      if (Buffer.byteLength(segment) > maxSegmentBytes)
        return `has a target segment longer than ${maxSegmentBytes} bytes`;
      named = true;
    }
  }
  if (climbs > depth)
    return `points at ${JSON.stringify(target)}, outside the tree (it climbs ${climbs} level(s) from a link ${depth} deep)`;
  return undefined;
}
