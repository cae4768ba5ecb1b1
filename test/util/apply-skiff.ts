import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import {
  access,
  constants,
  cp,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { parseDocument } from 'yaml';
import { buildPack, inspectPack } from '../../src/pack/index.ts';
import { getPlan } from '../../src/plan/index.ts';
import { generateKeyPair, loadPrivateKey, writeKeyPair } from '../../src/signing/index.ts';
import { binPath, faultsCliPath, repoRoot } from './run-cli.ts';

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
  /** The scratch folder everything lives in; `dispose` removes it. */
  root: string;
  from: string;
  to: string;
  /** A stopped sample installation at the first version, with accounts, uploads, tracking rows and customer edits. */
  template: string;
  releases: string;
  packs: string;
  trust: string;
  skiff: SkiffApi;
  /** The hops of the plan from `from` to `to`, as `uplift plan` gives them. */
  hops: { from: string; to: string }[];
  /** Removes `root` and goes back to the shared CLI build. */
  dispose(): Promise<void>;
}

/**
 * A copy of the fixture's packs in which the pack of the last hop also runs a second database
 * migration that fails after its real one committed: `migrationsDir` is that hop's pack inputs
 * (its `migrations.yaml` and scripts). The other hops' packs are copied as they are.
 */
export async function packsWithFailingLastHop(
  fx: ApplyFixture,
  migrationsDir: string,
): Promise<string> {
  const inputs = join(fx.root, 'failing-inputs');
  cpSync(migrationsDir, inputs, { recursive: true });
  writeFileSync(join(inputs, 'db/0002-fails.sql'), 'INSERT INTO no_such_table VALUES (1);\n');
  appendFileSync(
    join(inputs, 'migrations.yaml'),
    [
      '  - id: fails',
      '    description: fails after the real migration committed',
      '    engine: sqlite',
      '    database: var/db/skiff.db',
      '    script: db/0002-fails.sql',
      '',
    ].join('\n'),
  );
  const dir = join(fx.root, 'failing-packs');
  mkdirSync(dir);
  const last = fx.hops.at(-1) as { from: string; to: string };
  for (const file of readdirSync(fx.packs)) {
    const { manifest } = await inspectPack(join(fx.packs, file));
    if (manifest.to !== last.to) {
      copyFileSync(join(fx.packs, file), join(dir, file));
      continue;
    }
    await buildPack({
      fromTree: join(fx.releases, fx.skiff.releaseSlug(last.from)),
      toTree: join(fx.releases, fx.skiff.releaseSlug(last.to)),
      platform: manifest.platform,
      delta: true,
      fromRange: last.from,
      key: await loadPrivateKey(join(fx.root, 'keys/vendor.key')),
      out: join(dir, file),
      migrations: join(inputs, 'migrations.yaml'),
    });
  }
  return dir;
}

/**
 * Everything an apply test needs, built once per test file in a scratch folder (`scratchRoot(prefix)`),
 * with this file's CLI processes run from a private snapshot of the build (`takePrivateCli`): the
 * sample installation at `from` (stopped, to be copied per test), the release trees of every
 * version on the way, a signing key and its trust file, and the signed delta packs of each hop the
 * plan to `to` names, under the file names the plan gives (so `--packs` finds them). `migrations`
 * maps a hop's target version to the pack's `--migrations` YAML. Call `dispose` in `afterAll`.
 */
