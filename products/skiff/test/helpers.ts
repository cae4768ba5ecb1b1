import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addAccount, buildReleaseTree, installRelease, stopInstallation } from '../src/index.ts';

/** A fresh temporary folder, removed with `cleanup()`. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `skiff-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Installs `version` into `<dir>/<name>` with one account `alice`/`secret-a`. */
export async function makeInstallation(
  dir: string,
  version: string,
  name = 'install',
): Promise<string> {
  const { tree } = buildReleaseTree(version, join(dir, 'releases'));
  const { install } = installRelease(tree, join(dir, name));
  await addAccount(join(install, 'conf/accounts.json'), 'alice', 'secret-a');
  return install;
}

/** Stops every installation given, ignoring the ones that never started. */
export async function stopAll(installs: readonly string[]): Promise<void> {
  await Promise.all(installs.map((i) => stopInstallation(i).catch(() => undefined)));
}

export interface Reply {
  status: number;
  body: Buffer;
  json: () => unknown;
}

/** One HTTP request with the raw path as given: fetch() would resolve `..` before sending it. */
export function call(
  url: string,
  method: string,
  path: string,
  opts: { auth?: [string, string]; body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth)
    headers.authorization = `Basic ${Buffer.from(opts.auth.join(':')).toString('base64')}`;
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body.toString()) });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sets `key=value` in a properties or KEY=VALUE file the way an operator edits it. */
export function setSetting(file: string, key: string, value: string): void {
  const text = readFileSync(file, 'utf8');
  const line = new RegExp(`^${key.replace(/\./g, '\\.')}\\s*=.*$`, 'm');
  writeFileSync(
    file,
    line.test(text) ? text.replace(line, `${key}=${value}`) : `${text}${key}=${value}\n`,
  );
}

/** A loopback port nothing listens on: bound once, then released. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}
