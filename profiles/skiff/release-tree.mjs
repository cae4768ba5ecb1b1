// apply.releaseTree of skiff's profile (profile.yaml): writes the release tree of one skiff
// version, OUT/tree and OUT/manifest.json, as skiff's release builder makes it. uplift apply
// takes the merge base of a first upgrade from it (only files whose hashes the installation's
// vendor manifest records). Usage: node release-tree.mjs VERSION OUT (OUT must not exist).
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [version, out] = process.argv.slice(2);
if (!version || !out) {
  process.stderr.write('usage: release-tree.mjs VERSION OUT\n');
  process.exit(2);
}
// skiff's release builder: beside this profile in the uplift checkout, or where SKIFF_BUILD says
// (a copy of the profile on a node, e.g. a rollout's kit: pass it with the topology's passEnv).
const entry = process.env.SKIFF_BUILD
  ? pathToFileURL(join(process.env.SKIFF_BUILD, 'index.js'))
  : new URL('../../products/skiff/dist/index.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(`skiff is not built: ${entry.pathname} is missing (npm run build)\n`);
  process.exit(1);
}
const skiff = await import(entry.href);
if (!skiff.listReleases().some((r) => r.version === version)) {
  process.stderr.write(`skiff has no release "${version}"\n`);
  process.exit(2);
}
const scratch = mkdtempSync(join(dirname(out), '.release-tree-'));
try {
  renameSync(skiff.buildReleaseTree(version, scratch).dir, out);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
