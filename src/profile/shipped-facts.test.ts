import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { coverageOf, declaredFacts, loadFacts } from '../facts/index.ts';
import { isFormulaError, parseFormula } from '../rules/index.ts';
import { builtInProfilesDir, loadProfile } from './index.ts';

const shipped = readdirSync(builtInProfilesDir, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

/**
 * Every fact a document names: a rule's or a duration's `fact:`, each fact a duration's
 * `formula:` reads, and `${fact:…}` in a command or URL.
 */
function factsNamed(value: unknown, where: string, out: Map<string, string>): void {
  if (typeof value === 'string') {
    for (const m of value.matchAll(/\$\{fact:([^}]+)\}/g))
      out.set(m[1] as string, `${where} (\${fact:…})`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      factsNamed(v, `${where}[${i}]`, out);
    });
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [k, v] of Object.entries(value)) {
    const at = `${where}.${k}`;
    if (k === 'fact' && typeof v === 'string') out.set(v, at);
    if (k === 'formula' && typeof v === 'string') {
      const f = parseFormula(v);
      if (isFormulaError(f)) throw new Error(`${at}: ${f.message}`);
      for (const fact of f.facts) out.set(fact, `${at} (formula)`);
    }
    factsNamed(v, at, out);
  }
}

describe('the facts a document names', () => {
  it('include each fact a duration formula reads', () => {
    const named = new Map<string, string>();

    factsNamed(
      {
        durations: {
          migrate: { formula: 'max(ceil(topology.nodes / topology.maxUnavailable), 1) * 10m' },
        },
      },
      'catalog.yaml',
      named,
    );

    expect([...named]).toEqual([
      ['topology.nodes', 'catalog.yaml.durations.migrate.formula (formula)'],
      ['topology.maxUnavailable', 'catalog.yaml.durations.migrate.formula (formula)'],
    ]);
  });
});

describe.each(shipped)('the shipped profile %s', (name) => {
  it('declares its facts', async () => {
    const profile = await loadProfile(name);

    expect(declaredFacts(profile.manifest)).toBeDefined();
  });

  it('declares every fact its catalog and its profile.yaml name', async () => {
    const profile = await loadProfile(name);
    const declared = declaredFacts(profile.manifest);
    if (!declared) throw new Error(`${name} declares no facts`);
    const named = new Map<string, string>();
    const dir = join(builtInProfilesDir, name);
    factsNamed(parse(readFileSync(join(dir, 'catalog.yaml'), 'utf8')), 'catalog.yaml', named);
    const manifest = parse(readFileSync(join(dir, 'profile.yaml'), 'utf8'));
    factsNamed({ ...manifest, facts: undefined }, 'profile.yaml', named);
    // The facts a derivation reads.
    manifest.detection?.derive?.forEach((d: Record<string, unknown>, i: number) => {
      for (const k of ['from', 'isSet', 'differs'])
        if (typeof d[k] === 'string') named.set(d[k], `profile.yaml.detection.derive[${i}].${k}`);
      for (const f of (d.anyOf as string[] | undefined) ?? [])
        named.set(f, `profile.yaml.detection.derive[${i}].anyOf`);
    });

    const undeclared = [...named]
      .filter(([fact]) => coverageOf(declared, fact).kind !== 'declared')
      .filter(([fact]) => coverageOf(declared, fact).kind !== 'open')
      .map(([fact, at]) => `${fact} (${at})`);

    expect(named.size).toBeGreaterThan(5);
    expect(undeclared).toEqual([]);
  });

  it('has sample facts that agree with the declarations', async () => {
    const profile = await loadProfile(name);
    const declared = declaredFacts(profile.manifest);
    if (!declared || !profile.sampleFacts) throw new Error(`${name} lacks facts or samples`);
    const check = { declared, allowUndeclared: false, warnings: [] };

    await expect(loadFacts(profile.sampleFacts, check)).resolves.toBeTypeOf('object');
  });
});
