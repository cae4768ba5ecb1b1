import { isAbsolute, join, resolve } from 'node:path';
import {
  type ApplyOptions,
  packHops,
  resolvePack,
  type VendorInstallerOptions,
} from '../../apply/index.ts';
import { loadCatalog } from '../../catalog/index.ts';
import { loadProfile, type Profile } from '../../profile/index.ts';
import { verifyVendorPack } from '../../vendor-pack/index.ts';

/** The profile's `apply.vendorInstaller`, resolved against the installation; undefined for other methods. */
export function vendorInstallerOf(
  install: string,
  apply: Profile['manifest']['apply'],
  catalog: string | undefined,
): VendorInstallerOptions | undefined {
  if (apply?.method !== 'vendor-installer' || !apply.vendorInstaller) return undefined;
  const v = apply.vendorInstaller;
  return {
    installerDir: isAbsolute(v.installerDir) ? v.installerDir : resolve(install, v.installerDir),
    updateScript: v.updateScript ?? 'update.sh',
    ...(v.javaArgument ? { javaArgument: v.javaArgument } : {}),
    ...(catalog ? { catalogFile: resolve(catalog) } : {}),
    ...(v.stepTimeoutSeconds ? { stepTimeoutMs: v.stepTimeoutSeconds * 1000 } : {}),
  };
}

export interface VendorDryRunHop {
  from: string;
  to: string;
  pack: string;
  md5: string;
  sha256Checked: boolean;
  commands: string[];
}

/** `uplift apply --dry-run` for the vendor-installer method: every zip verified, the commands each hop would run. */
export async function vendorDryRun(
  o: ApplyOptions,
): Promise<{ install: string; method: 'vendor-installer'; hops: VendorDryRunHop[]; text: string }> {
  const v = o.vendorInstaller as VendorInstallerOptions;
  const profile = await loadProfile(o.product);
  const catalog = v.catalogFile ? await loadCatalog(v.catalogFile) : profile.catalog;
  const hops: VendorDryRunHop[] = [];
  for (const s of packHops(o.plan).hops) {
    const file = resolvePack(o.packsDir, s);
    const r = await verifyVendorPack(file, {
      catalog,
      profile: profile.dir,
      platform: o.platform,
      installed: s.from as string,
    });
    const at = (folder: string) =>
      join('<staging>', r.steps.find((x) => x.folder === folder)?.files[0]?.path ?? folder);
    const java = v.javaArgument ? `-javaargument "${v.javaArgument}" ` : '';
    hops.push({
      from: s.from as string,
      to: s.to as string,
      pack: file,
      md5: r.checksums.md5.actual,
      sha256Checked: r.sha256Checked,
      commands: [
        `cd ${v.installerDir} && ./${v.updateScript} -i ${at('UpgradeStep1')}`,
        `cd ${v.installerDir} && ./${v.updateScript} ${java}-i ${at('UpgradeStep2')}`,
      ],
    });
  }
  const lines = [`Dry run on ${o.install} (vendor installer): nothing was changed.`];
  for (const h of hops) {
    lines.push(`  ${h.from} → ${h.to}: ${h.pack} verified (md5 ${h.md5})`);
    lines.push('    backup of the installation and the installer directory, stop, then:');
    for (const c of h.commands) lines.push(`    ${c}`);
    lines.push('    start, probe (pid files, version); any failure restores both backups');
  }
  return { install: o.install, method: 'vendor-installer', hops, text: `${lines.join('\n')}\n` };
}
