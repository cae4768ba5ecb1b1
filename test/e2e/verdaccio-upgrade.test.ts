/**
 * The whole upgrade of a real product no module under src/ knows, through the built CLI: a running
 * Verdaccio 5.33.0 (test/util/verdaccio.ts: installed from the npm registry by its committed
 * lockfile, a customised config.yaml, a user, packages published with the npm CLI) is upgraded to
 * 6.8.0 and rolled back, with profiles/verdaccio copied to a folder outside uplift.
 *
 * The vendor's side: `uplift release-tree make` of the two cached npm installs (the 5.33.0 one is
 * the folder the installation was copied from, so its vendor files are the release tree's and the
 * tree's manifest.json is its vendor manifest), `uplift pack build --profile`, and the pack listed
 * in the outside profile's catalog. The operator's side: `facts`, `plan`, `check`, `backup`,
 * `pack verify --install --trust`, `apply` (the profile's lifecycle stops 5.33.0, starts 6.8.0,
 * waits for /-/ping and runs smoke.mjs, which publishes and installs a package with the real npm
 * CLI as the account given in VERDACCIO_SMOKE_USER/VERDACCIO_SMOKE_PASSWORD), `status`, `history`
 * and `rollback`. Before apply every command gets `--profile <outside folder>`; after it, none
 * does: the installation records its profile.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/util/index.ts';
import {
  stateDir,
  takePrivateCli,
  type UpliftOptions,
  uplift,
  upliftAsync,
} from '../util/apply-skiff.ts';
import { repoRoot } from '../util/run-cli.ts';
import { platformId } from '../util/tiny-product.ts';
import { hashTree, type TreeRecord } from '../util/tree-hash.ts';
import {
  copyVendorManifest,
  deltaPackArgs,
  listPackInCatalog,
  releaseTreeMakeArgs,
} from '../util/vendor-side.ts';
import {
  startVerdaccio,
  VERDACCIO_FROM,
  VERDACCIO_TO,
  type VerdaccioInstance,
  verdaccioRelease,
} from '../util/verdaccio.ts';

const FROM = VERDACCIO_FROM;
const TO = VERDACCIO_TO;
const platform = platformId();
const packName = `verdaccio-${TO}-from-${FROM}_${platform}.upk`;

let v: VerdaccioInstance;
let root: string;
/** The operator's own copy of profiles/verdaccio, outside uplift's profiles folder. */
let profile: string;
let dispose: (() => Promise<void>) | undefined;
/** What the apply changed nothing of: the storage and config.yaml as they were before it. */
let storageBefore: TreeRecord[];
let configBefore: string;
let pidBefore: number;

beforeAll(async () => {
  ({ dispose } = await takePrivateCli());
  root = await mkdtemp(join(tmpdir(), 'uplift-verdaccio-upgrade-'));
  profile = join(root, 'operator-profiles/verdaccio');
  await cp(join(repoRoot, 'profiles/verdaccio'), profile, { recursive: true });
  await mkdir(join(root, 'keys'));
  const keys = uplift(['keys', 'generate', '--out', join(root, 'keys/release')]);
  expect(keys.code, keys.stderr).toBe(0);
  // Both npm installs first (cached after the first run), then the running 5.33.0.
  await Promise.all([verdaccioRelease(FROM), verdaccioRelease(TO)]);
  v = await startVerdaccio({ version: FROM });
}, 600_000);

afterAll(async () => {
  await v?.cleanup();
  if (root) await rm(root, { recursive: true, force: true });
  await dispose?.();
});

