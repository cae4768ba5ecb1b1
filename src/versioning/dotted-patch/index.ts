import { createScheme } from '../generic.ts';
import type { LevelKind, VersionScheme } from '../types.ts';

export const id = 'dotted-patch';

const release = String.raw`(?<release>\d+(?:\.\d+){1,3})`;
const base = String.raw`\s*(?<base>ga|ra)`;
const numbered = String.raw`\s*(?<keyword>sp|service\s*pack|patch|fp)\s*(?<level>\d+)`;
// A dated update is a calendar date; requiring a real month and day rejects typos like 5.5-2024.
const dated = String.raw`(?:\s*-\s*|\s+update\s+)(?<date>\d{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))`;
const pattern = new RegExp(`^${release}(?:${base}|${numbered}|${dated})?$`, 'i');

// A functional patch (FP) is a patch that may add features; ordering and "is GA" treat it as a patch.
const keywordKinds: Record<string, LevelKind> = {
  sp: 'service-pack',
  servicepack: 'service-pack',
  patch: 'patch',
  fp: 'patch',
};

/**
 * Dotted releases with a level: GA, RA, Patch N, SP N, FP N or a dated update: `5.3.0 GA`, `5.3.0 Patch 14`, `5.2.1 SP9`, `5.4 FP3`,
 * `5.3.5 RA`, `5.5-20240829`. A release has one base, so `5.3.5 RA` equals `5.3.5`.
 */
export const api: VersionScheme = createScheme({
  id,
  description:
    'Dotted releases with a GA, RA, Patch N, SP N or FP N level or a dated update (5.3.0 GA, 5.3.0 Patch 14, 5.2.1 SP9, 5.3.5 RA, 5.5-20240829).',
  hint: 'Write a release and an optional level, such as 5.4, 5.3.0 GA, 5.3.0 Patch 14, 5.2.1 SP9 or 5.5-20240829.',
  parse(version) {
    const groups = pattern.exec(version)?.groups;
    if (groups?.release === undefined) return null;
    const releaseNumbers = groups.release.split('.').map(Number);
    if (groups.date !== undefined) {
      return { release: releaseNumbers, level: Number(groups.date), levelKind: 'dated-update' };
    }
    if (groups.keyword !== undefined) {
      const level = Number(groups.level);
      // Level 0 is the base; "Patch 0" would give a release two bases.
      if (level === 0) return null;
      const kind = keywordKinds[groups.keyword.toLowerCase().replace(/\s+/g, '')] ?? 'patch';
      return { release: releaseNumbers, level, levelKind: kind };
    }
    const kind = groups.base?.toLowerCase() === 'ra' ? 'ra' : 'ga';
    return { release: releaseNumbers, level: 0, levelKind: kind };
  },
});