export async function prepareApplyFixture(
  prefix: string,
  from: string,
  to: string,
  migrations: Record<string, string> = {},
  opts: { packsWith?: 'api' | 'cli' } = {},
): Promise<ApplyFixture> {
  const cli = await takePrivateCli();
  const root = await scratchRoot(prefix);
  const dispose = async () => {
    await rm(root, { recursive: true, force: true, maxRetries: 5 });
    await cli.dispose();
  };
  try {
    return { ...(await buildApplyFixture(root, from, to, migrations, opts)), dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}

/**
 * The inside of `prepareApplyFixture`: the sample at `from` (stopped), release trees, key, trust
 * file and signed packs, built in `root` (which must exist), with no CLI snapshot and no dispose.
 */
export async function buildApplyFixture(
  root: string,
  from: string,
  to: string,
  migrations: Record<string, string>,
  opts: { packsWith?: 'api' | 'cli' },
): Promise<Omit<ApplyFixture, 'dispose'>> {
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
  const cliBuilds: Promise<UpliftRun>[] = [];
  for (const s of plan.steps) {
    if (s.kind !== 'pack' || !s.pack || !s.from || !s.to)
      throw new Error(`unexpected step ${s.title}`);
    for (const v of [s.from, s.to])
      if (!built.has(v)) {
        skiff.buildReleaseTree(v, releases);
        built.add(v);
      }
    if (opts.packsWith === 'cli') {
      // As a vendor builds them: `uplift pack build`, a real process per hop.
      const m = migrations[s.to];
      cliBuilds.push(
        upliftAsync([
          'pack',
          'build',
          '--from-tree',
          join(releases, skiff.releaseSlug(s.from)),
          '--to-tree',
          join(releases, skiff.releaseSlug(s.to)),
          '--platform',
          s.pack.platform,
          '--delta',
          '--key',
          join(root, 'keys/vendor.key'),
          '--out',
          join(packs, s.pack.file),
          ...(m ? ['--migrations', m] : []),
          '--json',
        ]),
      );
      continue;
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
  for (const r of await Promise.all(cliBuilds))
    if (r.code !== 0)
      throw new Error(`uplift pack build failed (${r.code}): ${r.stdout}${r.stderr}`);
  return {
    root,
    from,
    to,
    template: sample.install,
    releases,
    packs,
    trust: join(root, 'keys/vendor.pub'),
    skiff,
    hops: plan.steps.map((s) => ({ from: s.from as string, to: s.to as string })),
  };
}

/**
 * A folder for many short-lived installations: memory-backed (/dev/shm) where there is one, so a
 * test's speed does not hang on flushes of whatever else the machine writes (apply's `sync -f`
 * before the switch flushes the whole filesystem). A kill -9 behaves the same on any filesystem;
 * power loss is not what these tests can show.
 */
export async function scratchRoot(prefix: string): Promise<string> {
  const shm = '/dev/shm';
  const base = await access(shm, constants.W_OK).then(
    () => shm,
    () => tmpdir(),
  );
  return mkdtemp(join(base, prefix));
}

/** A fresh copy of the template installation at `dir/install` (cp -a keeps modes and times). */
function copyInstall(template: string, dir: string): string {
  const install = join(dir, 'install');
  spawnSync('mkdir', ['-p', dir]);
  const r = spawnSync('cp', ['-a', template, install]);
  if (r.status !== 0) throw new Error(`cp -a failed: ${r.stderr}`);
  return install;
}

/**
 * A fresh copy of the fixture's installation at `from`, started: `<base>/case-XXXXXX/install`, so
 * its state folder (`stateDir`) is its own too. `base` is the fixture's root unless given.
 */
export async function startFreshInstall(fx: ApplyFixture, base = fx.root): Promise<string> {
  const install = copyInstall(fx.template, await mkdtemp(join(base, 'case-')));
  await fx.skiff.startInstallation(install);
  return install;
}

/** The folder beside an installation where uplift keeps its journal, lock, history and backups. */
export function stateDir(install: string): string {
  return join(dirname(install), `.${basename(install)}.uplift`);
}

/**
 * `uplift apply` of `install` to the fixture's `to`, with its packs, trust file and the release
 * tree of `from` as the merge base, `--yes --json`; `more` goes last.
 */
export function applyArgs(fx: ApplyFixture, install: string, ...more: string[]): string[] {
  return [
    'apply',
    '--install',
    install,
    '--to',
    fx.to,
    '--packs',
    fx.packs,
    '--trust',
    fx.trust,
    '--base-tree',
    join(fx.releases, fx.skiff.releaseSlug(fx.from)),
    '--yes',
    '--json',
    ...more,
  ];
}

export interface UpliftRun {
  code: number | null;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
}

export interface UpliftOptions {
  /** Kills the process at this crash point: runs the test-only entry with UPLIFT_TEST_CRASH_AT. */
  crashAt?: string;
  /** More environment. */
  env?: Record<string, string>;
  /**
   * Runs the process (and what it starts: the product's services, probes) under `nice -n N`. A
   * negative N needs root; without it, nice says so and runs it at the usual priority.
   */
  nice?: number;
}

/**
 * The CLI these helpers run, as `uplift` runs once installed (the bundle's loader, `binPath`): the
 * shared build, or this test file's snapshot of it (`takePrivateCli`).
 */
let cli = binPath;
/** The same build behind the test-only entry that injects faults (test/util/cli-with-faults.mjs). */
let faultsCli = faultsCliPath;

/**
 * Runs this test file's CLI processes from a private snapshot of the build instead of the shared
 * dist/. On a machine where several people work in one tree, `npm run build` (vitest's global
 * setup, run by every test run) rewrites dist/ while a long e2e file runs: a process started then
 * sees half a build (a module missing, an export not there yet) and fails with exit 1. The
 * snapshot is a copy of dist/, skiff's dist/, profiles/, package.json (node_modules linked) and
 * the fault-injecting entry (which imports the snapshot's dist/ by its relative path),
 * taken once and checked: every command module these tests use must load, else the copy is taken
 * again (a build was in progress). In CI nobody else builds, the first copy is the build.
 * Returns the snapshot's root; `dispose` removes it.
 */
export async function takePrivateCli(): Promise<{ root: string; dispose: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'uplift-cli-'));
  const commands = [
    'apply',
    'status',
    'resume',
    'rollback',
    'history',
    'pack',
    'sample',
    'service',
  ];
  let last = '';
  for (let attempt = 0; attempt < 30; attempt++) {
    await rm(root, { recursive: true, force: true });
    await mkdir(join(root, 'products/skiff'), { recursive: true });
    await cp(join(repoRoot, 'dist'), join(root, 'dist'), { recursive: true });
    await cp(join(repoRoot, 'products/skiff/dist'), join(root, 'products/skiff/dist'), {
      recursive: true,
    });
    await cp(join(repoRoot, 'profiles'), join(root, 'profiles'), { recursive: true });
    await cp(join(repoRoot, 'package.json'), join(root, 'package.json'));
    await mkdir(join(root, 'test/util'), { recursive: true });
    await cp(faultsCliPath, join(root, 'test/util/cli-with-faults.mjs'));
    await symlink(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
    const probe = [
      join(root, 'dist/cli/program.js'),
      ...commands.map((c) => join(root, `dist/cli/commands/${c}.js`)),
      join(root, 'products/skiff/dist/index.js'),
    ];
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `for (const f of ${JSON.stringify(probe)}) await import(f);`],
      { encoding: 'utf8' },
    );
    const bundle = join(root, 'dist/bundle/uplift.cjs');
    if (r.status === 0 && existsSync(bundle) && existsSync(join(root, 'dist/bundle/cli.cjs'))) {
      cli = bundle;
      faultsCli = join(root, 'test/util/cli-with-faults.mjs');
      return {
        root,
        dispose: async () => {
          cli = binPath;
          faultsCli = faultsCliPath;
          await rm(root, { recursive: true, force: true });
        },
      };
    }
    last = r.stderr;
    await new Promise((res) => setTimeout(res, 2000));
  }
  await rm(root, { recursive: true, force: true });
  throw new Error(`no consistent build in dist/ after 60 s: ${last}`);
}

function upliftEnv(opts: UpliftOptions): NodeJS.ProcessEnv {
  const { UPLIFT_TEST_CRASH_AT: _c, UPLIFT_TEST_NOW: _n, ...base } = process.env;
  return {
    ...base,
    NO_COLOR: '1',
    ...(opts.crashAt ? { UPLIFT_TEST_CRASH_AT: opts.crashAt } : {}),
    ...opts.env,
  };
}

/** The entry to run: the real one, or the fault-injecting one when a fault is asked for. */
function entryFor(opts: UpliftOptions): string {
  return opts.crashAt ? faultsCli : cli;
}

/** The built CLI as a real process; `crashAt` kills it at that crash point, `env` adds more. */
export function uplift(args: string[], opts: UpliftOptions = {}): UpliftRun {
  const r = spawnSync(process.execPath, [entryFor(opts), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: upliftEnv(opts),
    timeout: 180_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

/** `uplift` without blocking the test worker, so independent cases can run side by side. */
export function upliftAsync(args: string[], opts: UpliftOptions = {}): Promise<UpliftRun> {
  return new Promise((done, fail) => {
    const argv = [process.execPath, entryFor(opts), ...args];
    const [cmd, ...rest] =
      opts.nice === undefined ? argv : ['nice', '-n', String(opts.nice), ...argv];
    const child = spawn(cmd as string, rest, {
      cwd: repoRoot,
      env: upliftEnv(opts),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, signal });
    });
  });
}

/** The CLI file the helpers currently run (the shared build or the private snapshot). */
export function currentCli(): string {
  return cli;
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

/**
 * A copy of skiff's profile in `dir` (an outside folder, as an operator's own would be) whose
 * `lifecycle.readiness` is replaced by `readiness`: a probe that fails, or one that hangs. Its
 * scripts find uplift's node_modules through a link, as they do inside the package.
 */
export async function skiffProfileWith(
  dir: string,
  readiness: Record<string, unknown>,
): Promise<string> {
  return skiffProfileSetting(dir, [[['lifecycle', 'readiness'], readiness]]);
}

/** A copy of skiff's profile in `dir`, as {@link skiffProfileWith}, with each field set to its value. */
export async function skiffProfileSetting(
  dir: string,
  fields: [path: string[], value: unknown][],
): Promise<string> {
  await cp(join(repoRoot, 'profiles/skiff'), dir, { recursive: true });
  await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  const file = join(dir, 'profile.yaml');
  const doc = parseDocument(await readFile(file, 'utf8'));
  for (const [path, value] of fields) doc.setIn(path, doc.createNode(value));
  await writeFile(file, doc.toString());
  return dir;
}
