import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** uplift's version from package.json, which sits two levels up from both src/backup and dist/backup. */
export function toolVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
      cached = typeof pkg.version === 'string' ? (pkg.version as string) : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}

/** `20250131T235959Z`: sortable, and safe in a file name. */
export function fileStamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}
