// biome-ignore-all lint/suspicious/noTemplateCurlyInString: profile strings hold ${...} variables literally
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert } from '../../test/util/tls-cert.ts';
import {
  type LifecycleInput,
  type LifecycleTarget,
  runCheck,
  runCommand,
  runSmokeTests,
} from './index.ts';
import { Check, Lifecycle } from './schema.ts';

let root: string;
let install: string;
let http: Server;
let https: Server;
let httpUrl: string;
let httpsPort: number;
let fingerprint: string;
const seen: { method?: string; url?: string; auth?: string; body: string }[] = [];

function listen(server: Server): Promise<number> {
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () => done((server.address() as { port: number }).port)),
  );
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'uplift-lifecycle-check-'));
  install = join(root, 'install');
  await mkdir(join(install, 'conf'), { recursive: true });
  selfSignedCert(join(install, 'conf/key.pem'), join(install, 'conf/cert.pem'));
  const cert = await readFile(join(install, 'conf/cert.pem'), 'utf8');
  fingerprint = new X509Certificate(cert).fingerprint256;
  const handler = (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
  ) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      if (req.url === '/broken') {
        res.statusCode = 503;
        res.end(`maintenance ${'x'.repeat(500)}`);
      } else if (req.url === '/files/a.txt' && req.method === 'PUT') {
        res.statusCode = 201;
        res.end('stored');
      } else res.end(JSON.stringify({ status: 'ok', version: '2.0.0' }));
    });
  };
  http = createHttpServer(handler);
  https = createHttpsServer(
    { key: await readFile(join(install, 'conf/key.pem')), cert },
    handler,
  ) as unknown as Server;
  httpUrl = `http://127.0.0.1:${await listen(http)}`;
  httpsPort = await listen(https);
});

afterAll(async () => {
  http.close();
  https.close();
  await rm(root, { recursive: true, force: true });
});

function target(lifecycle: Partial<LifecycleInput> = {}): LifecycleTarget {
  return {
    install,
    profileDir: join(root, 'profile'),
    lifecycle: Lifecycle.parse({
      services: [{ name: 'server', start: { argv: ['true'] }, pidFile: 'var/run/x.pid' }],
      ...lifecycle,
    }),
    version: '2.0.0',
  };
}

const check = (c: unknown) => Check.parse(c);

describe('runCheck', () => {
  it('passes an http probe whose status and body match, and says what it got otherwise', async () => {
    const t = target();

    const ok = await runCheck(
      check({ http: { url: `${httpUrl}/health`, bodyMatch: '"version":"${version}"' } }),
      t,
      2000,
    );
    const wrongBody = await runCheck(
      check({ http: { url: `${httpUrl}/health`, bodyMatch: '"version":"9' } }),
      t,
      2000,
    );
    const wrongStatus = await runCheck(check({ http: { url: `${httpUrl}/broken` } }), t, 2000);

    expect(ok).toMatchObject({ ok: true, detail: expect.stringMatching(/answered 200 in \d+ ms/) });
    expect(wrongBody).toEqual({
      ok: false,
      detail: `GET ${httpUrl}/health answered 200, but its body does not match /"version":"9/: {"status":"ok","version":"2.0.0"}`,
    });
    expect(wrongStatus.ok).toBe(false);
    expect(wrongStatus.detail).toMatch(/answered 503 \(expected 200\): maintenance x{188}…$/);
  });

  it('sends method, headers, body and URL credentials, and never shows the password', async () => {
    const t = target();
    const url = httpUrl.replace('//', '//smoke:s3cret@');

    const r = await runCheck(
      check({
        http: {
          url: `${url}/nowhere`,
          method: 'POST',
          headers: { 'x-v': '${version}' },
          body: 'hi',
          status: 201,
        },
      }),
      t,
      2000,
    );

    expect(r.ok).toBe(false);
    expect(r.detail).toContain('POST http://***:***@127.0.0.1');
    expect(r.detail).not.toContain('s3cret');
    expect(seen.at(-1)).toEqual({
      method: 'POST',
      url: '/nowhere',
      auth: `Basic ${Buffer.from('smoke:s3cret').toString('base64')}`,
      body: 'hi',
    });
  });

  it('trusts an HTTPS server through a CA file, or a pinned certificate', async () => {
    const t = target();
    const url = `https://127.0.0.1:${httpsPort}/health`;

    const withCa = await runCheck(check({ http: { url, ca: 'conf/cert.pem' } }), t, 2000);
    const pinned = await runCheck(check({ http: { url, pinnedSha256: fingerprint } }), t, 2000);
    const pinnedLower = await runCheck(
      check({ http: { url, pinnedSha256: fingerprint.replaceAll(':', '').toLowerCase() } }),
      t,
      2000,
    );
    const untrusted = await runCheck(check({ http: { url } }), t, 2000);

    expect(withCa).toMatchObject({ ok: true });
    expect(pinned).toMatchObject({ ok: true });
    expect(pinnedLower).toMatchObject({ ok: true });
    expect(untrusted).toMatchObject({ ok: false, detail: expect.stringMatching(/self.signed/i) });
  });

  it('fails a wrong pin before sending the request', async () => {
    const t = target();
    const before = seen.length;
    const wrong = `${fingerprint.slice(0, -2)}${fingerprint.endsWith('00') ? '11' : '00'}`;

    const r = await runCheck(
      check({
        http: {
          url: `https://127.0.0.1:${httpsPort}/health`,
          headers: { authorization: 'Bearer t' },
          pinnedSha256: wrong,
        },
      }),
      t,
      2000,
    );

    expect(r.ok).toBe(false);
    expect(r.detail).toContain(
      `the server's certificate (SHA-256 ${fingerprint}) is not the pinned one`,
    );
    expect(seen.length).toBe(before);
  });

  it('probes a tcp port, given as a number or through a variable', async () => {
    const server = createTcpServer((s) => s.end());
    const port = await listen(server as unknown as Server);
    const closed = createTcpServer();
    const closedPort = await listen(closed as unknown as Server);
    closed.close();
    await writeFile(join(install, 'conf/port'), `${port}\nrest`);
    const t = target();

    const byNumber = await runCheck(check({ tcp: { port } }), t, 1000);
    const byFile = await runCheck(check({ tcp: { port: '${file:conf/port}' } }), t, 1000);
    const refused = await runCheck(check({ tcp: { port: closedPort } }), t, 1000);
    server.close();

    expect(byNumber).toMatchObject({ ok: true });
    expect(byFile).toEqual({ ok: true, detail: `tcp 127.0.0.1:${port} accepts connections` });
    expect(refused).toEqual({ ok: false, detail: `tcp 127.0.0.1:${closedPort}: ECONNREFUSED` });
  });

  it('passes a command probe that exits 0 and shows the output of one that does not', async () => {
    const t = target();

    const ok = await runCheck(check({ command: { argv: ['sh', '-c', 'echo fine'] } }), t, 2000);
    const bad = await runCheck(
      check({ command: { argv: ['sh', '-c', 'echo broken >&2; exit 3'] } }),
      t,
      2000,
    );
    const slow = await runCheck(check({ command: { argv: ['sleep', '5'] } }), t, 200);

    expect(ok).toEqual({ ok: true, detail: 'fine' });
    expect(bad).toEqual({ ok: false, detail: 'exited with 3: broken' });
    expect(slow).toEqual({
      ok: false,
      detail: 'exited with 137: (killed after 0.2 s: it took longer than its timeout)',
    });
  });
});

