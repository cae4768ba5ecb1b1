import picomatch from 'picomatch';

/**
 * The one glob dialect of uplift, for paths relative to an installation (or any tree), always
 * `/`-separated. picomatch with `dot: true`:
 *
 * - `*` and `?` stay inside one folder; `**` as a whole segment crosses folders (`**\/x` matches `x`).
 * - `dir/**` matches `dir` itself and everything below it, so one glob prunes a folder in a walk
 *   and leaves out its files in a comparison alike.
 * - Names starting with `.` match like any other (`data/**` matches `data/.lock`).
 * - Braces, classes and extglobs are picomatch's (`*.{yml,yaml}`, `[0-9]`); a plain path matches
 *   only itself.
 *
 * Globs are compiled once and cached: profiles name the same few globs for every file of a walk.
 */
export interface Glob {
  readonly source: string;
  /** True when the path matches. */
  matches(path: string): boolean;
}

const options: picomatch.PicomatchOptions = { dot: true };
const cache = new Map<string, Glob>();

export function compileGlob(source: string): Glob {
  let glob = cache.get(source);
  if (glob === undefined) {
    const isMatch = picomatch(source, options);
    glob = { source, matches: (path) => isMatch(path) };
    cache.set(source, glob);
  }
  return glob;
}

/** True when any of the globs (compiled or source text) matches the path. */
export function matchesAnyGlob(globs: readonly (Glob | string)[], path: string): boolean {
  return globs.some((g) => (typeof g === 'string' ? compileGlob(g) : g).matches(path));
}

/**
 * A key pattern, not a path glob: `*` matches any run of characters, `/` and `.` included, and
 * nothing else is special. Merge conflict policies name keys this way (`server.*`, `/a/*`), where
 * a key path has no folders for `*` to stay inside.
 */
export function compileKeyPattern(pattern: string): Glob {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${body}$`);
  return { source: pattern, matches: (key) => regex.test(key) };
}
