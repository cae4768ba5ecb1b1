import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedStateStore, openStateStore } from '../state/index.ts';
import { createServeApp } from './app.ts';
import { dashboardDir, registerStaticRoutes } from './static.ts';

/** The dashboard's files: real files in a real folder, through hono's request path (no socket). */
const dir = mkdtempSync(join(tmpdir(), 'uplift-static-'));
const built = join(dir, 'dashboard');
const index = '<!doctype html><html lang="en"><title>app</title><div id="root"></div></html>';
let store: OpenedStateStore;

beforeAll(async () => {
  mkdirSync(join(built, 'assets'), { recursive: true });
  writeFileSync(join(built, 'index.html'), index);
  writeFileSync(join(built, 'assets/index-B3xq9Zk1.js'), 'console.log(1);\n');
  writeFileSync(join(dir, 'secret.txt'), 'not for the web');
  store = await openStateStore({ file: join(dir, 'state.db'), env: {} });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const appOn = (folder: string) => {
  const app = new Hono();
  registerStaticRoutes(app, folder);
  return app;
};

describe('the dashboard files', () => {
  it('serves a hashed asset for a year and the app, revalidated, for any other path', async () => {
    const app = appOn(built);
    const asset = await app.request('/assets/index-B3xq9Zk1.js');
    const deep = await app.request('/rollout?env=test&run=r1');
    const root = await app.request('/');

    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await asset.text()).toBe('console.log(1);\n');
    expect(deep.status).toBe(200);
    expect(deep.headers.get('cache-control')).toBe('no-cache');
    expect(await deep.text()).toBe(index);
    expect(await root.text()).toBe(index);
  });

  it('answers a missing asset, an /api path and a path out of the folder with 404, never the app or the file', async () => {
    const app = appOn(built);
    const missing = await app.request('/assets/index-00000000.js');
    const api = await app.request('/api/nothing');
    const out = await app.request('/assets/%2e%2e/%2e%2e/secret.txt');

    expect(missing.status).toBe(404);
    expect(missing.headers.get('cache-control')).toBeNull();
    expect(api.status).toBe(404);
    expect(await out.text()).not.toContain('not for the web');
  });

  it('without a build: 500 and a page that says to run npm run build', async () => {
    const res = await appOn(join(dir, 'nothing-here')).request('/fleet');

    expect(res.status).toBe(500);
    expect(await res.text()).toContain('<code>npm run build</code>');
  });

  it('is registered in the serve app: CSP on the page, JSON 404 under /api, the API before the files', async () => {
    const app = createServeApp({ store, controller: 'static-test', tls: false });
    const page = await app.request('/history');
    const api = await app.request('/api/nothing');
    const fleet = await app.request('/api/fleet');

    // Whatever the checkout holds: the page is the build's index.html or the "not built" page.
    expect([200, 500]).toContain(page.status);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(api.status).toBe(401);
    expect(fleet.status).toBe(401);
    expect(dashboardDir()).toMatch(/dist[\\/]dashboard$/);
  });
});
