import type { Facts } from '../catalog/index.ts';
import { UpliftError } from '../errors/index.ts';
import { applyFactFlags, loadFacts } from '../facts/index.ts';
import { loadProfile, type Profile } from '../profile/index.ts';
import { assemblePlan } from './assemble-plan.ts';
import type { Plan } from './schema.ts';

export interface PlanOptions {
  profile: string;
  from?: string;
  to: string;
  factsFile?: string;
  factFlags?: readonly string[];
}

/** The I/O shell around `assemblePlan`: reads the profile, its catalog and the facts. */
export async function getPlan(
  opts: PlanOptions,
): Promise<{ plan: Plan; profile: Profile; facts: Facts }> {
  const profile = await loadProfile(opts.profile);
  const facts = await readFacts(profile, opts);
  const plan = assemblePlan({
    profile: profile.manifest.name,
    catalog: profile.catalog,
    facts,
    from: opts.from,
    to: opts.to,
  });
  return { plan, profile, facts };
}

/** Facts from `--facts` and `--fact` flags; checks they describe this profile's product. */
export async function readFacts(
  profile: Profile,
  opts: Pick<PlanOptions, 'factsFile' | 'factFlags'>,
): Promise<Facts> {
  const base = opts.factsFile === undefined ? {} : await loadFacts(opts.factsFile);
  const facts = applyFactFlags(base, opts.factFlags ?? []);
  const product = profile.catalog.catalog.product;
  if (facts.product !== undefined && facts.product !== product) {
    throw new UpliftError(
      'UPLIFT_FACTS_INVALID',
      `the facts describe ${facts.product}, but the profile ${profile.manifest.name} plans ${product}`,
      {
        location: opts.factsFile ? { file: opts.factsFile, path: 'product' } : undefined,
        hint: `use --profile ${facts.product}, or facts of a ${product} installation`,
      },
    );
  }
  return facts;
}
