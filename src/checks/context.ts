import { resolve } from 'node:path';
import type { Facts } from '../catalog/index.ts';
import { detectFacts, mergeFacts } from '../detect/index.ts';
import { assemblePlan } from '../plan/index.ts';
import type { Profile } from '../profile/index.ts';
import { realHost } from './host.ts';
import type { CheckContext, CheckStage, Host, InstallFacts } from './types.ts';

export interface CheckContextOptions {
  /** The installation directory; relative paths resolve against the working directory. */
  install: string;
  profile: Profile;
  /**
   * Facts laid over the detected ones (`--facts`, `--fact`): what detection cannot read, such as
   * an external database's version, or a correction.
   */
  facts?: Facts;
  /** A vendor manifest to compare the installation with, instead of the one the profile names. */
  vendorManifest?: string;
  /** A version, or `latest`. */
  to: string;
  stage?: CheckStage;
  now?: () => Date;
  host?: Host;
}

/**
 * Detects the installation's facts and plans its upgrade: everything a check may look at.
 * Throws UpliftError for what cannot be checked at all (not an installation of the profile's
 * product, a version the catalog does not know); everything else is left to the checks.
 */
export async function buildCheckContext(opts: CheckContextOptions): Promise<CheckContext> {
  const install = resolve(opts.install);
  const detected = await detectFacts(opts.profile, install, {
    vendorManifest: opts.vendorManifest,
  });
  const facts = (opts.facts ? mergeFacts(detected, opts.facts) : detected) as InstallFacts;
  const catalog = opts.profile.catalog;
  const plan = assemblePlan({
    profile: opts.profile.manifest.name,
    catalog,
    facts,
    from: undefined,
    to: opts.to,
  });
  return {
    install,
    profile: {
      name: opts.profile.manifest.name,
      product: catalog.catalog.product,
      backupNeedsStop: catalog.catalog.durations.backupNeedsStop,
    },
    facts,
    plan,
    stage: opts.stage ?? 'prepare',
    now: opts.now ?? (() => new Date()),
    host: opts.host ?? realHost(),
  };
}
