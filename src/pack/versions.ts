import { compilePattern, type VersionPattern } from '../catalog/index.ts';
import { UpliftError } from '../errors/index.ts';
import { loadProfile } from '../profile/index.ts';
import { getScheme, type VersionScheme } from '../versioning/index.ts';

/**
 * The version scheme of a product: the scheme named explicitly, else the catalog's of the profile
 * with the product's name. Undefined when neither is known.
 */
export async function schemeFor(product: string, id?: string): Promise<VersionScheme | undefined> {
  if (id !== undefined) return getScheme(id);
  try {
    return (await loadProfile(product)).catalog.scheme;
  } catch (err) {
    if (err instanceof UpliftError) return undefined;
    throw err;
  }
}

export function patternOf(range: string, scheme: VersionScheme): VersionPattern | string {
  return compilePattern(range, scheme);
}
