// `uplift sample` for skiff (profile.yaml, `sample:`): makes, starts or reuses a sample skiff
// installation with realistic data, or stops it. Usage: node sample.mjs create|stop DIR; the
// version of a new sample comes in UPLIFT_SAMPLE_VERSION. Prints one JSON object on stdout; on
// failure { error: { code, message, hint } } and exit 2 (bad input, nothing changed) or 1.
//
// skiff is the repository's own reference product (products/skiff); its build is not part of the
// uplift package, so this profile's sample works from a checkout after `npm run build`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [action, dir] = process.argv.slice(2);
const version = process.env.UPLIFT_SAMPLE_VERSION || undefined;

function fail(exitCode, code, message, hint) {
  process.stdout.write(`${JSON.stringify({ error: { code, message, hint } })}\n`);
  process.exitCode = exitCode;
}

async function main() {
  if ((action !== 'create' && action !== 'stop') || !dir)
    return fail(2, 'UPLIFT_USAGE', 'usage: sample.mjs create|stop DIR');
  const entry = new URL('../../products/skiff/dist/index.js', import.meta.url);
  if (!existsSync(entry))
    return fail(
      1,
      'UPLIFT_SAMPLE_FAILED',
      `skiff is not built: ${entry.pathname} is missing`,
      'run npm run build in the uplift repository',
    );
  const skiff = await import(entry.href);

  if (action === 'stop') {
    const r = await skiff.stopSampleInstallation({ dir });
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }

  const releases = skiff.listReleases().map((r) => r.version);
  if (version !== undefined && !releases.includes(version))
    return fail(
      2,
      'UPLIFT_VERSION_INVALID',
      `skiff has no release "${version}"`,
      `use one of: ${releases.join(', ')}`,
    );
  const versionFile = join(dir, 'install/version');
  const installed = existsSync(versionFile)
    ? readFileSync(versionFile, 'utf8').trim()
    : undefined;
  if (version !== undefined && installed !== undefined && installed !== version)
    return fail(
      2,
      'UPLIFT_USAGE',
      `the sample installation in ${join(dir, 'install')} is skiff ${installed}, not ${version}`,
      'remove that folder to start over, or choose another one with --dir',
    );
  try {
    const s = await skiff.ensureSampleInstallation({ dir, version });
    process.stdout.write(`${JSON.stringify(s)}\n`);
  } catch (err) {
    if (err?.name !== 'SkiffError') throw err;
    if (err.code === 'SKIFF_NOT_EMPTY')
      return fail(2, 'UPLIFT_USAGE', err.message, 'choose another folder with --dir');
    return fail(1, err.code, err.message);
  }
}

await main();
