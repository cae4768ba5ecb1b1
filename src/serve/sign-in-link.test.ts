import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedStateStore, openStateStore } from '../state/index.ts';
import { createServeToken, type RunningServer, SignInLinks, startServe } from './index.ts';

/** One-time sign-in links on a real server over a real SQLite store. */
const dir = mkdtempSync(join(tmpdir(), 'uplift-link-'));
let store: OpenedStateStore;
let server: RunningServer;
const links = new SignInLinks();
const logged: string[] = [];
let token: string;

beforeAll(async () => {
  store = await openStateStore({ file: join(dir, 'state.db'), env: {} });
  token = (await createServeToken(store, 'olga', 'operator')).token;
  server = await startServe({
    store,
    listen: '127.0.0.1:0',
    controller: 'serve:test',
    app: {
      signInLinks: links,
      loginLimit: { failures: 3, windowMs: 60_000 },
      log: (l) => logged.push(l),
    },
  });
});
afterAll(async () => {
  await server?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a sign-in link', () => {
  it('signs in once with its token, redirects to the dashboard, and is refused after', async () => {
    const code = links.issue(token);

    const first = await fetch(`${server.url}/sign-in/${code}`, { redirect: 'manual' });
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const me = await fetch(`${server.url}/api/session`, { headers: { cookie } });
    const second = await fetch(`${server.url}/sign-in/${code}`, { redirect: 'manual' });

    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/');
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.headers.get('set-cookie')).toMatch(/; HttpOnly; SameSite=Strict$/);
    expect(await me.json()).toMatchObject({ name: 'olga', role: 'operator' });
    expect(second.status).toBe(401);
    expect(second.headers.get('set-cookie')).toBeNull();
    expect((await store.listAudit()).filter((e) => e.action === 'serve.login')).toMatchObject([
      { actor: 'olga', detail: { via: 'link' } },
    ]);
    expect(logged.join('\n')).not.toContain(code);
  });

  it('counts unknown codes as failed sign-ins: 429 after the limit, without spending a good code', async () => {
    const good = links.issue(token);

    const statuses: number[] = [];
    for (const bad of ['x'.repeat(43), 'short', 'y'.repeat(43)])
      statuses.push((await fetch(`${server.url}/sign-in/${bad}`, { redirect: 'manual' })).status);
    const limited = await fetch(`${server.url}/sign-in/${good}`, { redirect: 'manual' });

    // The first test's used code was the first failure.
    expect(statuses).toEqual([401, 401, 429]);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Not spent by the refusal: it still signs in once the address may try again.
    expect(links.redeem(good)).toBe(token);
  });
});
