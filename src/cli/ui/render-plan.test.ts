import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../test/util/run-cli.ts';
import { getPlan } from '../../plan/index.ts';
import { renderPlanText } from './render-plan.ts';

const skiff = join(repoRoot, 'profiles/skiff');

async function plannedText(asked: { install?: string; profile?: string }): Promise<string> {
  const { plan } = await getPlan({
    profile: skiff,
    factsFile: join(skiff, 'sample-facts.yaml'),
    to: 'latest',
  });
  return stripVTControlCharacters(renderPlanText(plan, asked));
}

describe('the commands under Next', () => {
  it('give the --profile the plan was asked with, beside --install', async () => {
    const text = await plannedText({ install: 'inst0', profile: './prof-skiff' });

    expect(text).toContain('uplift check --install inst0 --profile ./prof-skiff');
    expect(text).toMatch(/uplift apply --install inst0 --profile \.\/prof-skiff --to .* --dry-run/);
    expect(text).toContain('uplift notes --profile ./prof-skiff --from');
  });

  it('give no --profile when the plan was asked without one', async () => {
    const text = await plannedText({ install: 'inst0' });

    expect(text).toContain('uplift check --install inst0\n');
    expect(text).toMatch(/uplift apply --install inst0 --to .* --dry-run/);
  });
});
