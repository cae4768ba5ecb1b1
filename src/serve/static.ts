import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Env, Hono } from 'hono';
import { packageRoot } from '../util/index.ts';

/** Where `npm run build` (vite build) puts the dashboard. */
export function dashboardDir(): string {
  return join(packageRoot(), 'dist/dashboard');
}

const notBuilt = (dir: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>uplift: dashboard not built</title></head>
<body><main><h1>The dashboard is not built</h1>
<p>This server has no <code>${dir.replace(/[<>&]/g, '')}/index.html</code>. Run <code>npm run build</code>
(it runs <code>vite build</code>), then start <code>uplift serve</code> again. The JSON API under
<code>/api/</code> works without it.</p></main></body></html>
`;

/**
 * The dashboard's files (dist/dashboard) for every GET that is not under /api/: a file that exists
 * is sent (ETag-less, with Last-Modified and ranges, by @hono/node-server's serveStatic); any other
 * path is the app's index.html, whose router shows the view (or its own "not found"). Hashed
 * assets (assets/*-<hash>.*) are cached for a year; index.html is revalidated each time, so a
 * new build is picked up at the next load. Without a build: 500 and a page that says what to run.
 */
export function registerStaticRoutes<E extends Env>(app: Hono<E>, dir = dashboardDir()): void {
  // Set before the file is sent (serveStatic's onFound runs after the response is made).
  const hashed = (path: string) => /^\/assets\/[^/]+-[\w-]{8,}\.\w+$/.test(path);
  const files = serveStatic({ root: dir });
  const index = serveStatic({ root: dir, path: 'index.html' });
  app.get('*', async (c, next) => {
    if (c.req.path === '/api' || c.req.path.startsWith('/api/')) return next();
    if (!existsSync(join(dir, 'index.html'))) return c.html(notBuilt(dir), 500);
    c.header(
      'Cache-Control',
      hashed(c.req.path) ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    const sent = await files(c, async () => {});
    if (sent) return sent;
    c.header('Cache-Control', undefined);
    // A missing asset is a 404, not the app: a stale page asking for an old hash must see it fail.
    if (c.req.path.startsWith('/assets/')) return next();
    c.header('Cache-Control', 'no-cache');
    return (await index(c, next)) ?? next();
  });
}