describe('runSmokeTests', () => {
  it('runs each test once, in order', async () => {
    const t = target({
      smoke: {
        tests: [
          {
            name: 'upload',
            http: { url: `${httpUrl}/files/a.txt`, method: 'PUT', body: 'data', status: 201 },
          },
          { command: { argv: ['sh', '-c', 'test -f conf/cert.pem'] } },
        ],
      },
    });

    const r = await runSmokeTests(t);

    expect(r).toEqual({ checked: ['upload', 'sh -c test -f conf/cert.pem'] });
  });

  it('stops at the first failure, naming the test and what it got', async () => {
    const t = target({
      smoke: {
        tests: [
          { name: 'health', http: { url: `${httpUrl}/broken` } },
          { name: 'never', command: { argv: ['false'] } },
        ],
      },
    });

    const err = await runSmokeTests(t).catch((e) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_APPLY_SMOKE_FAILED', unchanged: false });
    expect(err.message).toMatch(
      /^smoke test "health" failed: GET http:\/\/127.0.0.1:\d+\/broken answered 503 \(expected 200\): maintenance x+…$/,
    );
  });

  it('shows the output of a failing command test', async () => {
    const t = target({
      smoke: {
        tests: [
          { name: 'cli', command: { argv: ['sh', '-c', 'echo "login refused" >&2; exit 1'] } },
        ],
      },
    });

    await expect(runSmokeTests(t)).rejects.toMatchObject({
      code: 'UPLIFT_APPLY_SMOKE_FAILED',
      message: 'smoke test "cli" failed: exited with 1: login refused',
    });
  });
});

describe('runCommand', () => {
  it('expands argv, runs in cwd relative to the installation, resolves a relative program there and merges env', async () => {
    await mkdir(join(install, 'bin'), { recursive: true });
    await writeFile(
      join(install, 'bin/show'),
      '#!/bin/sh\necho "$PWD $1 $GREETING ${HOME:+home}"\n',
      { mode: 0o755 },
    );
    const t = target();

    const r = await runCommand(
      { argv: ['./show', '${version}'], cwd: 'bin', env: { GREETING: 'hello ${version}' } },
      t,
    );

    expect(r).toEqual({ code: 0, output: `${join(install, 'bin')} 2.0.0 hello 2.0.0 home` });
  });

  it('reports a program that does not exist as 127', async () => {
    const r = await runCommand({ argv: ['bin/nothing-here'] }, target());

    expect(r.code).toBe(127);
    expect(r.output).toContain(`cannot run ${join(install, 'bin/nothing-here')}`);
  });

  it('returns when the command exits even though a child it left behind holds its output', async () => {
    const started = Date.now();

    const r = await runCommand({ argv: ['sh', '-c', 'sleep 3 & echo started'] }, target(), {
      timeoutMs: 5000,
    });

    expect(r).toEqual({ code: 0, output: 'started' });
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
