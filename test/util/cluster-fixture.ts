/**
 * Fleets of real installations for the rollout tests and the bench (issue 13):
 *
 * - `makeSkiffCluster`: N independent skiff installations at `from`, each in its own folder (so
 *   each has its own uplift state folder) on its own pinned loopback port, running or stopped, and
 *   the one packs folder and trust file that take them to `to`. The packs, the signing key and the
 *   stopped sample installation they are copied from are built once per source state and version
 *   pair and cached (`cachedSkiffPacks`), so several test files pay for them once.
 * - `makeBareNodes`: N stopped copies of one skiff installation that `uplift facts` and
 *   `uplift check` can read, for the bench.
 * - `writeTopology`: the one place that writes an `uplift.yaml`.
 * - `nodeVersion`, `isRunning`, `probe`: what the installation says and what a client gets.
 * - `stopAll`: stops every process of every installation this module made (for `afterAll`, also
 *   after a failed test), and removes their folders. A process exit kills what is left.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { generateKeyPair, writeKeyPair } from '../../src/signing/index.ts';
import { isAlive } from '../../src/util/index.ts';
import {
  buildApplyFixture,
  loadSkiff,
  type SkiffApi,
  scratchRoot,
  upliftAsync,
} from './apply-skiff.ts';
import { cachedFolder } from './cache-lock.ts';
import { freePort } from './free-port.ts';
import { signalAll } from './process-tree.ts';
import { repoRoot } from './run-cli.ts';
import {
  copyVendorManifest,
  deltaPackArgs,
  listPackInCatalog,
  releaseTreeMakeArgs,
} from './vendor-side.ts';
import {
  startVerdaccio,
  stopVerdaccioIn,
  testCacheDir,
  VERDACCIO_FROM,
  VERDACCIO_TO,
  type VerdaccioInstance,
  verdaccioRelease,
} from './verdaccio.ts';

// ---------------------------------------------------------------------------------------------
// Processes and folders this module made: stopped by stopAll, killed at exit if still alive.

const madeInstalls = new Set<string>();
const madeRoots = new Set<string>();
/** The installations of madeInstalls that are Verdaccio's (stopped by signal, not by a script). */
const madeVerdaccio = new Set<string>();

/** uplift's platform id of this machine (tiny-product.ts has the same, but loads vitest). */
function platformId(): string {
  const arch = { x64: 'x86-64', arm64: 'arm64' }[process.arch as string] ?? process.arch;
  return `${process.platform}-${arch}`;
}

/**
 * The live pids an installation's pid files name: skiff's var/run/*.pid (server and scheduler),
 * Verdaccio's run/*.pid.
 */
export function installPids(install: string): number[] {
  const pids: number[] = [];
  for (const run of [join(install, 'var/run'), join(install, 'run')]) {
    let files: string[];
    try {
      files = readdirSync(run).filter((f) => f.endsWith('.pid'));
    } catch {
      continue;
    }
    for (const f of files) {
      let text: string;
      try {
        text = readFileSync(join(run, f), 'utf8');
      } catch {
        // Removed between the listing and the read: the service stopped meanwhile (seen in CI,
        // the rollout kill loop's watcher sampling a node while it stopped).
        continue;
      }
      const pid = Number(text.trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) pids.push(pid);
    }
  }
  return pids;
}

// A test worker that dies without its afterAll must not leave servers behind.
process.once('exit', () => {
  for (const install of madeInstalls) signalAll(installPids(install), 'SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops every installation this module made (bin/stop_all, then SIGKILL of any pid still named
 * by its pid files) and removes their folders unless `keep`. Safe to call twice and after a
 * failed `make…`.
 */
export async function stopAll(opts: { keep?: boolean } = {}): Promise<void> {
  const skiff = await loadSkiff();
  await Promise.all(
    [...madeInstalls].map(async (install) => {
      if (madeVerdaccio.has(install)) await stopVerdaccioIn(install).catch(() => undefined);
      else if (installPids(install).length > 0)
        await skiff.stopInstallation(install).catch(() => undefined);
      const left = installPids(install);
      signalAll(left, 'SIGKILL');
      const deadline = Date.now() + 5_000;
      while (left.some(isAlive) && Date.now() < deadline) await sleep(50);
    }),
  );
  madeInstalls.clear();
  madeVerdaccio.clear();
  if (opts.keep) return;
  await Promise.all(
    [...madeRoots].map((r) => rm(r, { recursive: true, force: true, maxRetries: 5 })),
  );
  madeRoots.clear();
}

// ---------------------------------------------------------------------------------------------
// The cached packs of a version pair.

/** SHA-256 of every file under `dirs` (paths and contents): what the packs are built from. */
function sourcesDigest(dirs: string[]): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules' || name === 'dist') continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(`${relative(repoRoot, p)}\0`).update(readFileSync(p));
    }
  };
  for (const d of dirs) walk(join(repoRoot, d));
  return h.digest('hex').slice(0, 16);
}

