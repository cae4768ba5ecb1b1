import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import Database from 'better-sqlite3';
import { isProcessRunning } from './process-state.ts';
import { readReleaseInfo } from './release.ts';
import type { ReleaseManifest } from './release-tree.ts';
import type { Runtime } from './runtime.ts';
import { readProperties } from './settings.ts';
import { prepareDatabase } from './tracking.ts';
import { SkiffError } from './versions.ts';

/** The node_modules folder uplift itself loads better-sqlite3 from. */
function upliftNodeModules(): string {
  const entry = createRequire(import.meta.url).resolve('better-sqlite3');
  const marker = `${sep}node_modules${sep}`;
  return entry.slice(0, entry.lastIndexOf(marker) + marker.length - 1);
}

function runtimeFor(): Runtime {
  const runtime = { node: process.execPath, nodeModules: upliftNodeModules() };
  for (const value of Object.values(runtime)) {
    // bin/start_all reads runtime.json with sed, one plain string per line.
    if (/["\\\n]/.test(value))
      throw new Error(
        `cannot install skiff from a path with quotes, backslashes or newlines: ${value}`,
      );
  }
  return runtime;
}

/**
 * Installs a release tree (`<out>/<slug>/tree`, its manifest beside it) into `installDir`, which
 * must not exist yet: copies and verifies every file, creates var/ and data/, keeps the manifest
 * in .skiff/, records the runtime in .skiff/runtime.json and creates the version's database. It
 * works in a sibling folder and renames it at the end, so `installDir` appears complete or not at all.
 */
export function installRelease(
  treeDir: string,
  installDir: string,
): { install: string; version: string } {
  const install = resolve(installDir);
  if (existsSync(install)) {
    throw new SkiffError('SKIFF_NOT_EMPTY', `${install} already exists; install into a new folder`);
  }
  const manifestText = readFileSync(join(treeDir, '..', 'manifest.json'), 'utf8');
  const manifest = JSON.parse(manifestText) as ReleaseManifest;
  const staging = `${install}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    for (const f of manifest.files) {
      const bytes = readFileSync(join(treeDir, f.path));
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (bytes.length !== f.size || sha256 !== f.sha256) {
        throw new Error(
          `${join(treeDir, f.path)} does not match its manifest entry; rebuild the release tree`,
        );
      }
      const target = join(staging, f.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, bytes);
      chmodSync(target, f.mode);
    }
    for (const d of ['var/run', 'var/log', 'var/db/hist', 'var/tmp', 'data', '.skiff']) {
      mkdirSync(join(staging, d), { recursive: true });
    }
    writeFileSync(join(staging, 'var/log/xferlog'), '');
    writeFileSync(join(staging, '.skiff/manifest.json'), manifestText);
    writeFileSync(
      join(staging, '.skiff/runtime.json'),
      `${JSON.stringify(runtimeFor(), null, 2)}\n`,
    );
    const db = new Database(join(staging, 'var/db/skiff.db'));
    try {
      prepareDatabase(db, readReleaseInfo(staging).features);
    } finally {
      db.close();
    }
    mkdirSync(dirname(install), { recursive: true });
    renameSync(staging, install);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  return { install, version: manifest.version };
}

function readNumber(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The URL the running server answers on, from var/run/skiff.port and conf/skiff.properties. */
export function readServerUrl(install: string): string | undefined {
  const port = readNumber(join(install, 'var/run/skiff.port'));
  if (port === undefined) return undefined;
  const props = readProperties(join(install, 'conf/skiff.properties'));
  const scheme = props.get('tls.enabled') === 'true' ? 'https' : 'http';
  return `${scheme}://${props.get('http.host') || '127.0.0.1'}:${port}`;
}

export interface Health {
  status: string;
  version: string;
  uptime: number;
}

/** GET /health, or undefined when nothing healthy answers within `timeoutMs`. */
export function probeHealth(url: string, timeoutMs = 2000): Promise<Health | undefined> {
  return new Promise((done) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    // Only "is it up?": certificate checks are not this probe's business.
    const req = get(`${url}/health`, { timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => {
        try {
          done(res.statusCode === 200 ? (JSON.parse(body) as Health) : undefined);
        } catch {
          done(undefined);
        }
      });
    });
    req.on('error', () => done(undefined));
    req.on('timeout', () => req.destroy());
  });
}

export interface InstallationStatus {
  install: string;
  installed: boolean;
  version?: string;
  /** The server's pid when its process runs. */
  pid?: number;
  url?: string;
  /** True when /health answered. */
  healthy: boolean;
}

export async function getInstallationStatus(installDir: string): Promise<InstallationStatus> {
  const install = resolve(installDir);
  const versionFile = join(install, 'version');
  if (!existsSync(versionFile)) return { install, installed: false, healthy: false };
  const version = readFileSync(versionFile, 'utf8').trim();
  const pid = readNumber(join(install, 'var/run/skiff.pid'));
  if (pid === undefined || !isProcessRunning(pid))
    return { install, installed: true, version, healthy: false };
  const url = readServerUrl(install);
  const healthy = url !== undefined && (await probeHealth(url)) !== undefined;
  return { install, installed: true, version, pid, url, healthy };
}

function runScript(install: string, script: string): Promise<{ ok: boolean; output: string }> {
  // The server runs as in production, not under whatever loader or port the caller was given.
  const { NODE_OPTIONS: _o, NODE_PATH: _p, SKIFF_HTTP_PORT: _h, ...env } = process.env;
  return new Promise((done) => {
    execFile(
      join(install, 'bin', script),
      [],
      { cwd: install, env, timeout: 120_000 },
      (err, stdout, stderr) => done({ ok: !err, output: `${stdout}${stderr}`.trim() }),
    );
  });
}

/** Runs bin/start_all and returns the URL the server answers on. */
export async function startInstallation(
  installDir: string,
): Promise<{ url: string; pid: number; output: string }> {
  const install = resolve(installDir);
  const { ok, output } = await runScript(install, 'start_all');
  const url = readServerUrl(install);
  const pid = readNumber(join(install, 'var/run/skiff.pid'));
  if (!ok || !url || pid === undefined) {
    throw new SkiffError(
      'SKIFF_START_FAILED',
      `bin/start_all of ${install} failed: ${output || 'no output'}`,
    );
  }
  return { url, pid, output };
}

/** Runs bin/stop_all. */
export async function stopInstallation(installDir: string): Promise<{ output: string }> {
  const install = resolve(installDir);
  const { ok, output } = await runScript(install, 'stop_all');
  if (!ok)
    throw new SkiffError(
      'SKIFF_STOP_FAILED',
      `bin/stop_all of ${install} failed: ${output || 'no output'}`,
    );
  return { output };
}
