import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert } from '../../test/util/tls-cert.ts';
import { type OpenedStateStore, openStateStore } from '../state/index.ts';
import { createServeToken, type RunningServer, revokeServeToken, startServe } from './index.ts';

/**
 * `uplift serve`'s API on a real server (127.0.0.1, port 0) over a real SQLite state store, asked
 * with fetch as a browser or a script would: sign-in, roles, CSRF, rate limit, headers, live
 * events and TLS.
 */
const dir = mkdtempSync(join(tmpdir(), 'uplift-serve-'));
const stateFile = join(dir, 'state.db');
let store: OpenedStateStore;
let server: RunningServer;
let viewer: string;
let operator: string;

beforeAll(async () => {
  store = await openStateStore({ file: stateFile, env: {} });
  writeFileSync(
    join(dir, 'uplift.yaml'),
    'topology: 1\nenvironments:\n  - name: test\n    deployments:\n      - name: web\n        type: standalone\n        profile: skiff\n        to: "2.0.0"\n        nodes:\n          - name: n1\n            at: /nonexistent/uplift-serve-n1\n',
  );
  viewer = (await createServeToken(store, 'vera', 'viewer')).token;
  operator = (await createServeToken(store, 'otto', 'operator')).token;
  server = await startServe({
    store,
    listen: '127.0.0.1:0',
    controller: 'serve:test',
    topology: join(dir, 'uplift.yaml'),
    app: { pollMs: 50, heartbeatMs: 200 },
  });
});
afterAll(async () => {
  await server?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function login(token: string, base = server.url, f: typeof fetch = fetch) {
  const res = await f(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
  return { res, cookie, body: (await res.json()) as { csrfToken: string; role: string } };
}

const post = (path: string, headers: Record<string, string>, body: unknown = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('sign-in and access', () => {
  it('exchanges a token for an HttpOnly, SameSite=Strict session cookie, with strict headers', async () => {
    const { res, body } = await login(viewer);

    expect(res.status).toBe(200);
    expect(body).toMatchObject({ name: 'vera', role: 'viewer' });
    expect(res.headers.get('set-cookie')).toMatch(
      /^uplift_session=[\w-]{43}; Max-Age=28800; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('refuses a request without a session, and a wrong token, with 401 (headers still strict)', async () => {
    const none = await fetch(`${server.url}/api/runs`);
    const wrong = await login('not-a-token');

    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe(
      'UPLIFT_SERVE_UNAUTHENTICATED',
    );
    expect(none.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(wrong.res.status).toBe(401);
    expect(wrong.res.headers.get('set-cookie')).toBeNull();
  });

  it("refuses a viewer's operator action with 403 and audits it under the token's name", async () => {
    const { cookie, body } = await login(viewer);

    const res = await post(
      '/api/rollouts/dry-run',
      { cookie, 'x-csrf-token': body.csrfToken },
      { env: 'test' },
    );

    expect(res.status).toBe(403);
    const refused = (await store.listAudit()).filter((e) => e.action === 'serve.refused');
    expect(refused.at(-1)).toMatchObject({
      actor: 'vera',
      outcome: 'refused',
      controller: 'serve:test',
      detail: { path: '/api/rollouts/dry-run', role: 'viewer' },
    });
  });

  it('refuses a state-changing request without the CSRF header, or from another origin', async () => {
    const { cookie, body } = await login(operator);
    const before = (await store.listAudit()).length;

    const noHeader = await post('/api/rollouts/dry-run', { cookie }, { env: 'test' });
    const wrongHeader = await post(
      '/api/rollouts/dry-run',
      { cookie, 'x-csrf-token': 'x'.repeat(43) },
      { env: 'test' },
    );
    const foreign = await post(
      '/api/rollouts/dry-run',
      { cookie, 'x-csrf-token': body.csrfToken, origin: 'https://evil.example' },
      { env: 'test' },
    );
    const form = await fetch(`${server.url}/api/session`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
      },
      body: `token=${operator}`,
    });

    expect([noHeader.status, wrongHeader.status, foreign.status, form.status]).toEqual([
      403, 403, 403, 403,
    ]);
    expect(((await noHeader.json()) as { error: { code: string } }).error.code).toBe(
      'UPLIFT_SERVE_CSRF',
    );
    expect((await store.listAudit()).filter((e) => e.action === 'serve.dry-run').length).toBe(0);
    expect((await store.listAudit()).length).toBe(before);
  });

  it("runs an operator's dry run end to end: a node that cannot be surveyed is a coded error, audited", async () => {
    const { cookie, body } = await login(operator);

    const res = await post(
      '/api/rollouts/dry-run',
      { cookie, 'x-csrf-token': body.csrfToken },
      { env: 'test' },
    );
    const unknownEnv = await post(
      '/api/rollouts/dry-run',
      { cookie, 'x-csrf-token': body.csrfToken },
      { env: 'nope' },
    );

    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/^UPLIFT_/);
    expect(unknownEnv.status).toBe(400);
    const runs = (await store.listAudit()).filter((e) => e.action === 'serve.dry-run');
    expect(runs.map((e) => [e.actor, e.outcome])).toEqual([
      ['otto', 'failed'],
      ['otto', 'failed'],
    ]);
  });

  it('refuses a revoked token: at sign-in, and for the sessions it made', async () => {
    const { token } = await createServeToken(store, 'rita', 'viewer');
    const { cookie } = await login(token);
    expect((await fetch(`${server.url}/api/runs`, { headers: { cookie } })).status).toBe(200);

    await revokeServeToken(store, 'rita');

    expect((await fetch(`${server.url}/api/runs`, { headers: { cookie } })).status).toBe(401);
    expect((await login(token)).res.status).toBe(401);
    expect(
      (await fetch(`${server.url}/api/runs`, { headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(401);
  });

  it('stores tokens hashed: the database file holds no token', async () => {
    const bytes = readFileSync(stateFile).toString('latin1') + readWal();

    for (const t of [viewer, operator]) expect(bytes).not.toContain(t);
    expect((await store.listTokens()).map((t) => t.name)).toEqual(['otto', 'rita', 'vera']);
  });

  it('answers only to its own host names (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/api/runs`, { headers: { host: 'evil.example:80' } }, (r) =>
        resolve(r.statusCode ?? 0),
      );
      req.on('error', reject);
      req.end();
    });

    expect(status).toBe(421);
  });
});

function readWal(): string {
  try {
    return readFileSync(`${stateFile}-wal`).toString('latin1');
  } catch {
    return '';
  }
}

describe('reads', () => {
  it('lists runs, shows a run with node states and step timings, and searches and exports the audit', async () => {
    await store.startRun({
      id: 'r-read',
      env: 'test',
      deployments: ['web'],
      topologyDigest: 'sha256:t',
      controller: 'c',
      dryRun: false,
    });
    await store.setNodeState({ runId: 'r-read', deployment: 'web', node: 'n1', state: 'upgraded' });
    await store.recordStep({
      runId: 'r-read',
      deployment: 'web',
      node: 'n1',
      step: 'stop',
      seconds: 2,
    });
    await store.audit({
      actor: 'op@host',
      controller: 'c',
      runId: 'r-read',
      env: 'test',
      node: 'n1',
      action: 'node.stop',
      outcome: 'ok',
      detail: { note: '=cmd()' },
    });
    const { cookie } = await login(viewer);
    const get = async (path: string) => fetch(`${server.url}${path}`, { headers: { cookie } });

    const runs = (await (await get('/api/runs?env=test')).json()) as { runs: { id: string }[] };
    const run = (await (await get('/api/runs/r-read')).json()) as Record<string, unknown>;
    const found = (await (await get('/api/audit?q=NODE.STOP&env=test')).json()) as {
      entries: unknown[];
    };
    const csv = await get('/api/audit?run=r-read&format=csv');
    const missing = await get('/api/runs/nope');
    const bad = await get('/api/audit?format=xml');
    const fleet = (await (await get('/api/fleet')).json()) as {
      environments: { deployments: { nodes: { reachable: unknown }[] }[] }[];
    };

    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema(JSON.parse(readFileSync('schemas/api.schema.json', 'utf8')));
    const valid = (def: string, v: unknown) =>
      ajv.validate({ $ref: `https://uplift.invalid/schemas/api.schema.json#/$defs/${def}` }, v) ||
      ajv.errorsText();
    expect(valid('RunsResponse', runs)).toBe(true);
    expect(valid('RunResponse', run)).toBe(true);
    expect(valid('AuditResponse', found)).toBe(true);
    expect(valid('FleetResponse', fleet)).toBe(true);
    expect(runs.runs.map((r) => r.id)).toContain('r-read');
    expect(run).toMatchObject({
      run: { id: 'r-read', outcome: 'running' },
      nodes: [{ deployment: 'web', node: 'n1', state: 'upgraded' }],
      steps: [{ step: 'stop', seconds: 2 }],
    });
    expect(found.entries).toMatchObject([{ action: 'node.stop', actor: 'op@host' }]);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,at,actor,controller,runId,env,deployment,node,action,outcome,detail');
    expect(lines[1]).toContain('"node.stop","ok","{""note"":""=cmd()""}"');
    expect(missing.status).toBe(404);
    expect(bad.status).toBe(400);
    expect(fleet.environments[0]?.deployments[0]?.nodes[0]?.reachable).toBeNull();
  });
});

describe('live run events', () => {
  it('delivers a new audit row within a second, and resumes after Last-Event-ID with only newer rows', async () => {
    await store.startRun({
      id: 'r-live',
      env: 'test',
      deployments: ['web'],
      topologyDigest: 'sha256:t',
      controller: 'c',
      dryRun: false,
    });
    const { cookie } = await login(viewer);
    const first = openEvents(cookie, 'r-live');
    await first.ready;

    const written = Date.now();
    const row = await store.audit({
      actor: 'a',
      controller: 'c',
      runId: 'r-live',
      action: 'node.stop',
      outcome: 'ok',
    });
    const got = await first.next();
    const latency = Date.now() - written;
    first.close();
    const later = [
      await store.audit({
        actor: 'a',
        controller: 'c',
        runId: 'r-live',
        action: 'node.upgrade',
        outcome: 'ok',
      }),
      await store.audit({
        actor: 'a',
        controller: 'c',
        runId: 'r-live',
        action: 'node.start',
        outcome: 'ok',
      }),
    ];
    const again = openEvents(cookie, 'r-live', String(row.id));
    const resumed = [await again.next(), await again.next()];
    const heartbeat = await again.comment();
    again.close();

    expect(got.id).toBe(String(row.id));
    expect(JSON.parse(got.data)).toMatchObject({ action: 'node.stop', runId: 'r-live' });
    expect(latency).toBeLessThan(1000);
    expect(resumed.map((e) => e.id)).toEqual(later.map((e) => String(e.id)));
    expect(heartbeat).toBe(': heartbeat');
  });
});

/** An SSE client over fetch: the events of one run, one at a time. */
function openEvents(cookie: string, run: string, lastEventId?: string) {
  const abort = new AbortController();
  const events: { id: string; data: string }[] = [];
  const comments: string[] = [];
  let wake = () => {};
  const ready = fetch(`${server.url}/api/runs/${run}/events`, {
    headers: { cookie, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: abort.signal,
  }).then((res) => {
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    void (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          let end = buf.indexOf('\n\n');
          while (end >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            if (block.startsWith(':')) comments.push(block);
            const id = /^id: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (id !== undefined && data !== undefined) events.push({ id, data });
            wake();
            end = buf.indexOf('\n\n');
          }
        }
      } catch {
        // aborted
      }
    })();
  });
  const waitFor = async <T>(take: () => T | undefined): Promise<T> => {
    const deadline = Date.now() + 3000;
    for (;;) {
      const v = take();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error('no event within 3 s');
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  };
  return {
    ready,
    next: () => waitFor(() => events.shift()),
    comment: () => waitFor(() => comments.shift()),
    close: () => abort.abort(),
  };
}

describe('the server', () => {
  it('rate-limits failed sign-ins per address with 429 and Retry-After', async () => {
    const s = await startServe({
      store,
      listen: '127.0.0.1:0',
      controller: 'serve:test',
      app: { loginLimit: { failures: 3, windowMs: 60_000 } },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await login('wrong', s.url)).res.status);
      const right = await login(operator, s.url);

      expect(statuses).toEqual([401, 401, 401, 429]);
      expect(right.res.status).toBe(429);
      expect(Number(right.res.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });

  it('refuses a non-loopback address without TLS, before binding', async () => {
    await expect(
      startServe({ store, listen: '0.0.0.0:0', controller: 'serve:test' }),
    ).rejects.toMatchObject({ code: 'UPLIFT_SERVE_TLS_REQUIRED' });
    await expect(
      startServe({ store, listen: 'nohost', controller: 'serve:test' }),
    ).rejects.toMatchObject({ code: 'UPLIFT_SERVE_LISTEN_INVALID' });
  });

  it('serves HTTPS with a certificate: a Secure cookie and HSTS, trusted through its CA', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    selfSignedCert(key, cert);
    const s = await startServe({
      store,
      listen: '127.0.0.1:0',
      controller: 'serve:test',
      tlsCert: cert,
      tlsKey: key,
    });
    const dispatcher = new Agent({ connect: { ca: readFileSync(cert) } });
    try {
      const tlsFetch = ((url: string, init: RequestInit) =>
        undiciFetch(url, { ...(init as object), dispatcher })) as unknown as typeof fetch;

      const { res, body } = await login(viewer, s.url, tlsFetch);

      expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(res.status).toBe(200);
      expect(body.role).toBe('viewer');
      expect(res.headers.get('set-cookie')).toMatch(/; Secure; SameSite=Strict$/);
      expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000');
      await expect(fetch(`${s.url}/api/runs`)).rejects.toThrow();
    } finally {
      await dispatcher.close();
      await s.close();
    }
  });

  it('shuts down with a live stream open', async () => {
    const s = await startServe({
      store,
      listen: '127.0.0.1:0',
      controller: 'serve:test',
      app: { pollMs: 50 },
    });
    await store.startRun({
      id: 'r-stop',
      env: 'test',
      deployments: ['web'],
      topologyDigest: 'sha256:t',
      controller: 'c',
      dryRun: false,
    });
    const { cookie } = await login(viewer, s.url);
    const res = await fetch(`${s.url}/api/runs/r-stop/events`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const started = Date.now();

    await s.close();

    expect(Date.now() - started).toBeLessThan(2000);
  });
});
