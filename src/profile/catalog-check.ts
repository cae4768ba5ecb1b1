import { readFile } from 'node:fs/promises';
import type { Duration, LoadedCatalog } from '../catalog/index.ts';
import { UpliftError, type UpliftErrorDetail } from '../errors/index.ts';
import { coverageOf, declaredFacts } from '../facts/index.ts';
import { isFormulaError, parseFormula } from '../rules/index.ts';
import type { ProfileManifest } from './schema.ts';

/** A problem found in the catalog, at its path there; located only when there is one. */
interface Problem {
  path: PropertyKey[];
  message: string;
  hint: string;
}

/** Phases that carry durations; kept here so this module does not load the catalog schema. */
const phases = ['backup', 'stop', 'apply', 'migrate', 'start', 'validate', 'rollback'] as const;

/**
 * What a catalog asks of its profile, checked when the two are loaded together: each settle check
 * a release names is one the profile declares (apply would otherwise stop short of the target at
 * that stop, for a typo), and each fact a duration formula reads is declared when the profile
 * declares its facts (a misspelled fact would only make the estimate 0). The catalog's positions
 * are worked out only when something is wrong, so a good load stays as fast as it was.
 */
export async function checkCatalogAgainstProfile(
  manifest: ProfileManifest,
  dir: string,
  c: LoadedCatalog,
): Promise<void> {
  const problems = catalogProblems(manifest, dir, c);
  if (problems.length === 0) return;
  const { parseYaml, locate } = await import('../yaml/index.ts');
  const y = parseYaml(await readFile(c.file, 'utf8'), c.file, 'UPLIFT_CATALOG_INVALID');
  const details: UpliftErrorDetail[] = problems.map((p) => {
    const location = locate(y, p.path);
    return { message: `${location.path ?? ''}: ${p.message}`, location, hint: p.hint };
  });
  const first = details[0] as UpliftErrorDetail;
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  throw new UpliftError('UPLIFT_CATALOG_INVALID', `${first.message}${more}`, {
    location: first.location,
    details,
    hint: first.hint,
  });
}

function catalogProblems(manifest: ProfileManifest, dir: string, c: LoadedCatalog): Problem[] {
  const problems: Problem[] = [];
  const profileFile = `${dir}/profile.yaml`;
  const settleChecks = manifest.lifecycle?.settleChecks ?? {};
  c.catalog.releases.forEach((r, i) => {
    if (!r.settle || Object.hasOwn(settleChecks, r.settle.check)) return;
    const declared = Object.keys(settleChecks);
    problems.push({
      path: ['releases', i, 'settle', 'check'],
      message: `apply would wait at ${r.version} on the settle check "${r.settle.check}", but the profile ${manifest.name} declares no such check`,
      hint:
        declared.length > 0
          ? `name one of ${declared.join(', ')}, or add lifecycle.settleChecks.${r.settle.check} to ${profileFile} (docs/profiles.md)`
          : `add lifecycle.settleChecks.${r.settle.check} (an http, tcp or command check) to ${profileFile} (docs/profiles.md)`,
    });
  });
  const declared = declaredFacts(manifest);
  if (declared === undefined) return problems;
  const formulaFacts = (d: Duration | undefined, path: PropertyKey[]) => {
    if (d?.formula === undefined) return;
    const f = parseFormula(d.formula);
    // A formula that does not parse was refused when the catalog was loaded.
    if (isFormulaError(f)) return;
    for (const fact of f.facts) {
      const kind = coverageOf(declared, fact).kind;
      if (kind === 'declared' || kind === 'open') continue;
      problems.push({
        path: [...path, 'formula'],
        message: `the formula "${d.formula}" reads the fact ${fact}, but the profile ${manifest.name} does not declare it`,
        hint: `correct the fact's name, or declare it under facts: ${fact}: { type: number, description: … } in ${profileFile} (docs/profiles.md, "Facts")`,
      });
    }
  };
  for (const phase of phases) formulaFacts(c.catalog.durations[phase], ['durations', phase]);
  c.catalog.releases.forEach((r, i) => {
    for (const phase of phases)
      formulaFacts(r.durations?.[phase], ['releases', i, 'durations', phase]);
  });
  return problems;
}