/** What upgrades a skiff installation from `from` to `to`, built once and shared read-only. */
export interface SkiffPacks {
  from: string;
  to: string;
  /** The signed packs of every hop, under the file names the plan gives them (`--packs`). */
  packs: string;
  /** The public key that signed them (`--trust`). */
  trust: string;
  /** A stopped sample installation at `from` (accounts, uploads, tracking rows, customer edits): copy it, never change it. */
  template: string;
  /** The release trees of every version on the way (`<releases>/<releaseSlug(v)>`). */
  releases: string;
  hops: { from: string; to: string }[];
}

/**
 * The packs, trust file and template installation for `from` → `to`, from the cache
 * (`$UPLIFT_TEST_CACHE` or node_modules/.cache/uplift-test), keyed by the versions and a digest
 * of skiff's sources, its profile and uplift's pack code; built on first use.
 */
export async function cachedSkiffPacks(from: string, to: string): Promise<SkiffPacks> {
  const digest = sourcesDigest(['products/skiff/src', 'profiles/skiff', 'src/pack', 'src/signing']);
  const slug = (v: string) => v.replace(/[^A-Za-z0-9.]+/g, '_');
  const dir = join(testCacheDir(), `skiff-packs-${slug(from)}-to-${slug(to)}-${digest}`);
  await cachedFolder(dir, async (work) => {
    const fx = await buildApplyFixture(work, from, to, {}, {});
    await writeFile(join(work, 'hops.json'), `${JSON.stringify(fx.hops)}\n`);
    // The sample's releases folder (only `from`'s tree) is not needed once it is installed.
    await rm(join(work, 'sample/releases'), { recursive: true, force: true });
  });
  return {
    from,
    to,
    packs: join(dir, 'packs'),
    trust: join(dir, 'keys/vendor.pub'),
    template: join(dir, 'sample/install'),
    releases: join(dir, 'releases'),
    hops: JSON.parse(readFileSync(join(dir, 'hops.json'), 'utf8')),
  };
}

// ---------------------------------------------------------------------------------------------
// Installations.

function copyTree(from: string, to: string): void {
  const r = spawnSync('cp', ['-a', from, to], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cp -a ${from} ${to} failed: ${r.stderr}`);
}

/** Sets `key=value` in a properties file, replacing the line that sets it (or appending one). */
async function setProperty(file: string, key: string, value: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const line = new RegExp(`^${key.replace(/\./g, '\\.')}=.*$`, 'm');
  await writeFile(
    file,
    line.test(text) ? text.replace(line, `${key}=${value}`) : `${text}${key}=${value}\n`,
  );
}

/** A node of a fixture: one installation in its own folder (its uplift state folder beside it). */
export interface FixtureNode {
  /** `n1`, `n2`, …: the node's name in the topology. */
  name: string;
  /** The installation folder (`<root>/<name>/install`). */
  install: string;
  /** The loopback port the product listens on, pinned in its configuration (kept across restarts and upgrades). */
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
}

export interface SkiffCluster extends SkiffPacks {
  /** The scratch folder holding the nodes (memory-backed where /dev/shm exists). */
  root: string;
  nodes: FixtureNode[];
  /** This cluster's nodes as a deployment of `writeTopology` (`type` and more given by the caller). */
  deployment(
    d: { name: string; type: DeploymentType } & Partial<TopologyDeploymentSpec>,
  ): TopologyDeploymentSpec;
  /** Stops this cluster's processes and removes its folder. */
  dispose(): Promise<void>;
}

/**
 * `nodes` real skiff installations at `from`, copies of the cached sample, each in
 * `<root>/n<i>/install` with `http.port` pinned to a free loopback port in conf/skiff.properties
 * (a customer edit the upgrade's merge keeps), started when `running` (all at once, each waits
 * for /health), plus the packs and trust file for `from` → `to`. `dir` is the parent of the
 * scratch root (default /dev/shm or the temporary folder).
 */
export async function makeSkiffCluster(o: {
  nodes: number;
  from: string;
  to: string;
  running: boolean;
  dir?: string;
}): Promise<SkiffCluster> {
  const [packs, skiff] = await Promise.all([cachedSkiffPacks(o.from, o.to), loadSkiff()]);
  const root = await scratchRoot(o.dir ? join(o.dir, 'cluster-') : 'uplift-cluster-');
  madeRoots.add(root);
  const nodes: FixtureNode[] = [];
  for (let i = 1; i <= o.nodes; i++) {
    const name = `n${i}`;
    await mkdir(join(root, name));
    const install = join(root, name, 'install');
    copyTree(packs.template, install);
    madeInstalls.add(install);
    const port = await freePort();
    await setProperty(join(install, 'conf/skiff.properties'), 'http.port', String(port));
    nodes.push({ name, install, port, url: `http://127.0.0.1:${port}` });
  }
  if (o.running) await Promise.all(nodes.map((n) => skiff.startInstallation(n.install)));
  const cluster: SkiffCluster = {
    ...packs,
    root,
    nodes,
    deployment: (d) => ({
      profile: 'skiff',
      to: o.to,
      packs: packs.packs,
      trust: packs.trust,
      nodes: nodes.map((n) => ({ name: n.name, at: n.install })),
      ...d,
    }),
    dispose: async () => {
      await stopInstalls(
        skiff,
        nodes.map((n) => n.install),
      );
      madeRoots.delete(root);
      await rm(root, { recursive: true, force: true, maxRetries: 5 });
    },
  };
  return cluster;
}

