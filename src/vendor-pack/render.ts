import { formatBytes } from '../util/index.ts';
import type { VendorPackReport } from './verify.ts';

/** The verification report for people. */
export function renderVendorPackReport(r: VendorPackReport): string {
  const check = (name: string, c: VendorPackReport['checksums']['md5']) =>
    c.expected === undefined
      ? `${name} not in the catalog (computed ${c.actual})`
      : `${name} matches ${c.actual}`;
  const size =
    r.size.check === 'exact'
      ? `${r.size.actual} bytes, as the catalog says`
      : `${r.size.actual} bytes, within ± ${r.size.tolerance} of the catalog's ${r.size.expected} (the vendor's published precision)`;
  const lines = [
    `Vendor pack ${r.fileName} verified`,
    `  release   ${r.release} (${r.name.update}, build ${r.build}) for ${r.platform}`,
    `  hop       from ${r.hop.from} to ${r.hop.to}${r.hop.installed ? `; installed ${r.hop.installed}` : ''}`,
    `  catalog   ${r.catalog.file}`,
    `  size      ${size} (${formatBytes(r.size.actual)})`,
    `  checksums ${check('SHA-256', r.checksums.sha256)}`,
    `            ${check('MD5', r.checksums.md5)}`,
    `  zip       ${r.entries} entries, ${formatBytes(r.uncompressedBytes)} uncompressed; names, types and shape checked`,
  ];
  for (const step of r.steps) {
    lines.push(`  ${step.folder} (${step.holds}):`);
    for (const f of step.files) lines.push(`    ${f.path}  ${formatBytes(f.size)}`);
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}
