/**
 * Globs over `/`-separated installation paths: `*` and `?` stay inside one folder, `**` crosses
 * folders (`var/**` is everything under var/, `**\/*.pid` any pid file). Written here because
 * Node 20 has no stable `path.matchesGlob`, and three operators are all profiles need.
 */
export interface Glob {
  readonly source: string;
  /** True when the path matches. */
  matches(path: string): boolean;
}

export function compileGlob(source: string): Glob {
  let re = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === '*' && source[i + 1] === '*') {
      const slash = source[i + 2] === '/';
      // `**/` also matches no folder at all: `**/x` matches `x`.
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const regex = new RegExp(`^${re}$`);
  return { source, matches: (path) => regex.test(path) };
}

/** True when any of the globs matches the path. */
export function matchesAny(globs: readonly Glob[], path: string): boolean {
  return globs.some((g) => g.matches(path));
}
