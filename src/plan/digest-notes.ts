import {
  catalogProvenance,
  isIllustrative,
  type LoadedCatalog,
  type NoteEntry,
  type NoteType,
  type Provenance,
  provenanceOf,
} from '../catalog/index.ts';
import { evaluateRule } from '../rules/index.ts';
import type { DigestEntry, NoteStatus, NotesDigest } from './schema.ts';

export interface DigestFilter {
  types?: readonly NoteType[];
  components?: readonly string[];
  /** Only entries marked as security fixes or security limitations. */
  securityOnly?: boolean;
}

const sections = [
  ['features', 'feature'],
  ['fixed', 'fixed'],
  ['limitations', 'limitation'],
] as const;

const statusOrder: Record<NoteStatus, number> = {
  applies: 0,
  unknown: 1,
  general: 2,
  'does-not-apply': 3,
};

/**
 * The release notes of every release after `from` up to `to`, deduplicated by type and id, with
 * what applies to these facts first, security entries next, then in release order. Pure.
 */
export function digestNotes(
  c: LoadedCatalog,
  from: string,
  to: string,
  facts: unknown,
  filter: DigestFilter = {},
): NotesDigest {
  const { scheme } = c;
  const fromRank = c.rank.get(from);
  const toRank = c.rank.get(to);
  // Catalog spellings slice by rank; other spellings of the same versions take the slow road.
  const releases =
    fromRank !== undefined && toRank !== undefined
      ? c.versions.slice(fromRank + 1, toRank + 1)
      : c.versions.filter((v) => scheme.compare(v, from) > 0 && scheme.compare(v, to) <= 0);
  const byKey = new Map<string, { entry: DigestEntry; order: number }>();
  const components = filter.components?.map((x) => x.toLowerCase());
  for (const version of releases) {
    const release = c.releases.get(version);
    if (!release?.notes) continue;
    for (const [field, type] of sections) {
      if (filter.types && !filter.types.includes(type)) continue;
      for (const note of release.notes[field] ?? []) {
        if (components && !components.includes((note.component ?? '').toLowerCase())) continue;
        if (filter.securityOnly && !note.security) continue;
        const key = `${type}\u0000${note.id}`;
        const seen = byKey.get(key);
        if (seen) seen.entry.releases.push(version);
        else
          byKey.set(key, {
            entry: describe(
              note,
              type,
              version,
              provenanceOf(note, provenanceOf(release, catalogProvenance(c.catalog))),
              facts,
            ),
            order: byKey.size,
          });
      }
    }
  }
  const entries = [...byKey.values()]
    .sort(
      (a, b) =>
        statusOrder[a.entry.status] - statusOrder[b.entry.status] ||
        Number(b.entry.security) - Number(a.entry.security) ||
        a.order - b.order,
    )
    .map((x) => x.entry);
  return {
    releases,
    counts: {
      feature: entries.filter((e) => e.type === 'feature').length,
      fixed: entries.filter((e) => e.type === 'fixed').length,
      limitation: entries.filter((e) => e.type === 'limitation').length,
      security: entries.filter((e) => e.security).length,
      applies: entries.filter((e) => e.status === 'applies').length,
    },
    entries,
  };
}

function describe(
  note: NoteEntry,
  type: DigestEntry['type'],
  version: string,
  provenance: Provenance | undefined,
  facts: unknown,
): DigestEntry {
  let status: NoteStatus = 'general';
  let missingFacts: string[] | undefined;
  if (note.when) {
    const outcome = evaluateRule(note.when, facts);
    status = outcome.value === 'unknown' ? 'unknown' : outcome.value ? 'applies' : 'does-not-apply';
    if (outcome.missing.length > 0) missingFacts = outcome.missing;
  }
  return {
    type,
    id: note.id,
    title: note.title,
    component: note.component,
    security: note.security ?? false,
    release: version,
    releases: [version],
    status,
    missingFacts,
    illustrative: isIllustrative(provenance) || undefined,
    reason: provenance?.kind === 'illustrative' ? provenance.reason : undefined,
    source: provenance?.kind === 'source' ? provenance.source : undefined,
  };
}
