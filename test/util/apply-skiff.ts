import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildPack } from '../../src/pack/index.ts';
import { getPlan } from '../../src/plan/index.ts';
import { generateKeyPair, writeKeyPair } from '../../src/signing/index.ts';
import { cliPath, repoRoot } from './run-cli.ts';

/** The parts of products/skiff the apply tests drive (imported at run time: it needs the built lib/). */
export interface SkiffApi {
  ensureSampleInstallation(opts: { dir: string; version?: string }): Promise<{
    install: string;
    url: string;
    version: string;
    accounts: { name: string; password: string }[];
  }>;
  buildReleaseTree(version: string, out: string): { dir: string; tree: string };
  startInstallation(dir: string): Promise<{ url: string; pid: number }>;
  stopInstallation(dir: string): Promise<unknown>;
  getInstallationStatus(
    dir: string,
  ): Promise<{ version?: string; healthy: boolean; url?: string; pid?: number }>;
  releaseSlug(version: string): string;
}

export async function loadSkiff(): Promise<SkiffApi> {
  return (await import(join(repoRoot, 'products/skiff/src/index.ts'))) as SkiffApi;
}

export interface ApplyFixture {
  root: string;
  /** A stopped sample installation at the first version, with accounts, uploads, tracking rows and customer edits. */
  template: string;
  releases: string;
  packs: string;
  trust: string;
  skiff: SkiffApi;
}

/**
 * Everything an apply test needs, built once per test file: the sample installation at `from`
 * (stopped, to be copied per test), the release trees of every version on the way, a signing key
 * and its trust file, and the signed delta packs of each hop the plan to `to` names, under the
 * file names the plan gives (so `--packs` finds them). `migrations` maps a hop's target version to
 * the pack's `--migrations` YAML.
 */
export async function prepareApplyFixture(
  root: string,
  from: string,
  to: string,
  migrations: Record<string, string> = {},
): Promise<ApplyFixture> {
  const skiff = await loadSkiff();
  const sampleDir = join(root, 'sample');
  const sample = await skiff.ensureSampleInstallation({ dir: sampleDir, version: from });
  await skiff.stopInstallation(sample.install);
  const releases = join(root, 'releases');
  const packs = join(root, 'packs');
  await mkdir(packs, { recursive: true });
  const pair = generateKeyPair();
  await mkdir(join(root, 'keys'));
  await writeKeyPair(pair, join(root, 'keys/vendor'));
  const { plan } = await getPlan({ install: sample.install, to });
  const built = new Set<string>();
  for (const s of plan.steps) {
    if (s.kind !== 'pack' || !s.pack || !s.from || !s.to)
      throw new Error(`unexpected step ${s.title}`);
    for (const v of [s.from, s.to])
      if (!built.has(v)) {
        skiff.buildReleaseTree(v, releases);
        built.add(v);
      }
    await buildPack({
      fromTree: join(releases, skiff.releaseSlug(s.from)),
      toTree: join(releases, skiff.releaseSlug(s.to)),
      platform: s.pack.platform,
      delta: true,
      fromRange: s.from,
      key: pair.privateKey,
      out: join(packs, s.pack.file),
      ...(migrations[s.to] ? { migrations: migrations[s.to] } : {}),
    });
  }
  return {
    root,
    template: sample.install,
    releases,
    packs,
    trust: join(root, 'keys/vendor.pub'),
    skiff,
  };
}

/** A fresh copy of the template installation at `dir/install` (cp -a keeps modes and times). */
export function copyInstall(template: string, dir: string): string {
  const install = join(dir, 'install');
  spawnSync('mkdir', ['-p', dir]);
  const r = spawnSync('cp', ['-a', template, install]);
  if (r.status !== 0) throw new Error(`cp -a failed: ${r.stderr}`);
  return install;
}

export interface UpliftRun {
  code: number | null;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
}

/** The built CLI as a real process; `crashAt` sets UPLIFT_TEST_CRASH_AT, `env` adds more. */
export function uplift(
  args: string[],
  opts: { crashAt?: string; env?: Record<string, string> } = {},
): UpliftRun {
  const { UPLIFT_TEST_CRASH_AT: _c, UPLIFT_TEST_PROBE: _p, ...base } = process.env;
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: {
      ...base,
      NO_COLOR: '1',
      ...(opts.crashAt ? { UPLIFT_TEST_CRASH_AT: opts.crashAt } : {}),
      ...opts.env,
    },
    timeout: 180_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

/** Rows of every table: the database's content in a comparable form. */
export function tableRows(dbFile: string): Record<string, unknown[]> {
  const db = new Database(dbFile, { readonly: true });
  try {
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all() as { name: string }[];
    return Object.fromEntries(
      tables.map((t) => [t.name, db.prepare(`SELECT * FROM "${t.name}" ORDER BY 1`).all()]),
    );
  } finally {
    db.close();
  }
}

/** What a running server writes on its own (pids, port, logs, its database): compared separately. */
export const runtimeState = (p: string) =>
  p === 'var/run' || p === 'var/log' || p === 'var/db' || p === 'var/tmp';