async function stopInstalls(skiff: SkiffApi, installs: string[]): Promise<void> {
  await Promise.all(
    installs.map(async (install) => {
      if (installPids(install).length > 0)
        await skiff.stopInstallation(install).catch(() => undefined);
      signalAll(installPids(install), 'SIGKILL');
      madeInstalls.delete(install);
    }),
  );
}

/**
 * `count` stopped copies of one skiff installation at `version` (the cached sample), for the
 * bench: `<root>/n<i>/install`, made with `cp -a` (hard links would share the files uplift
 * writes beside them, so they are full copies). `uplift facts` and `uplift check` read them.
 */
export async function makeBareNodes(
  count: number,
  opts: { version?: string; to?: string; dir?: string } = {},
): Promise<{ root: string; nodes: FixtureNode[]; packs: SkiffPacks; dispose(): Promise<void> }> {
  const version = opts.version ?? SKIFF_ONE_HOP.from;
  const packs = await cachedSkiffPacks(version, opts.to ?? SKIFF_ONE_HOP.to);
  const root = await scratchRoot(opts.dir ? join(opts.dir, 'bare-') : 'uplift-bare-');
  madeRoots.add(root);
  const nodes: FixtureNode[] = [];
  // Each cp -a is its own process: run a few at once.
  const batch = 8;
  for (let i = 0; i < count; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, async (_, k) => {
        const name = `n${i + k + 1}`;
        await mkdir(join(root, name));
        const install = join(root, name, 'install');
        await new Promise<void>((done, fail) => {
          const child = spawn('cp', ['-a', packs.template, install], { stdio: 'ignore' });
          child.on('error', fail);
          child.on('close', (code: number) =>
            code === 0 ? done() : fail(new Error(`cp -a to ${install} failed (${code})`)),
          );
        });
        nodes[i + k] = { name, install, port: 0, url: '' };
      }),
    );
  }
  return {
    root,
    nodes,
    packs,
    dispose: async () => {
      madeRoots.delete(root);
      await rm(root, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Verdaccio: the second product.

/** What upgrades a Verdaccio installation from `from` to `to`: built once, shared read-only. */
export interface VerdaccioPacks {
  from: string;
  to: string;
  /** The signed delta pack (`--packs`). */
  packs: string;
  trust: string;
  /** profiles/verdaccio with the pack listed in its catalog: copy it per deployment (an installation records the folder it was upgraded with). */
  profile: string;
  /** `uplift release-tree make` of the npm install of `from` (its manifest.json is an installation's vendor manifest). */
  fromTree: string;
}

async function run(args: string[]): Promise<unknown> {
  const r = await upliftAsync([...args, '--json']);
  if (r.code !== 0) throw new Error(`uplift ${args.slice(0, 2).join(' ')}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * The vendor side of verdaccio-upgrade.test.ts, cached: release trees of both npm installs, a
 * signing key, the signed delta pack and a copy of profiles/verdaccio listing it.
 */
export async function cachedVerdaccioPacks(
  from = VERDACCIO_FROM,
  to = VERDACCIO_TO,
): Promise<VerdaccioPacks> {
  const digest = sourcesDigest(['profiles/verdaccio', 'src/pack', 'src/signing']);
  const platform = platformId();
  const packName = `verdaccio-${to}-from-${from}_${platform}.upk`;
  const dir = join(testCacheDir(), `verdaccio-packs-${from}-to-${to}-${digest}`);
  await cachedFolder(dir, async (work) => {
    const [fromNpm, toNpm] = await Promise.all([verdaccioRelease(from), verdaccioRelease(to)]);
    const pair = generateKeyPair();
    await mkdir(join(work, 'keys'));
    await writeKeyPair(pair, join(work, 'keys/release'));
    copyTree(join(repoRoot, 'profiles/verdaccio'), join(work, 'profile'));
    await Promise.all(
      [
        [from, fromNpm],
        [to, toNpm],
      ].map(([version, source]) =>
        run(
          releaseTreeMakeArgs(
            {
              source: source as string,
              product: 'verdaccio',
              version: version as string,
              out: join(work, 'rel', version as string),
            },
            '--platform',
            platform,
          ),
        ),
      ),
    );
    await mkdir(join(work, 'packs'));
    const pack = (await run(
      deltaPackArgs({
        fromTree: join(work, 'rel', from),
        toTree: join(work, 'rel', to),
        platform,
        key: join(work, 'keys/release.key'),
        out: join(work, 'packs', packName),
        profile: join(work, 'profile'),
      }),
    )) as { bytes: number; sha256: string };
    listPackInCatalog(join(work, 'profile/catalog.yaml'), to, {
      platform,
      file: packName,
      size: pack.bytes,
      sha256: pack.sha256,
      from,
    });
    // The trees' files are only needed to build the pack; an installation needs the manifest.
    await rm(join(work, 'rel', to), { recursive: true, force: true });
    await rm(join(work, 'rel', from, 'tree'), { recursive: true, force: true });
  });
  return {
    from,
    to,
    packs: join(dir, 'packs'),
    trust: join(dir, 'keys/release.pub'),
    profile: join(dir, 'profile'),
    fromTree: join(dir, 'rel', from),
  };
}

export interface VerdaccioDeployment extends VerdaccioPacks {
  root: string;
  /** This deployment's own copy of the profile (the topology's `profile`). */
  profile: string;
  nodes: (FixtureNode & { instance: VerdaccioInstance })[];
  /** The account every node has: what apply's smoke test publishes as. */
  user: string;
  password: string;
  /** The environment apply (and a rollout) needs for the smoke test of every node. */
  env: Record<string, string>;
  deployment(
    d: { name: string; type: DeploymentType } & Partial<TopologyDeploymentSpec>,
  ): TopologyDeploymentSpec;
  dispose(): Promise<void>;
}

/**
 * `nodes` real Verdaccio installations at `from` (test/util/verdaccio.ts: the cached npm install,
 * a customised config.yaml on a free loopback port, one account with the same password on every
 * node, packages published with the npm CLI), each with its vendor manifest, running unless
 * `running` is false, plus the pack, trust file and profile folder that take them to `to`.
 * `publish: false` skips the npm publish (faster; the smoke test does not need it).
 */
export async function makeVerdaccioDeployment(o: {
  nodes: number;
  from?: string;
  to?: string;
  running?: boolean;
  publish?: boolean;
}): Promise<VerdaccioDeployment> {
  const packs = await cachedVerdaccioPacks(o.from, o.to);
  const root = await scratchRoot('uplift-verdaccio-fleet-');
  madeRoots.add(root);
  const profile = join(root, 'profiles/verdaccio');
  await mkdir(join(root, 'profiles'));
  copyTree(packs.profile, profile);
  const password = createHash('sha256').update(root).digest('hex').slice(0, 24);
  const instances = await Promise.all(
    Array.from({ length: o.nodes }, () =>
      startVerdaccio({
        version: packs.from,
        password,
        ...(o.publish === undefined ? {} : { publish: o.publish }),
      }),
    ),
  );
  const nodes = instances.map((instance, i) => {
    madeInstalls.add(instance.install);
    madeVerdaccio.add(instance.install);
    madeRoots.add(instance.dir);
    copyVendorManifest(packs.fromTree, instance.install);
    return {
      name: `n${i + 1}`,
      install: instance.install,
      port: instance.port,
      url: `http://127.0.0.1:${instance.port}`,
      instance,
    };
  });
  if (o.running === false) await Promise.all(instances.map((v) => v.stop()));
  const user = instances[0]?.user ?? 'uplift-test';
  return {
    ...packs,
    root,
    profile,
    nodes,
    user,
    password,
    env: { VERDACCIO_SMOKE_USER: user, VERDACCIO_SMOKE_PASSWORD: password },
    deployment: (d) => ({
      profile,
      to: packs.to,
      packs: packs.packs,
      trust: packs.trust,
      nodes: nodes.map((n) => ({ name: n.name, at: n.install })),
      ...d,
    }),
    dispose: async () => {
      await Promise.all(
        nodes.map(async (n) => {
          await n.instance.cleanup();
          madeInstalls.delete(n.install);
          madeVerdaccio.delete(n.install);
          madeRoots.delete(n.instance.dir);
        }),
      );
      madeRoots.delete(root);
      await rm(root, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// What a node says and what a client gets.

/** The installed version: skiff's `version` file, else the version of Verdaccio's package. */
export function nodeVersion(node: FixtureNode | string): string {
  const install = typeof node === 'string' ? node : node.install;
  const file = join(install, 'version');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const pkg = join(install, 'node_modules/verdaccio/package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/** Whether a process the installation's pid files name runs. */
export function isRunning(node: FixtureNode | string): boolean {
  return installPids(typeof node === 'string' ? node : node.install).length > 0;
}

/** The port a client reaches a node on: the pinned one, else the one the running server wrote. */
function portOf(node: FixtureNode | string): number | undefined {
  if (typeof node !== 'string') return node.port || undefined;
  for (const [file, re] of [
    [join(node, 'conf/skiff.properties'), /^http\.port=(\d+)$/m],
    [join(node, 'var/run/skiff.port'), /^(\d+)$/m],
  ] as const) {
    const m = re.exec(existsSync(file) ? readFileSync(file, 'utf8') : '');
    if (m && Number(m[1]) > 0) return Number(m[1]);
  }
  return undefined;
}

/** What skiff's GET /health through the node's port answers: status and version, or `undefined` when nothing healthy does. */
export function probe(
  node: FixtureNode | string,
  timeoutMs = 2_000,
): Promise<{ status: string; version: string } | undefined> {
  const port = portOf(node);
  if (!port) return Promise.resolve(undefined);
  return new Promise((done) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/health', timeout: timeoutMs, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => {
          try {
            done(res.statusCode === 200 ? JSON.parse(body) : undefined);
          } catch {
            done(undefined);
          }
        });
      },
    );
    req.on('error', () => done(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// uplift.yaml

export type DeploymentType =
  | 'standalone'
  | 'standard-cluster'
  | 'enterprise-cluster'
  | 'streaming'
  | 'active-passive'
  | 'rolling';

export interface TopologyNodeSpec {
  name: string;
  /** An absolute path, or `ssh://user@host:port/path`. */
  at: string;
  hostKey?: string;
  knownHosts?: string;
  identity?: string;
  role?: 'backend' | 'edge';
  side?: 'a' | 'b';
  [more: string]: unknown;
}

export interface TopologyDeploymentSpec {
  name: string;
  type: DeploymentType;
  /** A profile name or folder. */
  profile: string;
  to: string;
  packs?: string;
  trust?: string;
  nodes: TopologyNodeSpec[];
  /** Anything else the topology takes (balancer, rolling, afterStart, concurrency, …), written as given. */
  [more: string]: unknown;
}

export interface TopologyEnvironmentSpec {
  name: string;
  deployments: TopologyDeploymentSpec[];
}

/** The text of an `uplift.yaml` (format 1) for `envs`, in promotion order. */
export function topologyText(envs: TopologyEnvironmentSpec[]): string {
  const drop = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const doc = {
    topology: 1,
    environments: envs.map((e) => ({
      name: e.name,
      deployments: e.deployments.map(({ name, type, profile, to, packs, trust, nodes, ...more }) =>
        drop({
          name,
          type,
          profile,
          to,
          packs,
          trust,
          ...more,
          nodes: nodes.map((n) => drop({ ...n })),
        }),
      ),
    })),
  };
  return stringify(doc, { lineWidth: 0 });
}

/** Writes `file` as an `uplift.yaml` naming `envs`; the one place the fixtures write a topology. */
export async function writeTopology(
  file: string,
  envs: TopologyEnvironmentSpec[],
): Promise<string> {
  await writeFile(file, topologyText(envs));
  return file;
}

/**
 * The cheapest skiff upgrade that still stops, switches and starts: one small delta pack with no
 * migration. `SKIFF_TWO_HOPS` goes through two packs.
 */
export const SKIFF_ONE_HOP = { from: '5.3.0 GA', to: '5.3.0 Patch 1' } as const;
export const SKIFF_TWO_HOPS = { from: '5.2.1 GA', to: '5.3.0 GA' } as const;
