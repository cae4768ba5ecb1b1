import { type Duration, type LoadedCatalog, taskCheckIds } from '../catalog/index.ts';
import { UpliftError, type UpliftErrorDetail } from '../errors/index.ts';
import { closest, coverageOf, declaredFacts, factNames } from '../facts/index.ts';
import { isFormulaError, parseFormula } from '../rules/index.ts';
import { readRegularFile } from '../util/index.ts';
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
  const y = parseYaml(await readRegularFile(c.file, 'utf8'), c.file, 'UPLIFT_CATALOG_INVALID');
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
  c.catalog.tasks.forEach((t, i) => {
    if (t.check === undefined || taskCheckIds.includes(t.check)) return;
    const near = closest(t.check, taskCheckIds);
    problems.push({
      path: ['tasks', i, 'check'],
      message: `the task ${t.id} names the check "${t.check}", which uplift check does not have: the plan would present the task as automated and nothing would check it`,
      hint: `${near ? `did you mean ${near}? ` : ''}name one of ${taskCheckIds.join(', ')}, or leave check out so the task is listed as a manual action (docs/catalog.md, "tasks")`,
    });
  });
  const declared = declaredFacts(manifest);
  if (declared === undefined) return problems;
  const names = factNames(declared);
  const undeclaredFact = (fact: string, path: PropertyKey[], what: string) => {
    if (coverageOf(declared, fact).kind !== 'unknown') return;
    const near = closest(fact, names);
    problems.push({
      path,
      message: `${what} names the fact ${fact}, but the profile ${manifest.name} does not declare it: ${what === 'the rule' ? 'the plan would ask for' : 'the estimate would read'} a fact that --fact and facts files refuse`,
      hint: `${near ? `did you mean ${near}? ` : ''}correct the fact's name, or declare it under facts: in ${profileFile} (docs/profiles.md, "Facts")`,
    });
  };
  for (const { fact, path } of ruleFacts(c.catalog, [], false))
    undeclaredFact(fact, path, path.at(-3) === 'per' ? 'the duration' : 'the rule');
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

/** Where a rule sits in a catalog: under these keys, at any depth (docs/catalog.md, "Rules over facts"). */
const ruleKeys = new Set(['when', 'appliesWhen', 'require']);

/**
 * Every fact the catalog's rules test, and every fact a duration scales with (`per`), with the
 * path of its `fact:` field.
 */
function* ruleFacts(
  value: unknown,
  path: PropertyKey[],
  inRule: boolean,
): Generator<{ fact: string; path: PropertyKey[] }> {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield* ruleFacts(v, [...path, i], inRule);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const o = value as Record<string, unknown>;
  const isPer = path.at(-2) === 'per';
  if ((inRule || isPer) && typeof o.fact === 'string')
    yield { fact: o.fact, path: [...path, 'fact'] };
  for (const [key, v] of Object.entries(o)) {
    if (inRule && key !== 'all' && key !== 'any' && key !== 'not') continue;
    yield* ruleFacts(v, [...path, key], inRule || ruleKeys.has(key));
  }
}
