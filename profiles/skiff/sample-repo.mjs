// The sample's local signed repository (sample.mjs): every pack the sample installation's path to
// the latest version needs, built from skiff's release trees with the sample's own keys, so the
// README's fetch, apply and rollback run on the sample. Everything goes under the sample's folder:
//
//   keys/     root, index and packs key pairs (private keys stay here, mode 0600)
//   releases/ skiff's release tree of each version on the way
//   build/    the packs as `uplift pack build` wrote them
//   repo/     the repository (`uplift repo init/add/publish`); give fetch repo/1.root.json
//
// Made once and reused: a later run builds only packs the plan names that the index lacks, and
// signs a new index only when one was added or the index expires within a day. Packs are deltas
// between consecutive versions of the plan, as the apply tests build them, with the migrations of
// packs/<version>/migrations.yaml where there are any.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs the uplift CLI that started the sample; resolves with its stdout, rejects on a failure. */
function uplift(cli, args) {
  return new Promise((done, fail) => {
    const child = spawn(cli.node, [cli.entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', fail);
    child.on('close', (code) => {
      if (code === 0) return done(stdout);
      const err = new Error(
        `uplift ${args.join(' ')} ended with ${code}: ${(stderr || stdout).trim()}`,
      );
      err.code = 'UPLIFT_SAMPLE_FAILED';
      fail(err);
    });
  });
}

function readIndex(repo) {
  try {
    return JSON.parse(readFileSync(join(repo, 'index.json'), 'utf8')).signed;
  } catch {
    return undefined;
  }
}

/**
 * Makes or reuses the repository of the sample in `dir` for the installation `install`.
 * `cli` is the uplift that runs the sample ({ node, entry }); `skiff` is products/skiff's API.
 * Returns where the repository, its root file and the pack trust file are, and what was built.
 */
export async function ensureSampleRepository({ dir, install, cli, skiff, profileDir }) {
  const keys = join(dir, 'keys');
  const repo = join(dir, 'repo');
  const releases = join(dir, 'releases');
  const build = join(dir, 'build');
  mkdirSync(keys, { recursive: true, mode: 0o700 });
  mkdirSync(build, { recursive: true });

  for (const k of ['root', 'index', 'packs'])
    if (!existsSync(join(keys, `${k}.key`)))
      await uplift(cli, ['keys', 'generate', '--out', join(keys, k), '--name', `sample ${k}`]);

  if (!existsSync(join(repo, 'root.json')))
    await uplift(cli, [
      'repo',
      'init',
      repo,
      '--root-key',
      join(keys, 'root.key'),
      '--index-key',
      join(keys, 'index.key'),
      '--pack-key',
      join(keys, 'packs.pub'),
    ]);

  const plan = JSON.parse(
    await uplift(cli, ['plan', '--install', install, '--to', 'latest', '--format', 'json']),
  );
  const listed = new Set((readIndex(repo)?.packs ?? []).map((p) => p.path));
  const missing = plan.steps.filter((s) => s.pack && !listed.has(`packs/${s.pack.file}`));

  const trees = new Set();
  const treeOf = (version) => {
    const tree = join(releases, skiff.releaseSlug(version));
    if (!trees.has(version) && !existsSync(join(tree, 'manifest.json')))
      skiff.buildReleaseTree(version, releases);
    trees.add(version);
    return tree;
  };
  const built = await Promise.all(
    missing.map((s) => {
      const migrations = join(profileDir, 'packs', skiff.releaseSlug(s.to), 'migrations.yaml');
      const out = join(build, s.pack.file);
      return uplift(cli, [
        'pack',
        'build',
        '--from-tree',
        treeOf(s.from),
        '--to-tree',
        treeOf(s.to),
        '--platform',
        s.pack.platform,
        '--delta',
        '--key',
        join(keys, 'packs.key'),
        '--out',
        out,
        ...(existsSync(migrations) ? ['--migrations', migrations] : []),
      ]).then(() => out);
    }),
  );
  if (built.length > 0) await uplift(cli, ['repo', 'add', repo, ...built]);

  const expires = Date.parse(readIndex(repo)?.expires ?? '');
  const published =
    built.length > 0 || !(expires > Date.now() + 24 * 3600 * 1000)
      ? (await uplift(cli, [
          'repo',
          'publish',
          repo,
          '--index-key',
          join(keys, 'index.key'),
          '--expires',
          '365d',
        ]),
        true)
      : false;

  return {
    repository: repo,
    root: join(repo, '1.root.json'),
    trust: join(keys, 'packs.pub'),
    packs: plan.steps.filter((s) => s.pack).map((s) => s.pack.file),
    built: built.length,
    published,
  };
}
