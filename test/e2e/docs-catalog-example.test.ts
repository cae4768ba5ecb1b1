import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCliProcess } from '../util/run-cli.ts';

/**
 * docs/catalog.md's worked example must stay true: its catalog validates and `uplift plan` gives
 * the path, figures and verdict the page states.
 */
const doc = readFileSync(join(repoRoot, 'docs/catalog.md'), 'utf8');
const example = doc.slice(doc.indexOf('## Worked example'));
const yamlBlocks = [...example.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
const [profileYaml, catalogYaml, factsYaml, missingFactsYaml] = yamlBlocks;

const dir = mkdtempSync(join(tmpdir(), 'uplift-docs-'));
mkdirSync(join(dir, 'dock'));
writeFileSync(join(dir, 'dock/profile.yaml'), profileYaml as string);
writeFileSync(join(dir, 'dock/catalog.yaml'), catalogYaml as string);
writeFileSync(join(dir, 'facts.yaml'), factsYaml as string);
writeFileSync(join(dir, 'facts-missing.yaml'), missingFactsYaml as string);

const plan = (facts: string) => {
  const res = runCliProcess([
    'plan',
    '--profile',
    join(dir, 'dock'),
    '--facts',
    join(dir, facts),
    '--from',
    '1.0 Patch 1',
    '--to',
    '2.0 GA',
    '--json',
  ]);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout);
};

describe('the worked example of docs/catalog.md', () => {
  it('has the profile, catalog and two facts files', () => {
    expect(yamlBlocks.length).toBeGreaterThanOrEqual(4);
  });

  it('validates', () => {
    const res = runCliProcess(['catalog', 'validate', join(dir, 'dock/catalog.yaml')]);

    expect(res.code, res.stderr).toBe(0);
  });

  it('plans as the page says with every fact known', () => {
    const p = plan('facts.yaml');

    expect(p.steps.map((s: { to: string }) => s.to)).toEqual(['1.0 Patch 2', '1.2 GA', '2.0 GA']);
    expect(
      p.steps.map((s: { estimate: { downtimeSeconds: number } }) => s.estimate.downtimeSeconds),
    ).toEqual([165, 360, 165]);
    expect(p.estimate).toMatchObject({
      backupSeconds: 300,
      downtimeSeconds: 990,
      validationSeconds: 600,
      rollbackSeconds: 120,
      windowSeconds: 1710,
      downloadBytes: 370000000,
    });
    expect(p.verdict).toBe('possible-with-actions');
    expect(p.notes.entries[0].id).toBe('DCK-L-3');
  });

  it('plans as the page says with data.queueRows missing', () => {
    const p = plan('facts-missing.yaml');

    expect(p.steps.map((s: { to: string }) => s.to)).toEqual([
      '1.0 Patch 2',
      '1.1 GA',
      '1.2 GA',
      '2.0 GA',
    ]);
    expect(p.estimate).toMatchObject({ downtimeSeconds: 780, windowSeconds: 1500 });
    expect(p.verdict).toBe('not-recommended');
    expect(
      p.reasons.filter((r: { missingFacts?: string[] }) =>
        r.missingFacts?.includes('data.queueRows'),
      ),
    ).toHaveLength(2);
  });
});
