import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startInstallation, stopInstallation } from '../src/index.ts';
import { insertTransfer, trackingSchema } from '../src/tracking.ts';
import { buildSkiff } from './build-skiff.ts';
import { call, makeInstallation, refusedPort, setSetting, stopAll, tempDir } from './helpers.ts';

const tmp = tempDir('server');
const installs: string[] = [];
const alice: [string, string] = ['alice', 'secret-a'];

beforeAll(() => buildSkiff());
afterAll(async () => {
  await stopAll(installs);
  tmp.cleanup();
});

async function installed(version: string, name: string): Promise<string> {
  const install = await makeInstallation(tmp.dir, version, name);
  installs.push(install);
  return install;
}

function rows(install: string, sql: string): unknown[] {
  const db = new Database(join(install, 'var/db/skiff.db'), { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

describe('skiff 5.3.0 Patch 1', () => {
  let install = '';
  let url = '';

  beforeAll(async () => {
    install = await installed('5.3.0 Patch 1', 'p1');
    ({ url } = await startInstallation(install));
  });

  it('starts with bin/start_all: pid file, port file, /health', async () => {
    const health = await call(url, 'GET', '/health');

    expect(health.status).toBe(200);
    expect(health.json()).toMatchObject({
      status: 'ok',
      version: '5.3.0 Patch 1',
      uptime: expect.any(Number),
    });
    expect(existsSync(join(install, 'var/run/skiff.pid'))).toBe(true);
    expect(url).toBe(
      `http://127.0.0.1:${readFileSync(join(install, 'var/run/skiff.port'), 'utf8').trim()}`,
    );
    expect((await call(url, 'GET', '/healthz')).status).toBe(404);
  });

  it('says so when started twice', async () => {
    const again = await startInstallation(install);

    expect(again.url).toBe(url);
    expect(again.output).toMatch(/already running/);
  });

  it('takes an upload and gives back the same bytes, tracked in transfers and xferlog', async () => {
    const body = randomBytes(200_000);

    const put = await call(url, 'PUT', '/files/in/report%20Q1.bin', { auth: alice, body });
    const got = await call(url, 'GET', '/files/in/report%20Q1.bin', { auth: alice });

    expect(put.status).toBe(201);
    expect(got.status).toBe(200);
    expect(got.body.equals(body)).toBe(true);
    expect(readFileSync(join(install, 'data/alice/in/report Q1.bin')).equals(body)).toBe(true);
    const sha256 = (put.json() as { sha256: string }).sha256;
    // The download is recorded once the server has sent its last byte: a moment after the client
    // may have it all.
    await vi.waitFor(() => {
      expect(
        rows(
          install,
          'SELECT account, path, size, sha256, direction, status FROM transfers ORDER BY id',
        ),
      ).toEqual([
        {
          account: 'alice',
          path: '/in/report Q1.bin',
          size: 200_000,
          sha256,
          direction: 'upload',
          status: 'ok',
        },
        {
          account: 'alice',
          path: '/in/report Q1.bin',
          size: 200_000,
          sha256,
          direction: 'download',
          status: 'ok',
        },
      ]);
      const log = readFileSync(join(install, 'var/log/xferlog'), 'utf8').trim().split('\n');
      expect(log).toEqual([
        expect.stringMatching(
          /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} \d+ 127\.0\.0\.1 200000 \/in\/report_Q1\.bin b _ i r alice http 0 \* c$/,
        ),
        expect.stringMatching(/ 200000 \/in\/report_Q1\.bin b _ o r alice http 0 \* c$/),
      ]);
      // A loaded CI machine (two cores, the whole suite at once) takes more than vi.waitFor's
      // default second to get the record written.
    }, 10_000);
  });

  it('lists, deletes and keeps accounts apart', async () => {
    await call(url, 'PUT', '/files/b.txt', { auth: alice, body: 'b' });

    const list = await call(url, 'GET', '/files/', { auth: alice });
    const del = await call(url, 'DELETE', '/files/b.txt', { auth: alice });
    const gone = await call(url, 'GET', '/files/b.txt', { auth: alice });

    expect(list.json()).toMatchObject({
      account: 'alice',
      files: [
        { path: '/b.txt', size: 1 },
        { path: '/in/report Q1.bin', size: 200_000 },
      ],
    });
    expect(del.status).toBe(204);
    expect(gone.status).toBe(404);
  });

  it.each([
    ['no credentials', undefined],
    ['a wrong password', ['alice', 'wrong'] as [string, string]],
    ['an unknown account', ['mallory', 'secret-a'] as [string, string]],
  ])('answers 401 to %s', async (_, auth) => {
    const r = await call(url, 'GET', '/files/', { auth });

    expect(r.status).toBe(401);
    expect(r.body.toString()).not.toContain('secret');
  });

  it.each([
    '/files/../conf/accounts.json',
    '/files/%2e%2e/%2e%2e/conf/accounts.json',
    '/files/in/../../bob/x',
    '/files//etc/passwd',
    '/files/a%00.txt',
    '/files/in%2f..%2f..%2fx',
  ])('answers 400 to %s', async (path) => {
    expect((await call(url, 'GET', path, { auth: alice })).status).toBe(400);
    expect((await call(url, 'PUT', path, { auth: alice, body: 'x' })).status).toBe(400);
  });

  it('ignores X-Skiff-Sha256 (checked only from 5.3.6 GA)', async () => {
    const r = await call(url, 'PUT', '/files/c.txt', {
      auth: alice,
      body: 'c',
      headers: { 'x-skiff-sha256': '00' },
    });

    expect(r.status).toBe(201);
  });

  it('stops with bin/stop_all, which removes the pid file', async () => {
    const pid = Number(readFileSync(join(install, 'var/run/skiff.pid'), 'utf8'));

    await stopInstallation(install);

    expect(existsSync(join(install, 'var/run/skiff.pid'))).toBe(false);
    expect(existsSync(join(install, 'var/run/skiff.port'))).toBe(false);
    expect(readFileSync(join(install, 'var/log/server.log'), 'utf8')).toMatch(
      /SIGTERM: stopping[\s\S]*stopped/,
    );
    expect(existsSync(`/proc/${pid}`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : ' Z ').toMatch(
      /\) [ZX] /,
    );
  });

  it('starts with the heap and port of conf/start-script.conf', async () => {
    const port = await refusedPort();
    setSetting(join(install, 'conf/start-script.conf'), 'HEAP_MB', '384');
    setSetting(join(install, 'conf/start-script.conf'), 'HTTP_PORT', String(port));

    const started = await startInstallation(install);

    expect(started.url).toBe(`http://127.0.0.1:${port}`);
    expect(readFileSync(`/proc/${started.pid}/cmdline`, 'utf8').split('\0')).toContain(
      '--max-old-space-size=384',
    );
    expect(
      (await call(started.url, 'GET', '/files/in/report%20Q1.bin', { auth: alice })).status,
    ).toBe(200);
  });

  it('refuses a start-script.conf value that is not a number, and starts nothing', async () => {
    await stopInstallation(install);
    setSetting(join(install, 'conf/start-script.conf'), 'HEAP_MB', '1g');

    await expect(startInstallation(install)).rejects.toMatchObject({
      code: 'SKIFF_START_FAILED',
      message: expect.stringContaining(
        "HEAP_MB in conf/start-script.conf must be a whole number, got '1g'",
      ),
    });
    expect(existsSync(join(install, 'var/run/skiff.pid'))).toBe(false);
  });
});

describe('skiff 5.3.3 GA', () => {
  it('tracks in file_tracking and does not see rows left in transfers', async () => {
    const install = await installed('5.3.3 GA', 'ga533');
    const db = new Database(join(install, 'var/db/skiff.db'));
    db.exec(trackingSchema({ trackingTable: 'transfers', folderQuotas: false }));
    insertTransfer(db, 'transfers', {
      account: 'alice',
      path: '/before-upgrade.csv',
      bytes: 5,
      sha256: 'ab',
      direction: 'in',
      status: 'completed',
      start: 1,
      end: 2,
    });
    db.close();
    const { url } = await startInstallation(install);

    await call(url, 'PUT', '/files/after.csv', { auth: alice, body: 'after' });
    const tracked = await call(url, 'GET', '/transfers', { auth: alice });

    expect(
      (tracked.json() as { transfers: { path: string }[] }).transfers.map((t) => t.path),
    ).toEqual(['/after.csv']);
    expect(
      rows(install, 'SELECT account, file_path, bytes, direction, status FROM file_tracking'),
    ).toEqual([
      { account: 'alice', file_path: '/after.csv', bytes: 5, direction: 'in', status: 'completed' },
    ]);
    expect(rows(install, 'SELECT path FROM transfers')).toEqual([{ path: '/before-upgrade.csv' }]);
  });
});

describe('outbound transfers when the proxy is down', () => {
  let partner: Server;
  let partnerUrl = '';
  const received: string[] = [];

  beforeAll(async () => {
    partner = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        received.push(`${req.method} ${req.url} ${body}`);
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((done) => partner.listen(0, '127.0.0.1', done));
    partnerUrl = `http://127.0.0.1:${(partner.address() as { port: number }).port}`;
  });
  afterAll(() => {
    partner.close();
  });

  async function sendWithDeadProxy(version: string, name: string) {
    const install = await installed(version, name);
    setSetting(join(install, 'conf/skiff.properties'), 'proxy.host', '127.0.0.1');
    setSetting(join(install, 'conf/skiff.properties'), 'proxy.port', String(await refusedPort()));
    const { url } = await startInstallation(install);
    await call(url, 'PUT', '/files/out.txt', { auth: alice, body: `from ${version}` });
    const sent = await call(url, 'POST', `/send/out.txt?to=${partnerUrl}/in/${name}.txt`, {
      auth: alice,
    });
    return { install, url, sent };
  }

  it('5.4 Patch 2 connects directly', async () => {
    const { sent, install } = await sendWithDeadProxy('5.4 Patch 2', 'p542');

    expect(sent.status).toBe(200);
    expect(sent.json()).toMatchObject({ via: 'direct', partnerStatus: 201 });
    expect(received).toContain('PUT /in/p542.txt from 5.4 Patch 2');
    // 5.4 runs its scheduler as a second process, which stop_all stops too.
    expect(existsSync(join(install, 'var/run/scheduler.pid'))).toBe(true);
    await stopInstallation(install);
    expect(existsSync(join(install, 'var/run/scheduler.pid'))).toBe(false);
  });

  it('5.5 GA fails the transfer unless Direct.Connection.When.Proxy.Down=true', async () => {
    const { sent, url, install } = await sendWithDeadProxy('5.5 GA', 'ga55');

    expect(sent.status).toBe(502);
    expect(sent.json()).toMatchObject({ code: 'SKIFF_PROXY_DOWN' });
    expect(received.some((r) => r.includes('ga55'))).toBe(false);
    expect(rows(install, "SELECT status FROM file_tracking WHERE direction = 'out'")).toEqual([
      { status: 'failed' },
    ]);
    expect((await call(url, 'GET', '/healthz')).status).toBe(200);

    await stopInstallation(install);
    setSetting(join(install, 'conf/skiff.properties'), 'Direct.Connection.When.Proxy.Down', 'true');
    const restarted = await startInstallation(install);
    const again = await call(restarted.url, 'POST', `/send/out.txt?to=${partnerUrl}/in/ga55.txt`, {
      auth: alice,
    });

    expect(again.json()).toMatchObject({ via: 'direct', partnerStatus: 201 });
  });

  it('5.5 GA rejects an upload whose X-Skiff-Sha256 does not match', async () => {
    const install = installs.find((i) => i.endsWith('ga55')) as string;
    const url = `http://127.0.0.1:${readFileSync(join(install, 'var/run/skiff.port'), 'utf8').trim()}`;

    const bad = await call(url, 'PUT', '/files/sum.txt', {
      auth: alice,
      body: 'abc',
      headers: { 'x-skiff-sha256': '00' },
    });
    const good = await call(url, 'PUT', '/files/sum.txt', {
      auth: alice,
      body: 'abc',
      headers: {
        'x-skiff-sha256': 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      },
    });

    expect(bad.status).toBe(422);
    expect(good.status).toBe(201);
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

// Under CI a missing openssl is a failure, not a skip: .ci/run installs it.
describe.skipIf(!hasOpenssl && process.env.CI !== 'true')('TLS', () => {
  async function withCertificate(
    version: string,
    name: string,
    protocols: string,
  ): Promise<string> {
    const install = await installed(version, name);
    execFileSync('mkdir', ['-p', join(install, 'conf/tls')]);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(install, 'conf/tls/server.key'),
        '-out',
        join(install, 'conf/tls/server.crt'),
      ],
      { stdio: 'ignore' },
    );
    setSetting(join(install, 'conf/skiff.properties'), 'tls.enabled', 'true');
    setSetting(join(install, 'conf/security.properties'), 'tls.protocols', protocols);
    return install;
  }

  function handshake(
    port: number,
    opts: { minVersion?: 'TLSv1.3'; maxVersion?: 'TLSv1.2' },
  ): Promise<string> {
    return new Promise((done, fail) => {
      const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
        done(s.getProtocol() ?? '');
        s.end();
      });
      s.on('error', fail);
    });
  }

  it('serves HTTPS with the protocols of conf/security.properties', async () => {
    const install = await withCertificate('5.3.0 Patch 1', 'tls530', 'TLSv1.2');
    const { url } = await startInstallation(install);
    const port = Number(new URL(url).port);

    const health = await new Promise<number>((done, fail) =>
      httpsGet(`${url}/health`, { rejectUnauthorized: false }, (r) => done(r.statusCode ?? 0)).on(
        'error',
        fail,
      ),
    );

    expect(url).toMatch(/^https:/);
    expect(health).toBe(200);
    expect(await handshake(port, {})).toBe('TLSv1.2');
    await expect(handshake(port, { minVersion: 'TLSv1.3' })).rejects.toThrow();
  });

  it('5.5 GA does not start with TLSv1.1 in tls.protocols', async () => {
    const install = await withCertificate('5.5 GA', 'tls55', 'TLSv1.1,TLSv1.2');

    await expect(startInstallation(install)).rejects.toMatchObject({ code: 'SKIFF_START_FAILED' });
    expect(readFileSync(join(install, 'var/log/server.log'), 'utf8')).toContain(
      'does not support "TLSv1.1"',
    );
    expect(existsSync(join(install, 'var/run/skiff.pid'))).toBe(false);
  });
});
