import parseSemver from 'semver/functions/parse.js';
import { createScheme } from '../generic.ts';
import type { VersionScheme } from '../types.ts';

export const id = 'semver';

/**
 * Semantic versions: `major.minor` is the release and `patch` the level, because products that use
 * semver ship patches of a release line, and "latest patch of 2.4" is what the planner asks for.
 */
export const api: VersionScheme = createScheme({
  id,
  description: 'Semantic versions (2.4.1, 3.0.0-rc.1); release = major.minor, level = patch.',
  hint: 'Write a semantic version such as 2.4.1 or 3.0.0-rc.1.',
  parse(version) {
    const parsed = parseSemver(version);
    if (parsed === null) return null;
    return {
      release: [parsed.major, parsed.minor],
      level: parsed.patch,
      levelKind: parsed.patch === 0 ? 'ga' : 'patch',
      ...(parsed.prerelease.length > 0 && { prerelease: parsed.prerelease.join('.') }),
    };
  },
});
