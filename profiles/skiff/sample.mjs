// `uplift sample` for skiff (profile.yaml, `sample:`): makes, starts or reuses a sample skiff
// installation with realistic data and the signed repository of the packs its upgrade needs
// (sample-repo.mjs), or stops it. Usage: node sample.mjs create DIR UPLIFT_SCRIPT | stop DIR; the
// version of a new sample comes in UPLIFT_SAMPLE_VERSION, UPLIFT_SAMPLE_RESET=1 makes it anew.
// Prints one JSON object on stdout; on failure { error: { code, message, hint } } and exit 2 (bad
// input, nothing changed) or 1.
//
// A reset removes the installation and everything made from it (its uplift state, downloads,
// reports) and keeps the vendor's side: keys/, repo/, releases/ and build/. A fetch client
// remembers the root keys of the repository at an address, so a repository made again with new
// keys at the same place would be refused as a replaced one (UPLIFT_REPO_ROOT_CHANGED).
//
// skiff is the repository's own reference product (products/skiff); its build is not part of the
// uplift package, so this profile's sample works from a checkout after `npm run build`.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSampleRepository } from './sample-repo.mjs';

const [action, dir, upliftScript] = process.argv.slice(2);
const version = process.env.UPLIFT_SAMPLE_VERSION || undefined;
const reset = process.env.UPLIFT_SAMPLE_RESET === '1';
/** What a reset keeps: the vendor's side of the sample (sample-repo.mjs). */
const keptOnReset = new Set(['keys', 'repo', 'releases', 'build']);

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

  if (!upliftScript || !existsSync(upliftScript))
    return fail(
      2,
      'UPLIFT_USAGE',
      `usage: sample.mjs create DIR UPLIFT_SCRIPT (the uplift script, got ${upliftScript})`,
    );
  if (reset && existsSync(dir))
    for (const name of readdirSync(dir))
      if (!keptOnReset.has(name)) rmSync(join(dir, name), { recursive: true, force: true });

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
    const repository = await ensureSampleRepository({
      dir,
      install: s.install,
      cli: { node: process.execPath, entry: upliftScript },
      skiff,
      profileDir: import.meta.dirname,
    });
    process.stdout.write(`${JSON.stringify({ ...s, ...repository })}\n`);
  } catch (err) {
    if (err?.code === 'UPLIFT_SAMPLE_FAILED') return fail(1, err.code, err.message);
    if (err?.name !== 'SkiffError') throw err;
    if (err.code === 'SKIFF_NOT_EMPTY')
      return fail(2, 'UPLIFT_USAGE', err.message, 'choose another folder with --dir');
    return fail(1, err.code, err.message);
  }
}

await main();
