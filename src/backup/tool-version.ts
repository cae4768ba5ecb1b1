import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/index.ts';

let cached: string | undefined;

/** uplift's version from its package.json (found from src/, dist/ or the bundle alike). */
export function toolVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8'));
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
