import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Real installations on disk for tests that read one: a skiff tree laid out as
 * products/skiff/layout.md says (with its vendor manifest in `.skiff/manifest.json`), and a
 * copy of the securetransport fixture. The skiff tree is written here rather than installed by
 * products/skiff so that each test knows every vendor byte and a unit test needs no build; its
 * `lib/server.js` is still a real program that runs. test/e2e/check.test.ts checks a release
 * that products/skiff built and installed.
 */

export interface TestInstall {
  /** A fresh temporary folder; the installation is its `skiff` or `securetransport` child. */
  root: string;
  install: string;
}

const fixtures = join(import.meta.dirname, '../fixtures');
const roots: string[] = [];
const children: ChildProcess[] = [];

/** Files a skiff release ships, by path; `lib/server.js` is a program that stays up until killed. */
function skiffRelease(version: string, properties: string): Record<string, string> {
  return {
    version: `${version}\n`,
    'bin/start_all': [
      '#!/bin/sh',
      'cd "$(dirname "$0")/.." || exit 1',
      'nohup node "$PWD/lib/server.js" >var/log/server.log 2>&1 &',
      'echo $! >var/run/skiff.pid',
      '',
    ].join('\n'),
    'bin/stop_all': [
      '#!/bin/sh',
      'cd "$(dirname "$0")/.." || exit 1',
      'for f in var/run/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" && rm -f "$f"; done',
      '',
    ].join('\n'),
    'lib/server.js': 'setInterval(() => {}, 1000);\n',
    'conf/skiff.properties': properties,
    'conf/start-script.conf': 'HEAP_MB=256\nHTTP_PORT=8080\n',
    'conf/security.properties': 'tls.protocols=TLSv1.2,TLSv1.3\n',
    'conf/crontab': '0 3 * * * bin/skiff-purge\n',
    'conf/accounts.json': '{ "accounts": [] }\n',
  };
}

export interface SkiffInstallOptions {
  version?: string;
  /** Extra lines of conf/skiff.properties (`db.type=postgresql`). */
  properties?: readonly string[];
}

/** A skiff installation of `version` (default 5.3.0 Patch 1), stopped, with its manifest. */
export async function makeSkiffInstall(opts: SkiffInstallOptions = {}): Promise<TestInstall> {
  const root = await newRoot();
  const install = join(root, 'skiff');
  const properties = ['http.port=8080', 'http.host=127.0.0.1', 'db.type=sqlite']
    .concat(opts.properties ?? [])
    .join('\n');
  const files = skiffRelease(opts.version ?? '5.3.0 Patch 1', `${properties}\n`);
  for (const [path, text] of Object.entries(files)) await put(install, path, text);
  const manifest = await Promise.all(
    Object.keys(files)
      .sort()
      .map(async (path) => {
        const bytes = await readFile(join(install, path));
        return {
          path,
          size: bytes.length,
          mode: path.startsWith('bin/') ? 0o755 : 0o644,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        };
      }),
  );
  await put(
    install,
    '.skiff/manifest.json',
    JSON.stringify({ product: 'skiff', version: opts.version ?? '5.3.0 Patch 1', files: manifest }),
  );
  await put(install, 'var/log/xferlog', '');
  await put(install, 'var/db/skiff.db', '');
  await mkdir(join(install, 'var/run'), { recursive: true });
  await mkdir(join(install, 'var/db/hist'), { recursive: true });
  await mkdir(join(install, 'data'), { recursive: true });
  return { root, install };
}

/**
 * A copy of the securetransport fixture (test/fixtures/securetransport-install, version
 * 5.3.6 Patch 2) without its leftover pid files, its Tomcat admin connector on `port`.
 */
export async function makeSecureTransportInstall(port = 8009): Promise<TestInstall> {
  const root = await newRoot();
  const install = join(root, 'securetransport');
  await cp(join(fixtures, 'securetransport-install/SecureTransport'), install, { recursive: true });
  await rm(join(install, 'var/run'), { recursive: true, force: true });
  await mkdir(join(install, 'var/run'), { recursive: true });
  const serverXml = join(install, 'tomcat/admin/conf/server.xml');
  const xml = await readFile(serverXml, 'utf8');
  await writeFile(serverXml, xml.replace('<Connector port="8009"', `<Connector port="${port}"`));
  return { root, install };
}

/** Writes a file of the installation, creating its folders. */
export async function put(install: string, path: string, text: string | Buffer): Promise<void> {
  await mkdir(dirname(join(install, path)), { recursive: true });
  await writeFile(join(install, path), text, {
    mode: path.startsWith('bin/') ? 0o755 : 0o644,
  });
}

/**
 * Starts the installation's server program as a real process (`node <install>/lib/server.js`)
 * and, when `pidFile` is given, records its pid there the way bin/start_all does.
 */
export async function startServer(install: string, pidFile?: string): Promise<number> {
  const script = join(install, 'lib/server.js');
  const exists = await stat(script).catch(() => undefined);
  if (exists === undefined) await put(install, 'lib/server.js', 'setInterval(() => {}, 1000);\n');
  const child = spawn(process.execPath, [script], { stdio: 'ignore' });
  children.push(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the test server');
  if (pidFile !== undefined) await put(install, pidFile, `${pid}\n`);
  return pid;
}

/** The pid of a process that has run and exited: what a pid file left by a crash holds. */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid;
}

/** Kills the processes this module started and removes the temporary folders. */
export async function cleanUp(): Promise<void> {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }
  await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
}

async function newRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'uplift-install-'));
  roots.push(root);
  return root;
}
