/**
 * Real Verdaccio installations for the tests of the `verdaccio` profile (profiles/verdaccio).
 *
 * - `verdaccioRelease(version)`: verdaccio@<version> installed from the npm registry with
 *   `npm ci --ignore-scripts` from the committed lockfile (test/fixtures/verdaccio/<version>/), into
 *   a cache folder reused between runs: `$UPLIFT_TEST_CACHE` or node_modules/.cache/uplift-test,
 *   keyed by the version and the lockfile's hash. Test files running at once share one install
 *   (cache-lock.ts: the first installs, the others wait for it).
 * - `startVerdaccio()`: an installation in a temporary folder laid out the way the profile reads it
 *   (package.json, node_modules/, config.yaml, htpasswd, storage/, logs/, run/), with a customised
 *   config.yaml on a free loopback port and one user, started detached with a pid file, and a few
 *   real packages published to it with the npm CLI.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cachedFolder } from './cache-lock.ts';
import { freePort } from './free-port.ts';

/** The checkout (run-cli.ts's repoRoot; not imported, so this helper loads without the CLI). */
const repoRoot = join(import.meta.dirname, '../..');

export const VERDACCIO_FROM = '5.33.0';
export const VERDACCIO_TO = '6.8.0';

const fixturesDir = join(repoRoot, 'test/fixtures/verdaccio');

/** The cache root: `$UPLIFT_TEST_CACHE`, else node_modules/.cache/uplift-test in the checkout. */
export function testCacheDir(): string {
  return process.env.UPLIFT_TEST_CACHE ?? join(repoRoot, 'node_modules/.cache/uplift-test');
}

