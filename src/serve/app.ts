import { getConnInfo } from '@hono/node-server/conninfo';
import { zValidator } from '@hono/zod-validator';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { streamSSE } from 'hono/streaming';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import {
  connect,
  deploymentsOf,
  environmentOf,
  planFreshRollout,
  readFleetEnvironment,
} from '../controller/index.ts';
import { codes, ExitCode, type UpliftCode, UpliftError } from '../errors/index.ts';
import type { AuditEntry, OpenedStateStore, TokenRole } from '../state/index.ts';
import { csrfMatches, LoginLimiter, type Session, Sessions } from './access.ts';
import { cachedTopology, SharedResults } from './cache.ts';
import { auditCsv } from './csv.ts';
import type { RolloutJobs } from './jobs.ts';
import { AuditFeed } from './live.ts';
import { registerActionRoutes } from './routes/actions.ts';
import { registerPlanRoutes } from './routes/plan.ts';
import {
  AuditQuery,
  DryRunRequest,
  FleetQuery,
  LoginRequest,
  RunParams,
  RunsQuery,
} from './schema.ts';
import { registerSignInLinkRoute, type SignInLinks } from './sign-in-link.ts';
import { registerStaticRoutes } from './static.ts';
import { findToken } from './tokens.ts';

export interface ServeAppOptions {
  store: OpenedStateStore;
  /** The topology file (default ./uplift.yaml), read on each request that needs it. */
  topology?: string;
  /** The controller id the audit records for this server. */
  controller: string;
  /** Served over TLS: the session cookie is Secure and HSTS is sent. */
  tls: boolean;
  /**
   * The Host headers accepted (`127.0.0.1:8080`, `localhost:8080`); others get 421. Set for a
   * loopback server, so a page on a name rebound to 127.0.0.1 (DNS rebinding) reaches nothing.
   */
  allowedHosts?: () => string[];
  sessionTtlMs?: number;
  loginLimit?: { failures: number; windowMs: number };
  /** How long the store's view of the fleet is shared between requests (default 1000 ms). */
  fleetCacheMs?: number;
  /** How often a live stream reads the audit for new rows, and how often it sends a heartbeat. */
  pollMs?: number;
  heartbeatMs?: number;
  /** One-time sign-in links this server honours (`uplift serve --sign-in-link`). */
  signInLinks?: SignInLinks;
  /** Aborted when the server shuts down: live streams end. */
  closing?: AbortSignal;
  /** One line per refused or failed request; never carries a token or a password. */
  log?: (line: string) => void;
  /** The rollout jobs the operator's actions start (src/serve/jobs.ts); without them they answer 503. */
  jobs?: RolloutJobs;
}

interface Who {
  name: string;
  role: TokenRole;
  session?: Session;
}

type Env = { Variables: { who: Who } };

const cookieName = 'uplift_session';

/**
 * The JSON API of `uplift serve` (docs/api.md): sessions from named tokens, reads of the fleet,
 * runs and audit, live run events, and the operator's actions. Every response carries the strict
 * security headers; every state-changing request passes the Origin check and, for a browser
 * session, the session-bound CSRF token.
 */
