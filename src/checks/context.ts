import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Facts } from '../catalog/index.ts';
import { UpliftError } from '../errors/index.ts';
import { assemblePlan } from '../plan/index.ts';
import type { Profile } from '../profile/index.ts';
import { gatherFacts } from './gather-facts.ts';
import { realHost } from './host.ts';
import type { CheckContext, CheckStage, Host, InstallFacts } from './types.ts';

export interface CheckContextOptions {
  /** The installation directory; relative paths resolve against the working directory. */
  install: string;
  profile: Profile;
  /** Facts from `--facts`/`--fact`; they win over what is read from the installation. */
  facts?: Facts;
  /** The installed version, when the installation does not say (no `version` file). */
  from?: string;
  /** A version, or `latest`. */
  to: string;
  stage?: CheckStage;
  now?: () => Date;
  host?: Host;
}

/**
 * Reads the installation and plans its upgrade: everything a check may look at. Throws
 * UpliftError for what cannot be checked at all (no such directory, a version the catalog does
 * not know); everything else is left to the checks to report.
 */
export async function buildCheckContext(opts: CheckContextOptions): Promise<CheckContext> {
  const install = resolve(opts.install);
  const s = await stat(install).catch(() => undefined);
  if (s === undefined || !s.isDirectory()) {
    throw new UpliftError('UPLIFT_CHECK_INSTALL_NOT_FOUND', `${install} is not a directory`, {
      hint: 'give --install the installation directory, e.g. --install /opt/skiff',
    });
  }
  const host = opts.host ?? realHost();
  const catalog = opts.profile.catalog;
  const product = catalog.catalog.product;
  if (opts.facts?.product !== undefined && opts.facts.product !== product) {
    throw new UpliftError(
      'UPLIFT_FACTS_INVALID',
      `the facts describe ${opts.facts.product}, but the profile ${opts.profile.manifest.name} checks ${product}`,
      { hint: `use --profile ${opts.facts.product}, or facts of a ${product} installation` },
    );
  }
  const gathered = await gatherFacts(install, host);
  const facts = mergeFacts({ ...gathered, product }, opts.facts ?? {}) as InstallFacts;
  if (opts.from === undefined && facts.version === undefined) {
    throw new UpliftError(
      'UPLIFT_USAGE',
      `cannot tell which version is installed in ${install}: it has no version file`,
      { hint: 'pass --from VERSION, or --fact version=VERSION' },
    );
  }
  const plan = assemblePlan({
    profile: opts.profile.manifest.name,
    catalog,
    facts,
    from: opts.from,
    to: opts.to,
  });
  return {
    install,
    profile: {
      name: opts.profile.manifest.name,
      product,
      backupNeedsStop: catalog.catalog.durations.backupNeedsStop,
    },
    facts: { ...facts, version: plan.from },
    plan,
    stage: opts.stage ?? 'prepare',
    now: opts.now ?? (() => new Date()),
    host,
  };
}

/** `over` on top of `base`, mappings merged key by key; arrays and scalars replaced. */
function mergeFacts(base: Record<string, unknown>, over: Record<string, unknown>): Facts {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const was = out[key];
    out[key] = isMapping(was) && isMapping(value) ? mergeFacts(was, value) : value;
  }
  return out;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