/** `uplift ...args --json`, which must exit 0; its JSON. */
function ok(args: string[], opts?: UpliftOptions) {
  const r = uplift([...args, '--json'], opts);
  expect(r.code, `uplift ${args.slice(0, 2).join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout);
}

/** The version the running registry serves in its web UI options (5.x in the page, 6.x in ui-options.js). */
async function servedVersion(): Promise<string | undefined> {
  for (const path of ['', '-/static/ui-options.js']) {
    const res = await fetch(new URL(path, v.url), { signal: AbortSignal.timeout(10_000) });
    const m = /"version":"([^"]+)"/.exec(await res.text());
    if (res.ok && m) return m[1];
  }
  return undefined;
}

/** The pid in the installation's pid file, which must be alive and answering /-/ping. */
async function runningPid(): Promise<number> {
  const pid = Number((await readFile(join(v.install, 'run/verdaccio.pid'), 'utf8')).trim());
  expect(isAlive(pid)).toBe(true);
  const ping = await fetch(new URL('-/ping', v.url), { signal: AbortSignal.timeout(10_000) });
  expect(ping.status).toBe(200);
  return pid;
}

/** Paths of an installation that are not the vendor's (the profile's data, config, generated, manifest). */
const notVendor = (p: string) =>
  /^(config\.yaml|htpasswd|storage|logs|run|plugins|\.uplift-vendor)(\/|$)/.test(p);

/** The vendor part of the installation equals the release tree: every file, link and mode. */
async function expectVendorFilesOf(version: string) {
  const opts = { owners: false, ignore: notVendor };
  const [mine, tree] = await Promise.all([
    hashTree(v.install, opts),
    hashTree(join(root, 'rel', version, 'tree'), opts),
  ]);
  const strip = (rs: TreeRecord[]) => rs.filter((r) => r.path !== '.');
  expect(strip(mine.records).length).toBe(strip(tree.records).length);
  expect(strip(mine.records)).toEqual(strip(tree.records));
}

/** Storage records, compared by content (the folder's own times and the db's order are Verdaccio's). */
async function storage(): Promise<TreeRecord[]> {
  return (await hashTree(join(v.install, 'storage'), { owners: false })).records;
}

/** `npm install uplift-test-beta@2.0.0` from the registry into a new project with an empty npm cache. */
async function installBetaFromRegistry(): Promise<void> {
  const app = await mkdtemp(join(v.dir, 'app-'));
  await writeFile(
    join(app, 'package.json'),
    '{ "name": "app", "version": "1.0.0", "private": true }\n',
  );
  const r = v.npm(
    ['install', 'uplift-test-beta@2.0.0', '--no-package-lock', '--cache', join(app, '.npm-cache')],
    app,
  );
  expect(r.status, r.stderr).toBe(0);
  const beta = JSON.parse(
    await readFile(join(app, 'node_modules/uplift-test-beta/package.json'), 'utf8'),
  );
  const alpha = JSON.parse(
    await readFile(join(app, 'node_modules/@uplift-test/alpha/package.json'), 'utf8'),
  );
  // beta depends on alpha ^1.0.0: the registry's metadata names both versions, npm takes 1.1.0
  expect([beta.version, alpha.version]).toEqual(['2.0.0', '1.1.0']);
  expect(await readFile(join(app, 'node_modules/@uplift-test/alpha/index.js'), 'utf8')).toBe(
    'module.exports = "@uplift-test/alpha@1.1.0";\n',
  );
}

describe(`uplift upgrades a running Verdaccio ${FROM} to ${TO} and rolls it back, its profile an outside folder`, () => {
  it('the vendor side: release-tree make of both npm installs, pack build --profile, the pack in the catalog', async () => {
    const made = await Promise.all(
      [FROM, TO].map(async (version) =>
        upliftAsync(
          releaseTreeMakeArgs(
            {
              source: await verdaccioRelease(version),
              product: 'verdaccio',
              version,
              out: join(root, 'rel', version),
            },
            '--platform',
            platform,
            '--json',
          ),
        ),
      ),
    );
    for (const r of made) expect(r.code, r.stderr).toBe(0);
    const [from, to] = made.map((r) => JSON.parse(r.stdout));
    // thousands of files and npm's .bin links, no mode to adjust
    expect(from).toMatchObject({ product: 'verdaccio', version: FROM, adjusted: [] });
    expect(from.files).toBeGreaterThan(5000);
    expect(from.symlinks).toBeGreaterThan(5);
    expect(to).toMatchObject({ version: TO, adjusted: [] });

    // The installation was copied from the 5.33.0 npm install: its vendor files are the tree's,
    // and the tree's manifest is its vendor manifest, where the profile looks for it.
    await expectVendorFilesOf(FROM);
    copyVendorManifest(join(root, 'rel', FROM), v.install);

    await mkdir(join(root, 'packs'));
    const pack = ok(
      deltaPackArgs({
        fromTree: join(root, 'rel', FROM),
        toTree: join(root, 'rel', TO),
        platform,
        key: join(root, 'keys/release.key'),
        out: join(root, 'packs', packName),
        profile,
      }),
    );
    expect(pack.manifest).toMatchObject({
      product: 'verdaccio',
      kind: 'delta',
      from: { version: FROM },
      to: TO,
      platform,
    });
    const linkActions = new Set(pack.manifest.symlinks.map((l: { action: string }) => l.action));
    expect(linkActions).toEqual(new Set(['add', 'delete']));

    // The vendor publishes the pack: the catalog lists it for the hop, with its size and hash.
    listPackInCatalog(join(profile, 'catalog.yaml'), TO, {
      platform,
      file: packName,
      size: pack.bytes,
      sha256: pack.sha256,
      from: FROM,
    });
  }, 180_000);

  it('uplift facts: the version, the Node.js, config.yaml, the running service; only config.yaml differs from the vendor', () => {
    const f = ok(['facts', '--install', v.install, '--profile', profile]);
    expect(f).toMatchObject({
      product: 'verdaccio',
      version: FROM,
      runtime: { nodeVersion: process.version.slice(1) },
      server: { listen: `127.0.0.1:${v.port}` },
      config: { web: { title: 'uplift test registry' }, auth: { htpasswd: { max_users: -1 } } },
      detection: { profile: 'verdaccio', warnings: [] },
    });
    // npm's node_modules/.bin links are the vendor's (the release manifest lists them)
    expect(f.customizedFiles).toEqual({
      changed: [],
      added: ['config.yaml'],
      removed: [],
      notes: {},
    });
    expect(f.services).toEqual([expect.objectContaining({ name: 'verdaccio', running: true })]);
    expect(f.data.storageFiles).toBeGreaterThanOrEqual(6);
  });

  it(`uplift plan to ${TO}: one pack hop, the catalog's pack, recommended on this Node.js`, () => {
    const plan = ok(['plan', '--install', v.install, '--profile', profile, '--to', TO]);
    expect(plan).toMatchObject({ product: 'verdaccio', from: FROM, to: TO });
    expect(plan.steps).toEqual([
      expect.objectContaining({
        kind: 'pack',
        from: FROM,
        to: TO,
        pack: expect.objectContaining({ file: packName, platform }),
      }),
    ]);
    // Node.js 20 is detected (no --fact): the runtime rules are known, only info items apply
    expect(plan.verdict).toBe('recommended');
    const outcome = Object.fromEntries(
      plan.incompatibilities.map((i: { id: string; outcome: string }) => [i.id, i.outcome]),
    );
    expect(outcome).toMatchObject({
      'node-18-required': 'does-not-apply',
      'node-20-required': 'does-not-apply',
      'request-removed': 'applies',
    });
  });

  it('uplift check finds nothing failing (no backup yet: a warning); uplift backup writes one that verifies; then the check passes', async () => {
    const check = ok(['check', '--install', v.install, '--profile', profile, '--to', TO]);
    expect(check.summary.fail).toBe(0);
    const status = Object.fromEntries(
      check.results.map((r: { id: string; status: string }) => [r.id, r.status]),
    );
    expect(status).toMatchObject({ backup: 'warn', 'disk-space': 'pass', 'leftover-pids': 'pass' });

    const backup = ok(['backup', '--install', v.install, '--profile', profile, '--no-progress']);
    // online: the profile's service runs, its pid file and log (paths.generated) are left out
    expect(backup.productVersion).toBe(FROM);
    expect(backup.consistency).toMatchObject({ mode: 'online', runningPids: [await runningPid()] });
    expect(backup.totals.files).toBeGreaterThan(5000);
    expect(backup.totals.symlinks).toBeGreaterThan(5);
    const verified = ok(['backup', '--verify', backup.file]);
    expect(verified.totals).toEqual(backup.totals);

    const again = ok(['check', '--install', v.install, '--profile', profile, '--to', TO]);
    expect(again.summary.fail).toBe(0);
    expect(again.results.find((r: { id: string }) => r.id === 'backup').status).toBe('pass');
  });

  it('uplift pack verify --install --trust: the pack is signed by the trusted key and fits the installation', () => {
    const r = ok([
      'pack',
      'verify',
      join(root, 'packs', packName),
      '--trust',
      join(root, 'keys/release.pub'),
      '--install',
      v.install,
      '--profile',
      profile,
    ]);
    expect(r).toMatchObject({
      verified: true,
      installation: { product: 'verdaccio', version: FROM, platform },
    });
  });

  it(`uplift apply: ${TO} serves the same packages to npm, config.yaml and storage kept, the smoke test passed`, async () => {
    storageBefore = await storage();
    configBefore = await readFile(join(v.install, 'config.yaml'), 'utf8');
    pidBefore = await runningPid();
    expect(await servedVersion()).toBe(FROM);

    const r = uplift(
      [
        'apply',
        '--install',
        v.install,
        '--profile',
        profile,
        '--to',
        TO,
        '--packs',
        join(root, 'packs'),
        '--trust',
        join(root, 'keys/release.pub'),
        '--yes',
        '--json',
      ],
      // smoke.mjs publishes as this account (the profile's readme.md)
      { env: { VERDACCIO_SMOKE_USER: v.user, VERDACCIO_SMOKE_PASSWORD: v.password } },
    );

    expect(r.code, r.stdout + r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({
      verdict: 'recommended',
      from: FROM,
      to: TO,
      outcome: 'committed',
    });
    const hop = result.hops[0];
    expect(hop).toMatchObject({ from: FROM, to: TO, kind: 'delta', outcome: 'committed' });
    // the readiness probe's 3 s stability window is part of the downtime
    expect(hop.downtimeSeconds).toBeGreaterThanOrEqual(3);
    expect(hop.stepSeconds.smoke).toBeGreaterThan(0);
    expect(r.stderr).toContain('smoke test passed');
    expect(r.stderr).not.toContain(v.password);
    console.log(
      `apply ${FROM} → ${TO}: downtime ${hop.downtimeSeconds} s, ${result.seconds} s in all, steps ${JSON.stringify(hop.stepSeconds)}`,
    );

    // 6.8.0 runs, a new process, from the new vendor files
    const pid = await runningPid();
    expect(pid).not.toBe(pidBefore);
    expect(await servedVersion()).toBe(TO);
    await expectVendorFilesOf(TO);
    // the customer's configuration, accounts and packages are as they were; the smoke package is gone
    expect(await readFile(join(v.install, 'config.yaml'), 'utf8')).toBe(configBefore);
    expect(await storage()).toEqual(storageBefore);
    // the upgraded registry serves the packages to the real npm CLI
    await installBetaFromRegistry();
    const view = v.npm(['view', '@uplift-test/alpha', 'versions', '--json']);
    expect(JSON.parse(view.stdout)).toEqual(['1.0.0', '1.1.0']);
  }, 240_000);

  it('after apply, facts, status and history need no --profile: the installation records the outside folder', () => {
    const f = ok(['facts', '--install', v.install]);
    expect(f).toMatchObject({ version: TO, detection: { profile: 'verdaccio', warnings: [] } });
    // apply wrote the new version's vendor manifest: nothing but config.yaml differs from it
    expect(f.customizedFiles).toMatchObject({ changed: [], added: ['config.yaml'], removed: [] });

    const status = ok(['status', '--install', v.install]);
    expect(status).toMatchObject({
      state: 'idle',
      last: { kind: 'apply', from: FROM, to: TO, outcome: 'committed' },
      profile: { name: 'verdaccio', dir: profile, from: 'recorded' },
    });
    const history = ok(['history', '--install', v.install]);
    expect(history.profile).toMatchObject({ dir: profile, from: 'recorded' });
    expect(history.runs).toHaveLength(1);
    expect(history.runs[0]).toMatchObject({
      kind: 'apply',
      outcome: 'committed',
      profile: { name: 'verdaccio', dir: profile },
      hops: [expect.objectContaining({ from: FROM, to: TO, backupKept: true })],
    });
  });

  it(`uplift rollback (no --profile): ${FROM} serves again, the same packages, config.yaml and storage`, async () => {
    const r = uplift(['rollback', '--install', v.install, '--json']);

    expect(r.code, r.stdout + r.stderr).toBe(0);
    const rb = JSON.parse(r.stdout);
    expect(rb).toMatchObject({
      version: FROM,
      service: 'running',
      method: 'old-generation',
      profile: { dir: profile, from: 'recorded' },
    });
    console.log(`rollback ${TO} → ${FROM}: downtime ${rb.downtimeSeconds} s`);
    expect(rb.downtimeSeconds).toBeGreaterThanOrEqual(3);

    await runningPid();
    expect(await servedVersion()).toBe(FROM);
    await expectVendorFilesOf(FROM);
    expect(await readFile(join(v.install, 'config.yaml'), 'utf8')).toBe(configBefore);
    expect(await storage()).toEqual(storageBefore);
    await installBetaFromRegistry();

    const f = ok(['facts', '--install', v.install]);
    expect(f.version).toBe(FROM);
    expect(f.customizedFiles).toMatchObject({ changed: [], added: ['config.yaml'], removed: [] });
    const history = ok(['history', '--install', v.install]);
    // oldest first: the apply, then the rollback that undid it, with its downtime
    expect(history.runs).toHaveLength(2);
    expect(history.runs[0]).toMatchObject({ kind: 'apply', outcome: 'committed' });
    expect(history.runs[1]).toMatchObject({
      kind: 'rollback',
      from: TO,
      to: FROM,
      outcome: 'rolled-back',
      undid: { runId: history.runs[0].runId, hop: 0 },
      profile: { dir: profile },
      service: 'running',
      downtimeSeconds: rb.downtimeSeconds,
    });
    // the state folder beside the installation keeps what rollback replaced
    expect(rb.keptAs.startsWith(stateDir(v.install))).toBe(true);
  }, 180_000);
});
