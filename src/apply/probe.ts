import { randomBytes, scrypt } from 'node:crypto';
import { lstat, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { findRunningProcesses } from '../backup/index.ts';
import { UpliftError } from '../errors/index.ts';

/**
 * How apply checks that a started version works. Every product: a live process in each
 * `var/run/*.pid` file. skiff also: `GET /health` on the port it wrote to `var/run/skiff.port`
 * answers 200 with the new version, and the smoke test (upload, download, tracked, delete).
 * Test hook: `UPLIFT_TEST_PROBE=fail` fails the probe, `=hang` points it at a listener that never
 * answers (the probe's timeout must end it).
 */
export interface ProbeResult {
  pids: number[];
  url?: string;
  version?: string;
  seconds: number;
}

export function probeTimeoutMs(): number {
  const v = Number(process.env.UPLIFT_PROBE_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 30_000;
}

function readProps(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith('!')) continue;
    const i = t.search(/[=:]/);
    if (i > 0) m.set(t.slice(0, i).trim(), t.slice(i + 1).trim());
  }
  return m;
}

async function skiffUrl(install: string): Promise<string | undefined> {
  const port = Number(
    (await readFile(join(install, 'var/run/skiff.port'), 'utf8').catch(() => '')).trim(),
  );
  if (!Number.isInteger(port) || port <= 0) return undefined;
  const props = readProps(
    await readFile(join(install, 'conf/skiff.properties'), 'utf8').catch(() => ''),
  );
  if (props.get('tls.enabled') === 'true') return undefined;
  return `http://${props.get('http.host') || '127.0.0.1'}:${port}`;
}

interface HttpResult {
  status: number;
  body: Buffer;
}

function http(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer; timeoutMs: number },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, timeout: opts.timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A listener that accepts and never answers: the injected hanging health endpoint. */
async function hangingListener(): Promise<{ server: Server; url: string }> {
  const server = createServer(() => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { server, url: `http://127.0.0.1:${port}` };
}

/** Waits until the started version is up: pids alive and (skiff) /health answers with `version`. */
export async function probeService(
  install: string,
  product: string,
  version: string,
): Promise<ProbeResult> {
  const started = performance.now();
  const timeoutMs = probeTimeoutMs();
  const end = Date.now() + timeoutMs;
  const inject = process.env.UPLIFT_TEST_PROBE;
  if (inject === 'fail')
    throw new UpliftError(
      'UPLIFT_APPLY_PROBE_FAILED',
      'the health probe failed (injected by UPLIFT_TEST_PROBE=fail)',
    );
  let hang: { server: Server; url: string } | undefined;
  if (inject === 'hang') hang = await hangingListener();
  let last = 'no process is running';
  try {
    for (;;) {
      const pids = (await findRunningProcesses(install)).map((p) => p.pid);
      if (pids.length > 0) {
        if (product !== 'skiff') return { pids, seconds: elapsed(started) };
        const url = hang?.url ?? (await skiffUrl(install));
        if (url) {
          try {
            const r = await http(`${url}/health`, { timeoutMs: Math.max(100, end - Date.now()) });
            const health = JSON.parse(r.body.toString('utf8')) as { version?: string };
            if (r.status === 200 && health.version === version)
              return { pids, url, version: health.version, seconds: elapsed(started) };
            last = `${url}/health answered ${r.status} with version ${health.version ?? '(none)'}, expected ${version}`;
          } catch (err) {
            last = `${url}/health: ${(err as Error).message}`;
          }
        } else last = 'var/run/skiff.port names no port';
      }
      if (Date.now() >= end)
        throw new UpliftError(
          'UPLIFT_APPLY_PROBE_FAILED',
          `the health probe failed after ${timeoutMs / 1000} s: ${last}`,
          {
            hint: 'Read the service log under var/log of the failed generation kept beside the installation.',
          },
        );
      await sleep(200);
    }
  } finally {
    hang?.server.close();
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started) / 1000;
}

function scryptHash(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, 32, { N: 16384, r: 8, p: 1 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/**
 * skiff's smoke test: a temporary account (added to conf/accounts.json the way skiff's own
 * tooling does), a file uploaded, downloaded byte for byte, seen in /transfers, deleted; then every
 * trace removed: the account file's exact bytes back, the account's data folder and tracking rows
 * gone. The transfer stays in var/log/xferlog, the audit trail. Other products: nothing to do.
 */
export async function smokeTest(
  install: string,
  product: string,
  url: string | undefined,
): Promise<{ checked: string[] }> {
  if (product !== 'skiff' || url === undefined) return { checked: [] };
  const accountsFile = join(install, 'conf/accounts.json');
  const original = await readFile(accountsFile);
  const mode = (await lstat(accountsFile)).mode & 0o7777;
  const name = `uplift-smoke-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const salt = randomBytes(16);
  const hash = await scryptHash(password, salt);
  const parsed = JSON.parse(original.toString('utf8')) as { accounts: unknown[] };
  parsed.accounts.push({
    name,
    salt: salt.toString('hex'),
    hash: hash.toString('hex'),
    scrypt: { N: 16384, r: 8, p: 1 },
  });
  const replaceAccounts = async (bytes: Buffer | string) => {
    const tmp = `${accountsFile}.uplift-${process.pid}`;
    await writeFile(tmp, bytes, { mode });
    await rename(tmp, accountsFile);
  };
  const auth = { authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` };
  const body = randomBytes(4096);
  const fail = (what: string) =>
    new UpliftError('UPLIFT_APPLY_SMOKE_FAILED', `the smoke test failed: ${what}`, {
      hint: 'Read var/log/server.log of the failed generation kept beside the installation.',
    });
  const timeoutMs = 15_000;
  try {
    await replaceAccounts(`${JSON.stringify(parsed, null, 2)}\n`);
    const put = await http(`${url}/files/uplift-smoke.bin`, {
      method: 'PUT',
      headers: auth,
      body,
      timeoutMs,
    });
    if (put.status !== 201)
      throw fail(`upload answered ${put.status}: ${put.body.toString('utf8').slice(0, 200)}`);
    const get = await http(`${url}/files/uplift-smoke.bin`, { headers: auth, timeoutMs });
    if (get.status !== 200 || !get.body.equals(body))
      throw fail(`download answered ${get.status} with other bytes`);
    let tracked = false;
    for (let i = 0; i < 25 && !tracked; i++) {
      const t = await http(`${url}/transfers`, { headers: auth, timeoutMs });
      // The upload and the download: the server records each just after it answers.
      tracked = t.status === 200 && t.body.toString('utf8').split('uplift-smoke.bin').length > 2;
      if (!tracked) await sleep(100);
    }
    if (!tracked) throw fail('the upload and the download are not both in /transfers');
    const del = await http(`${url}/files/uplift-smoke.bin`, {
      method: 'DELETE',
      headers: auth,
      timeoutMs,
    });
    if (del.status !== 204) throw fail(`delete answered ${del.status}`);
    return { checked: ['upload', 'download', 'tracked', 'delete'] };
  } finally {
    await replaceAccounts(original);
    await rm(join(install, 'data', name), { recursive: true, force: true });
    await removeTrackingRows(join(install, 'var/db/skiff.db'), name);
  }
}

async function removeTrackingRows(dbFile: string, account: string): Promise<void> {
  const db = new Database(dbFile, { timeout: 5000 });
  try {
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    ).map((t) => t.name);
    for (const t of ['file_tracking', 'transfers'])
      if (tables.includes(t)) db.prepare(`DELETE FROM ${t} WHERE account = ?`).run(account);
  } finally {
    db.close();
  }
}
