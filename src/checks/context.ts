import { resolve } from 'node:path';
import { getPlan, type PlanOptions } from '../plan/index.ts';
import { realHost } from './host.ts';
import type { CheckContext, CheckStage, Host, InstallFacts } from './types.ts';

export interface CheckContextOptions
  extends Pick<
    PlanOptions,
    | 'profile'
    | 'vendorManifest'
    | 'to'
    | 'channel'
    | 'factsFile'
    | 'factFlags'
    | 'allowUndeclared'
    | 'warnings'
  > {
  /** The installation directory; relative paths resolve against the working directory. */
  install: string;
  stage?: CheckStage;
  now?: () => Date;
  host?: Host;
}

/**
 * Plans the upgrade of an installation the way `uplift plan --install` does (its facts detected,
 * then `--facts`, then `--fact`), and gathers everything a check may look at. Throws UpliftError
 * for what cannot be checked at all (not an installation, a version the catalog does not know);
 * everything else is left to the checks to report.
 */
export async function buildCheckContext(opts: CheckContextOptions): Promise<CheckContext> {
  const install = resolve(opts.install);
  const { plan, profile, facts } = await getPlan({
    profile: opts.profile,
    install,
    vendorManifest: opts.vendorManifest,
    to: opts.to,
    ...(opts.channel !== undefined ? { channel: opts.channel } : {}),
    factsFile: opts.factsFile,
    factFlags: opts.factFlags,
    allowUndeclared: opts.allowUndeclared,
    warnings: opts.warnings,
  });
  const catalog = profile.catalog.catalog;
  const stop = profile.manifest.lifecycle?.services
    .map((s) =>
      s.stop ? s.stop.argv.join(' ') : s.systemd ? `systemctl stop ${s.systemd.unit}` : undefined,
    )
    .filter((c) => c !== undefined);
  const historyFolder = profile.manifest.detection?.data.find(
    (m) => m.fact === 'data.historyFiles' && m.countFiles !== undefined,
  )?.countFiles;
  return {
    install,
    profile: {
      name: profile.manifest.name,
      product: catalog.product,
      backupNeedsStop: catalog.durations.backupNeedsStop,
      ...(stop && stop.length > 0 ? { stopCommand: stop.join(' && ') } : {}),
      ...(historyFolder ? { historyFolder } : {}),
      alwaysChanging: [
        ...(profile.manifest.detection?.ignore ?? []),
        ...(profile.manifest.paths?.data ?? []),
        ...(profile.manifest.paths?.generated ?? []),
      ],
      data: [...(profile.manifest.paths?.data ?? []), ...(profile.manifest.paths?.databases ?? [])],
    },
    facts: facts as InstallFacts,
    plan,
    stage: opts.stage ?? 'prepare',
    now: opts.now ?? (() => new Date()),
    host: opts.host ?? realHost(),
  };
}
