import type { UpliftErrorDetail } from '../errors/index.ts';
import { coverageOf, coveringGroup, declaredFacts, detectedFactPaths } from '../facts/index.ts';
import { locate, type PositionedYaml } from '../yaml/index.ts';
import type { ProfileManifest } from './schema.ts';

/**
 * Ties a profile's declared facts to its detection section: every fact detection writes is
 * declared (or lies inside a declared `map`), and a fact declared `from: detection` is one that
 * detection writes. A profile that declares no facts is not checked.
 */
export function checkFactDeclarations(
  manifest: ProfileManifest,
  y: PositionedYaml,
): UpliftErrorDetail[] {
  const declared = declaredFacts(manifest);
  if (declared === undefined) return [];
  const detected = detectedFactPaths(manifest.detection);
  const details: UpliftErrorDetail[] = [];
  for (const [fact, by] of detected) {
    const c = coverageOf(declared, fact);
    if (c.kind === 'declared' || c.kind === 'open') continue;
    details.push({
      message: `detection writes the fact ${fact} (${by.by}), but facts does not declare it`,
      location: locate(y, by.at),
      hint: `declare it under facts: ${fact}: { type: …, description: … } (docs/profiles.md, "Facts")`,
    });
  }
  for (const [name, d] of Object.entries(manifest.facts ?? {})) {
    if (d.from !== 'detection' || detected.has(name) || coveringGroup(detected, name)) continue;
    details.push({
      message: `facts.${name}: declared from detection, but the detection section does not read it`,
      location: locate(y, ['facts', name, 'from']),
      hint: 'read it in detection (settings, commands, derive or data), or declare it from: operator',
    });
  }
  return details;
}
