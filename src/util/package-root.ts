import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The folder of uplift's package.json, beside which profiles/ and schemas/ ship. Found by walking
 * up from this module, so it holds wherever the code runs from: src/ under tests, dist/ after tsc,
 * or the single-file bundle dist/bundle/cli.cjs (where a fixed `../../` would leave the package).
 */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      cached = dir;
      return dir;
    }
    /* v8 ignore next -- unreachable: the package's own package.json is always above this module */
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}