export function createServeApp(o: ServeAppOptions): Hono<Env> {
  const { store } = o;
  const sessionTtlMs = o.sessionTtlMs ?? 8 * 3600_000;
  const sessions = new Sessions(sessionTtlMs);
  const limiter = new LoginLimiter(o.loginLimit?.failures ?? 5, o.loginLimit?.windowMs ?? 60_000);
  const pollMs = o.pollMs ?? 250;
  const heartbeatMs = o.heartbeatMs ?? 15_000;
  const log = o.log ?? (() => {});
  const audit = (e: Omit<AuditEntry, 'controller'>) =>
    store.audit({ ...e, controller: o.controller }).catch((err: unknown) => {
      log(`audit not written: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    });
  const topology = cachedTopology(o.topology);
  // The store's view of the fleet (no node asked) is shared for a second by every viewer polling it.
  const storeFleet = new SharedResults<unknown>(o.fleetCacheMs ?? 1000);
  const feed = new AuditFeed(store, {
    pollMs,
    heartbeatMs,
    log,
    ...(o.closing === undefined ? {} : { closing: o.closing }),
  });

  const app = new Hono<Env>();

  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      strictTransportSecurity: o.tls ? 'max-age=31536000' : false,
      xFrameOptions: 'DENY',
      referrerPolicy: 'no-referrer',
    }),
  );
  app.use('/api/*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });
  app.use(async (c, next) => {
    const allowed = o.allowedHosts?.();
    if (allowed !== undefined && !allowed.includes(c.req.header('host') ?? ''))
      return fail(c, 421, 'UPLIFT_SERVE_HOST', 'this server does not answer for that host name');
    await next();
  });
  // Cross-origin writes: hono's check (form posts need a same-origin Origin or Sec-Fetch-Site),
  // then ours for every body type: an Origin that is present must be this server's.
  app.use(csrf());
  app.use(async (c, next) => {
    const origin = c.req.header('origin');
    const site = c.req.header('sec-fetch-site');
    if (
      !isSafe(c.req.method) &&
      ((origin !== undefined && origin !== new URL(c.req.url).origin) ||
        (site !== undefined && site !== 'same-origin' && site !== 'none'))
    ) {
      log(`refused a cross-origin ${c.req.method} ${c.req.path} from ${origin ?? site}`);
      return fail(c, 403, 'UPLIFT_SERVE_CSRF', 'cross-origin requests cannot change anything');
    }
    await next();
  });

  app.onError((err, c) => {
    if (err instanceof HTTPException && err.status === 403) {
      log(`refused a cross-origin ${c.req.method} ${c.req.path}`);
      return fail(c, 403, 'UPLIFT_SERVE_CSRF', 'cross-origin requests cannot change anything');
    }
    if (err instanceof UpliftError) {
      const status = codes[err.code] === ExitCode.badInput ? 400 : 500;
      return fail(c, status, err.code, err.message, err.hint);
    }
    log(`internal error on ${c.req.method} ${c.req.path}: ${err.name}`);
    return fail(c, 500, 'UPLIFT_SERVE_INTERNAL', 'the server failed; its log says why');
  });
  app.notFound((c) => fail(c, 404, 'UPLIFT_SERVE_NOT_FOUND', `no such resource: ${c.req.path}`));

  // Signing in: a token for a session cookie, at most `failures` wrong tokens a minute per address.
  // `take` gives the token only once the address may try (a one-time link is not spent on a 429).
  const signIn = async (c: Context<Env>, take: () => string | undefined, via = '') => {
    const address = clientAddress(c);
    const wait = limiter.retryAfter(address);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return fail(c, 429, 'UPLIFT_SERVE_RATE_LIMITED', `too many failed sign-ins; wait ${wait} s`);
    }
    const token = take();
    const found = token === undefined ? undefined : await findToken(store, token);
    if (token === undefined || found === undefined) {
      limiter.fail(address);
      log(`refused a sign-in${via} from ${address}: unknown or revoked token`);
      return fail(c, 401, 'UPLIFT_SERVE_UNAUTHENTICATED', 'unknown or revoked token');
    }
    limiter.succeed(address);
    const { id, session } = sessions.create({ name: found.name, role: found.role, token });
    setCookie(c, cookieName, id, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: o.tls,
      path: '/',
      maxAge: Math.floor(sessionTtlMs / 1000),
    });
    await audit({
      actor: found.name,
      action: 'serve.login',
      outcome: 'ok',
      detail: via === '' ? { address } : { address, via: 'link' },
    });
    return session;
  };
  app.post('/api/session', validate('json', LoginRequest), async (c) => {
    const { token } = c.req.valid('json');
    const r = await signIn(c, () => token);
    return r instanceof Response ? r : c.json(sessionBody(r));
  });
  registerSignInLinkRoute(app, o.signInLinks, (c, take) => signIn(c, take, ' link'));

  const auth: MiddlewareHandler<Env> = async (c, next) => {
    const bearer = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(c.req.header('authorization') ?? '')?.[1];
    if (bearer !== undefined) {
      const address = clientAddress(c);
      const wait = limiter.retryAfter(address);
      if (wait > 0) {
        c.header('Retry-After', String(wait));
        return fail(
          c,
          429,
          'UPLIFT_SERVE_RATE_LIMITED',
          `too many failed sign-ins; wait ${wait} s`,
        );
      }
      const found = await findToken(store, bearer);
      if (found === undefined) {
        limiter.fail(address);
        return fail(c, 401, 'UPLIFT_SERVE_UNAUTHENTICATED', 'unknown or revoked token');
      }
      // A bearer token is never sent by a browser on its own, so it needs no CSRF token.
      c.set('who', { name: found.name, role: found.role });
      return next();
    }
    const id = getCookie(c, cookieName);
    const session = id === undefined ? undefined : sessions.get(id);
    const live = session && (await store.tokenByHash(session.tokenHash));
    if (id === undefined || session === undefined || live === undefined) {
      if (id !== undefined) sessions.drop(id);
      return fail(c, 401, 'UPLIFT_SERVE_UNAUTHENTICATED', 'sign in first (POST /api/session)');
    }
    if (!isSafe(c.req.method) && !csrfMatches(session, c.req.header('x-csrf-token'))) {
      log(`refused ${c.req.method} ${c.req.path} of ${session.name}: no valid X-CSRF-Token`);
      return fail(c, 403, 'UPLIFT_SERVE_CSRF', 'the X-CSRF-Token header is missing or wrong');
    }
    c.set('who', { name: live.name, role: live.role, session });
    return next();
  };
  app.use('/api/*', async (c, next) =>
    c.req.path === '/api/session' && c.req.method === 'POST' ? next() : auth(c, next),
  );

  const operator: MiddlewareHandler<Env> = async (c, next) => {
    const who = c.get('who');
    if (who.role === 'operator') return next();
    await audit({
      actor: who.name,
      action: 'serve.refused',
      outcome: 'refused',
      detail: { method: c.req.method, path: c.req.path, role: who.role },
    });
    return fail(
      c,
      403,
      'UPLIFT_SERVE_FORBIDDEN',
      `${who.name} is a ${who.role}; this needs an operator`,
    );
  };

  app.get('/api/session', (c) => {
    const { session, name, role } = c.get('who');
    return session ? c.json(sessionBody(session)) : c.json({ name, role });
  });
  app.delete('/api/session', async (c) => {
    const id = getCookie(c, cookieName);
    if (id !== undefined) sessions.drop(id);
    deleteCookie(c, cookieName, { path: '/', secure: o.tls });
    await audit({ actor: c.get('who').name, action: 'serve.logout', outcome: 'ok' });
    return c.body(null, 204);
  });

  app.get('/api/fleet', validate('query', FleetQuery), async (c) => {
    const q = c.req.valid('query');
    const read = async () => {
      const t = await topology();
      const envs = q.env === undefined ? t.environments : [environmentOf(t, q.env)];
      const environments = [];
      for (const env of envs)
        environments.push(await readFleetEnvironment(env, store, { live: q.live === 'true' }));
      return { topology: t.file, environments };
    };
    return c.json(await (q.live === 'true' ? read() : storeFleet.get(q.env ?? '', read)));
  });

  app.get('/api/runs', validate('query', RunsQuery), async (c) => {
    const q = c.req.valid('query');
    return c.json({ runs: await store.listRuns(q) });
  });

  app.get('/api/runs/:id', validate('param', RunParams), async (c) => {
    const { id } = c.req.valid('param');
    const run = await store.getRun(id);
    if (run === undefined) return fail(c, 404, 'UPLIFT_SERVE_NOT_FOUND', `no run ${id}`);
    const nodes = (await store.nodeStates(id)).map(({ runId: _, ...n }) => n);
    const steps = (await store.stepTimings(id)).map(({ runId: _, ...s }) => s);
    return c.json({ run, nodes, steps });
  });

  app.get('/api/runs/:id/events', validate('param', RunParams), async (c) => {
    const { id } = c.req.valid('param');
    if ((await store.getRun(id)) === undefined)
      return fail(c, 404, 'UPLIFT_SERVE_NOT_FOUND', `no run ${id}`);
    const who = c.get('who');
    const given = Number(c.req.header('last-event-id') ?? c.req.query('lastEventId') ?? 0);
    const last = Number.isSafeInteger(given) && given > 0 ? given : 0;
    return streamSSE(c, (stream) => feed.follow(stream, id, last, who.session?.tokenHash));
  });

  app.get('/api/audit', validate('query', AuditQuery), async (c) => {
    const q = c.req.valid('query');
    const entries = (
      await store.listAudit({
        ...(q.env === undefined ? {} : { env: q.env }),
        ...(q.run === undefined ? {} : { runId: q.run }),
        ...(q.q === undefined ? { limit: q.limit ?? 1000 } : {}),
      })
    ).filter((e) => q.q === undefined || matches(e, q.q));
    const shown = q.q === undefined ? entries : entries.slice(-(q.limit ?? 1000));
    if (q.format === 'csv') {
      c.header('Content-Type', 'text/csv; charset=utf-8');
      c.header('Content-Disposition', 'attachment; filename="uplift-audit.csv"');
      return c.body(auditCsv(shown));
    }
    return c.json({ entries: shown });
  });

  app.post('/api/rollouts/dry-run', operator, validate('json', DryRunRequest), async (c) => {
    const body = c.req.valid('json');
    const actor = c.get('who').name;
    try {
      const t = await topology();
      const env = environmentOf(t, body.env);
      const deployments = deploymentsOf(env, body.deployments);
      const conn = connect(env);
      try {
        const { survey, plan, gate } = await planFreshRollout(conn, t, env, deployments, store, {
          record: false,
        });
        const unfinished = await store.unfinishedRun(env.name);
        await audit({ actor, env: env.name, action: 'serve.dry-run', outcome: 'ok' });
        return c.json({
          dryRun: true,
          env: env.name,
          gate,
          unfinishedRun: unfinished?.id ?? null,
          deployments: plan.deployments.map((p) => ({
            ...p,
            planKey: survey.planKeys[p.deployment],
          })),
          serviceDowntimeSeconds: plan.deployments.reduce(
            (a, p) => a + p.downtime.serviceSeconds,
            0,
          ),
        });
      } finally {
        await conn.close();
      }
    } catch (err) {
      await audit({
        actor,
        env: body.env,
        action: 'serve.dry-run',
        outcome: 'failed',
        detail: { code: err instanceof UpliftError ? err.code : 'UPLIFT_SERVE_INTERNAL' },
      });
      throw err;
    }
  });

  registerActionRoutes(app, { store, jobs: o.jobs, topology, operator, audit });
  registerPlanRoutes(app, { topology });
  registerStaticRoutes(app);
  return app;
}

function sessionBody(s: Session) {
  return {
    name: s.name,
    role: s.role,
    csrfToken: s.csrfToken,
    expiresAt: new Date(s.expiresAt).toISOString(),
  };
}

const isSafe = (method: string) => method === 'GET' || method === 'HEAD' || method === 'OPTIONS';

function fail(
  c: Context,
  status: ContentfulStatusCode,
  code: UpliftCode,
  message: string,
  hint?: string,
) {
  return c.json({ error: { code, message, ...(hint === undefined ? {} : { hint }) } }, status);
}

/** zod validation whose refusal is the API's error body, naming the first bad field. */
function validate<T extends z.ZodType, Target extends 'json' | 'query' | 'param'>(
  target: Target,
  schema: T,
) {
  return zValidator(target, schema, (r, c) => {
    if (r.success) return;
    const issue = r.error.issues[0];
    const where = issue?.path.join('.') || target;
    return fail(c, 400, 'UPLIFT_USAGE', `${where}: ${issue?.message ?? 'invalid'}`);
  });
}

function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function matches(e: AuditEntry, q: string): boolean {
  const needle = q.toLowerCase();
  return [
    e.actor,
    e.action,
    e.outcome,
    e.env,
    e.deployment,
    e.node,
    e.runId,
    JSON.stringify(e.detail ?? ''),
  ].some((v) => v?.toLowerCase().includes(needle));
}
