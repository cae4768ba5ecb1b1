import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');

/**
 * Builds dist/ (uplift and skiff) once, so e2e tests run the real CLI and product as an operator
 * does: unless the build stamp says dist/ was built from the sources as they are now (`npm run
 * build` records it; .ci/run has just built), which saves a 35 s rebuild on a 2-core machine.
 */
export default function setup(): void {
  const check = spawnSync(process.execPath, [join(root, 'tools/build-stamp.mjs'), 'check'], {
    stdio: 'inherit',
  });
  if (check.status === 0) return;
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
}