/** The npm CLI shipped with the Node.js running the tests ([program, ...args]), else `npm`. */
export function npmCommand(): string[] {
  const bundled = join(dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js');
  return existsSync(bundled) ? [process.execPath, bundled] : ['npm'];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The folder holding verdaccio@<version>'s package.json, package-lock.json and node_modules/,
 * installed once per lockfile and reused. Safe to call from several test files at once.
 */
export async function verdaccioRelease(version: string): Promise<string> {
  const lock = await readFile(join(fixturesDir, version, 'package-lock.json'));
  const key = createHash('sha256').update(lock).digest('hex').slice(0, 16);
  return cachedFolder(
    join(testCacheDir(), `verdaccio-${version}-${key}`),
    async (work) => {
      for (const f of ['package.json', 'package-lock.json'])
        await writeFile(join(work, f), await readFile(join(fixturesDir, version, f)));
      const [program, ...lead] = npmCommand();
      const r = spawnSync(
        program as string,
        [...lead, 'ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
        { cwd: work, encoding: 'utf8', timeout: 5 * 60_000 },
      );
      if (r.status !== 0)
        throw new Error(`npm ci of verdaccio@${version} failed: ${r.stderr || r.error?.message}`);
    },
    { marker: 'node_modules/verdaccio/package.json' },
  );
}

/** The config.yaml of a test installation: Verdaccio's defaults, customised the way an operator does. */
export function testConfigYaml(listen: string): string {
  return `# Verdaccio of an uplift test (test/util/verdaccio.ts), customised from the shipped default.
storage: ./storage
plugins: ./plugins
listen: ${listen}
max_body_size: 25mb

web:
  title: uplift test registry
  enable: true

auth:
  htpasswd:
    file: ./htpasswd
    # No self-registration: accounts are made by the operator.
    max_users: -1

uplinks:
  npmjs:
    url: https://registry.npmjs.org/
    timeout: 10s

packages:
  '@uplift-test/*':
    access: $all
    publish: $authenticated
    unpublish: $authenticated
  '**':
    access: $all
    publish: $authenticated
    unpublish: $authenticated

server:
  keepAliveTimeout: 60

middlewares:
  audit:
    enabled: true

log: { type: stdout, format: json, level: warn }
`;
}

export interface VerdaccioInstance {
  /** The temporary folder holding the installation, the npm configuration and the packages. */
  dir: string;
  /** The installation: package.json, node_modules/, config.yaml, htpasswd, storage/, logs/, run/. */
  install: string;
  /** `http://127.0.0.1:PORT/` */
  url: string;
  port: number;
  user: string;
  password: string;
  /** The packages published, `name@version`. */
  published: string[];
  /** Runs the npm CLI against this registry, authenticated, in `cwd`. */
  npm(args: string[], cwd?: string): { status: number; stdout: string; stderr: string };
  /** Starts the installation's Verdaccio again (after stop()), waiting for /-/ping. */
  start(): Promise<void>;
  /** Stops the Verdaccio this helper started (SIGTERM, then SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** stop(), then removes the temporary folder. */
  cleanup(): Promise<void>;
}

/** Waits until GET <url>-/ping answers 200. */
export async function waitForPing(url: string, timeoutMs = 60_000, child?: ChildProcess) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(new URL('-/ping', url), { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (child && child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode})`);
    if (Date.now() > deadline) throw new Error(`verdaccio did not answer ${url}-/ping`);
    await sleep(200);
  }
}

/** Starts `${node} node_modules/verdaccio/bin/verdaccio` in `install` detached, the way the profile's run service does. */
export async function startVerdaccioIn(install: string, listen: string): Promise<number> {
  await mkdir(join(install, 'logs'), { recursive: true });
  await mkdir(join(install, 'run'), { recursive: true });
  const log = openSync(join(install, 'logs/verdaccio.log'), 'a');
  const child = spawn(
    process.execPath,
    ['node_modules/verdaccio/bin/verdaccio', '--config', 'config.yaml', '--listen', listen],
    { cwd: install, detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  child.unref();
  const pid = child.pid as number;
  await writeFile(join(install, 'run/verdaccio.pid'), `${pid}\n`);
  try {
    await waitForPing(`http://${listen}/`, 60_000, child);
  } catch (err) {
    const tail = await readFile(join(install, 'logs/verdaccio.log'), 'utf8').catch(() => '');
    throw new Error(`${(err as Error).message}\n${tail.split('\n').slice(-20).join('\n')}`);
  }
  return pid;
}

/** Stops the process of `install`'s run/verdaccio.pid: SIGTERM to its group, SIGKILL after 10 s. */
export async function stopVerdaccioIn(install: string): Promise<void> {
  const pid = Number(await readFile(join(install, 'run/verdaccio.pid'), 'utf8').catch(() => ''));
  if (!(pid > 0) || !isAlive(pid)) return;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      try {
        process.kill(pid, s);
      } catch {
        // gone
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) signal('SIGKILL');
  while (isAlive(pid)) await sleep(50);
}

/** A htpasswd line in the `{SHA}` form every Verdaccio htpasswd plugin verifies. */
export function htpasswdLine(user: string, password: string): string {
  const sha = createHash('sha1').update(password).digest('base64');
  return `${user}:{SHA}${sha}:autocreated by uplift tests\n`;
}

/** The packages published to every test registry: a scoped package in two versions and one depending on it. */
const PACKAGES = [
  { name: '@uplift-test/alpha', version: '1.0.0', deps: {} },
  { name: '@uplift-test/alpha', version: '1.1.0', deps: {} },
  { name: 'uplift-test-beta', version: '2.0.0', deps: { '@uplift-test/alpha': '^1.0.0' } },
];

/**
 * An installation of verdaccio@<version> (default 5.33.0) in a temporary folder, running, with
 * PACKAGES published to it by the npm CLI.
 */
export async function startVerdaccio(
  opts: {
    version?: string;
    publish?: boolean;
    /** The account's password (default random): one for every node of a deployment. */
    password?: string;
  } = {},
): Promise<VerdaccioInstance> {
  const version = opts.version ?? VERDACCIO_FROM;
  const release = await verdaccioRelease(version);
  const dir = await mkdtemp(join(tmpdir(), 'uplift-verdaccio-'));
  const install = join(dir, 'install');
  // A copy, not links: an upgrade rewrites the installation and must never touch the cache.
  execFileSync('cp', ['-a', release, install]);
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const url = `http://${listen}/`;
  const user = 'uplift-test';
  const password = opts.password ?? randomBytes(12).toString('hex');
  await writeFile(join(install, 'config.yaml'), testConfigYaml(listen));
  await writeFile(join(install, 'htpasswd'), htpasswdLine(user, password), { mode: 0o600 });
  await mkdir(join(install, 'storage'), { recursive: true });

  await startVerdaccioIn(install, listen);

  // npm's configuration and cache live beside the installation, never in the user's home.
  const npmrc = join(dir, 'npmrc');
  const env = {
    ...process.env,
    npm_config_userconfig: npmrc,
    npm_config_cache: join(dir, 'npm-cache'),
    npm_config_registry: url,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  const npm = (args: string[], cwd = dir) => {
    const [program, ...lead] = npmCommand();
    const r = spawnSync(program as string, [...lead, ...args], {
      cwd,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };

  const instance: VerdaccioInstance = {
    dir,
    install,
    url,
    port,
    user,
    password,
    published: [],
    npm,
    start: async () => {
      await startVerdaccioIn(install, listen);
    },
    stop: () => stopVerdaccioIn(install),
    cleanup: async () => {
      await stopVerdaccioIn(install);
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    const basic = Buffer.from(`${user}:${password}`).toString('base64');
    const res = await fetch(new URL(`-/user/org.couchdb.user:${user}`, url), {
      method: 'PUT',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: user, password }),
    });
    const body = (await res.json()) as { token?: string };
    if (!body.token) throw new Error(`login to ${url} failed: HTTP ${res.status}`);
    await writeFile(npmrc, `registry=${url}\n//${listen}/:_authToken=${body.token}\n`, {
      mode: 0o600,
    });

    if (opts.publish !== false) {
      for (const p of PACKAGES) {
        const pkgDir = join(dir, 'packages', `${p.name.replace('/', '+')}-${p.version}`);
        await mkdir(pkgDir, { recursive: true });
        const manifest = {
          name: p.name,
          version: p.version,
          description: `uplift test package ${p.name}`,
          main: 'index.js',
          license: 'MIT',
          dependencies: p.deps,
        };
        await writeFile(join(pkgDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
        await writeFile(
          join(pkgDir, 'index.js'),
          `module.exports = ${JSON.stringify(`${p.name}@${p.version}`)};\n`,
        );
        const r = npm(['publish'], pkgDir);
        if (r.status !== 0)
          throw new Error(`npm publish ${p.name}@${p.version} failed: ${r.stderr}`);
        instance.published.push(`${p.name}@${p.version}`);
      }
    }
  } catch (err) {
    await instance.cleanup();
    throw err;
  }
  return instance;
}

/** Installs `spec` (`name@range`) from the registry into a new project under `inst.dir`; returns the project. */
export async function npmInstallFrom(inst: VerdaccioInstance, spec: string): Promise<string> {
  const app = await mkdtemp(join(inst.dir, 'app-'));
  await writeFile(
    join(app, 'package.json'),
    '{ "name": "app", "version": "1.0.0", "private": true }\n',
  );
  const r = inst.npm(['install', spec, '--no-package-lock'], app);
  if (r.status !== 0) throw new Error(`npm install ${spec} failed: ${r.stderr}`);
  return app;
}

// `npx tsx test/util/verdaccio.ts` fills the cache with both releases (.ci/run does, before the suite).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const version of [VERDACCIO_FROM, VERDACCIO_TO])
    console.log(`verdaccio@${version}: ${await verdaccioRelease(version)}`);
}
