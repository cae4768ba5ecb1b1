import type { Facts } from '../catalog/index.ts';
import { detectFacts, mergeFacts, setFact } from '../detect/index.ts';
import { UpliftError } from '../errors/index.ts';
import {
  applyFactFlags,
  checkFactFlags,
  checkFacts,
  declaredFacts,
  type FactCheck,
  loadFacts,
  parseFactFlag,
} from '../facts/index.ts';
import { findProfileFor, loadProfile, type Profile } from '../profile/index.ts';
import { lookupFact } from '../rules/index.ts';
import { assemblePlan } from './assemble-plan.ts';
import type { Plan } from './schema.ts';

export interface PlanOptions {
  /** A profile name or folder; default with `install`: the built-in profile that recognises it. */
  profile?: string;
  /** An installation to detect facts from. */
  install?: string;
  /** A vendor manifest for detection, instead of the one the profile names. */
  vendorManifest?: string;
  from?: string;
  to: string;
  /** The release channel (`--channel`); default the catalog's default channel. */
  channel?: string;
  factsFile?: string;
  factFlags?: readonly string[];
  /** Take facts the profile does not declare (and values it does not list), with a warning. */
  allowUndeclared?: boolean;
  /** Receives warnings about the facts (what `allowUndeclared` let through). */
  warnings?: string[];
}

/** The I/O shell around `assemblePlan`: reads the profile, its catalog and the facts. */
export async function getPlan(
  opts: PlanOptions,
): Promise<{ plan: Plan; profile: Profile; facts: Facts }> {
  const profile = await resolveProfile(opts);
  const facts = await readFacts(profile, opts);
  const plan = assemblePlan({
    profile: profile.manifest.name,
    catalog: profile.catalog,
    facts,
    from: opts.from,
    to: opts.to,
    ...(opts.channel !== undefined ? { channel: opts.channel } : {}),
  });
  return { plan, profile, facts };
}

/** The profile named by `--profile`, or else the one whose version file the installation has. */
export async function resolveProfile(
  opts: Pick<PlanOptions, 'profile' | 'install'>,
): Promise<Profile> {
  if (opts.profile !== undefined) return loadProfile(opts.profile);
  if (opts.install !== undefined) return findProfileFor(opts.install);
  throw new UpliftError('UPLIFT_USAGE', 'no product profile given', {
    hint: 'pass --profile NAME (uplift profiles lists them), or --install DIR to recognise the product',
  });
}

/**
 * The installation's facts, in layers: detected from `--install`, then the `--facts` file laid
 * over them (it corrects or adds what detection cannot read, such as an external database's
 * version), then each `--fact` flag. Checks they describe this profile's product, and each layer
 * against the facts the profile declares (src/facts/validate.ts).
 */
export async function readFacts(
  profile: Profile,
  opts: Pick<
    PlanOptions,
    'install' | 'vendorManifest' | 'factsFile' | 'factFlags' | 'allowUndeclared' | 'warnings'
  >,
): Promise<Facts> {
  const declared = declaredFacts(profile.manifest);
  const check: FactCheck | undefined = declared && {
    declared,
    allowUndeclared: opts.allowUndeclared === true,
    warnings: opts.warnings ?? [],
  };
  if (check) checkFactFlags((opts.factFlags ?? []).map(parseFactFlag), check);
  const detected =
    opts.install === undefined
      ? undefined
      : await detectFacts(profile, opts.install, { vendorManifest: opts.vendorManifest });
  if (detected && check)
    checkFacts(detected, { kind: 'detected', install: opts.install ?? '' }, check);
  const fromFile =
    opts.factsFile === undefined ? undefined : await loadFacts(opts.factsFile, check);
  const base = detected && fromFile ? mergeFacts(detected, fromFile) : (fromFile ?? detected ?? {});
  const facts = withoutStatedMarks(
    applyFlags(base, opts.factFlags ?? []),
    detected && fromFile,
    opts.factFlags ?? [],
  );
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

/**
 * `--fact path=value` over facts. Each flag is parsed by `applyFactFlags` and placed the way
 * detection places facts, so `--fact settings.Direct.Connection.When.Proxy.Down=true` replaces
 * the setting's own dotted key instead of hiding beside it in a nested copy.
 */
function applyFlags(facts: Facts, flags: readonly string[]): Facts {
  const out = structuredClone(facts) as Record<string, unknown>;
  for (const flag of flags) {
    const path = flag.slice(0, flag.indexOf('='));
    const parsed = lookupFact(applyFactFlags({}, [flag]), path);
    if (parsed.found) setFact(out, path, parsed.value);
  }
  return out as Facts;
}

/**
 * A fact the operator states (in the facts file over detection, or by `--fact`) no longer rests
 * on the illustrative input detection read it through, so its mark is dropped.
 */
function withoutStatedMarks(
  facts: Facts,
  overDetection: Facts | undefined,
  flags: readonly string[],
): Facts {
  const detection = (facts as { detection?: { illustrative?: { fact: string }[] } }).detection;
  if (!detection?.illustrative) return facts;
  const stated = (fact: string) =>
    flags.some((f) => {
      const path = f.slice(0, f.indexOf('='));
      return path === fact || fact.startsWith(`${path}.`);
    }) ||
    (overDetection !== undefined && lookupFact(overDetection, fact).found);
  const illustrative = detection.illustrative.filter((m) => !stated(m.fact));
  return { ...facts, detection: { ...detection, illustrative } } as Facts;
}
