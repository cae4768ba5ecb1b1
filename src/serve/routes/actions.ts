import { zValidator } from '@hono/zod-validator';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { connect, deploymentsOf, environmentOf, planFreshRollout } from '../../controller/index.ts';
import { UpliftError } from '../../errors/index.ts';
import { describeGate } from '../../rollout/index.ts';
import type { AuditEntry, StateStore, TokenRole } from '../../state/index.ts';
import type { Topology } from '../../topology/index.ts';
import type { RolloutJobs } from '../jobs.ts';
import {
  RolloutAbortRequest,
  RolloutApproveRequest,
  RolloutEnvParams,
  RolloutStartRequest,
} from '../schema.ts';

/** What the routes need of the app's context: who is signed in (set by its auth middleware). */
type ActionEnv = { Variables: { who: { name: string; role: TokenRole } } };

export interface ActionDeps {
  store: StateStore;
  /** The server's rollout jobs; without them the actions answer 503. */
  jobs: RolloutJobs | undefined;
  topology: () => Promise<Topology>;
  /** The server's operator check: a viewer gets 403, audited as `serve.refused`. */
  operator: MiddlewareHandler<ActionEnv>;
  audit: (e: Omit<AuditEntry, 'controller'>) => Promise<unknown>;
}

/**
 * The operator's rollout actions (docs/api.md "Rollout actions"): start, approve past the
 * promotion gate, pause, resume and abort, each a job of `RolloutJobs`, each audited with the
 * token's name (`serve.rollout.*`, outcome `ok`, or `refused` with the code of a 409).
 */
export function registerActionRoutes(a: Hono<ActionEnv>, d: ActionDeps): void {
  const { store, operator } = d;

  /** Runs one action: 503 without jobs, 409 for a refusal, every outcome audited. */
  const act = async (
    c: Context<ActionEnv>,
    env: string,
    action: string,
    detail: Record<string, unknown>,
    f: (jobs: RolloutJobs, actor: string) => Promise<Response>,
  ): Promise<Response> => {
    const actor = c.get('who').name;
    const name = `serve.rollout.${action}`;
    if (d.jobs === undefined)
      return fail(c, 503, 'UPLIFT_SERVE_INTERNAL', 'this server was started without rollout jobs');
    try {
      const res = await f(d.jobs, actor);
      const job = res.status === 202 ? d.jobs.get(env) : undefined;
      await d.audit({
        actor,
        env,
        action: name,
        outcome: res.status === 202 ? 'ok' : 'refused',
        ...(job?.runId === undefined ? {} : { runId: job.runId }),
        detail: { ...detail, status: res.status },
      });
      return res;
    } catch (err) {
      const code = err instanceof UpliftError ? err.code : 'UPLIFT_SERVE_INTERNAL';
      const refused = err instanceof UpliftError && conflicts.has(err.code);
      await d.audit({
        actor,
        env,
        action: name,
        outcome: refused ? 'refused' : 'failed',
        detail: { ...detail, code },
      });
      if (refused) return fail(c, 409, err.code, err.message, err.hint);
      throw err;
    }
  };

  a.get('/api/rollouts/jobs', (c) => c.json({ jobs: d.jobs?.list() ?? [] }));

  a.get('/api/rollouts/jobs/:env', validate('param', RolloutEnvParams), (c) => {
    const { env } = c.req.valid('param');
    const job = d.jobs?.get(env);
    if (job === undefined)
      return fail(c, 404, 'UPLIFT_SERVE_NOT_FOUND', `no rollout job for ${env} since the start`);
    return c.json({ job });
  });

  a.post('/api/rollouts', operator, validate('json', RolloutStartRequest), async (c) => {
    const body = c.req.valid('json');
    return act(c, body.env, 'start', deploymentsDetail(body.deployments), async (jobs, actor) => {
      const held = jobs.hold(body.env);
      try {
        const t = await d.topology();
        const env = environmentOf(t, body.env);
        const deployments = deploymentsOf(env, body.deployments);
        await refuseUnfinished(store, env.name);
        // The gate's verdict before anything starts, so a refusal is this request's answer.
        const conn = connect(env);
        try {
          const { gate } = await planFreshRollout(conn, t, env, deployments, store, {
            record: false,
          });
          if (!gate.pass) {
            const verdict = describeGate(gate);
            return c.json(
              {
                error: {
                  code: 'UPLIFT_ROLLOUT_GATE_REFUSED',
                  message: `promotion gate: ${verdict}`,
                  hint: `roll the same plan out to ${[...new Set(gate.gaps.map((g) => g.env))].join(', ')} first, or approve it with a reason (POST /api/rollouts/${env.name}/approve)`,
                },
                gate: { verdict, gaps: gate.gaps },
              },
              409,
            );
          }
        } finally {
          await conn.close();
        }
        const job = jobs.run({
          env: env.name,
          action: 'start',
          actor,
          held,
          ...(body.deployments === undefined ? {} : { deployments: body.deployments }),
        });
        return c.json({ job }, 202);
      } finally {
        held();
      }
    });
  });

  a.post(
    '/api/rollouts/:env/approve',
    operator,
    validate('param', RolloutEnvParams),
    validate('json', RolloutApproveRequest),
    async (c) => {
      const { env: name } = c.req.valid('param');
      const body = c.req.valid('json');
      const detail = { reason: body.reason, ...deploymentsDetail(body.deployments) };
      return act(c, name, 'approve', detail, async (jobs, actor) => {
        const held = jobs.hold(name);
        try {
          const env = environmentOf(await d.topology(), name);
          deploymentsOf(env, body.deployments);
          await refuseUnfinished(store, env.name);
          const job = jobs.run({
            env: env.name,
            action: 'approve',
            actor,
            reason: body.reason,
            held,
            ...(body.deployments === undefined ? {} : { deployments: body.deployments }),
          });
          return c.json({ job }, 202);
        } finally {
          held();
        }
      });
    },
  );

  a.post('/api/rollouts/:env/pause', operator, validate('param', RolloutEnvParams), async (c) => {
    const { env } = c.req.valid('param');
    return act(c, env, 'pause', {}, async (jobs) => c.json({ job: jobs.pause(env) }, 202));
  });

  a.post('/api/rollouts/:env/resume', operator, validate('param', RolloutEnvParams), async (c) => {
    const { env: name } = c.req.valid('param');
    return act(c, name, 'resume', {}, async (jobs, actor) => {
      const held = jobs.hold(name);
      try {
        const env = environmentOf(await d.topology(), name);
        const unfinished = await store.unfinishedRun(env.name);
        if (unfinished === undefined) throw nothingUnfinished(env.name);
        const job = jobs.run({
          env: env.name,
          action: 'resume',
          actor,
          runId: unfinished.id,
          held,
        });
        return c.json({ job }, 202);
      } finally {
        held();
      }
    });
  });

  a.post(
    '/api/rollouts/:env/abort',
    operator,
    validate('param', RolloutEnvParams),
    validate('json', RolloutAbortRequest),
    async (c) => {
      const { env: name } = c.req.valid('param');
      const { reason } = c.req.valid('json');
      const detail = reason === undefined ? {} : { reason };
      return act(c, name, 'abort', detail, async (jobs, actor) => {
        const env = environmentOf(await d.topology(), name);
        const current = jobs.get(env.name);
        const running = current?.state === 'running' || current?.state === 'stopping';
        const unfinished = await store.unfinishedRun(env.name);
        if (!running && unfinished === undefined) throw nothingUnfinished(env.name);
        const job = jobs.abort({
          env: env.name,
          actor,
          ...(reason === undefined ? {} : { reason }),
          ...(unfinished === undefined ? {} : { runId: unfinished.id }),
        });
        return c.json({ job }, 202);
      });
    },
  );
}

/** The refusals an action answers with 409 Conflict. */
const conflicts = new Set<string>([
  'UPLIFT_SERVE_BUSY',
  'UPLIFT_SERVE_NOT_RUNNING',
  'UPLIFT_SERVE_NOTHING_UNFINISHED',
  'UPLIFT_ROLLOUT_UNFINISHED',
]);

async function refuseUnfinished(store: StateStore, env: string): Promise<void> {
  const unfinished = await store.unfinishedRun(env);
  if (unfinished !== undefined)
    throw new UpliftError(
      'UPLIFT_ROLLOUT_UNFINISHED',
      `the rollout ${unfinished.id} of ${env} (started ${unfinished.startedAt} by ${unfinished.controller}) did not finish`,
      {
        hint: `resume it (POST /api/rollouts/${env}/resume) or take it back (POST /api/rollouts/${env}/abort)`,
        unchanged: true,
      },
    );
}

function nothingUnfinished(env: string): UpliftError {
  return new UpliftError(
    'UPLIFT_SERVE_NOTHING_UNFINISHED',
    `${env} has no unfinished run and no running rollout job`,
    { hint: `start a rollout instead (POST /api/rollouts with {"env": "${env}"})` },
  );
}

const deploymentsDetail = (deployments: string[] | undefined) =>
  deployments === undefined ? {} : { deployments };

function fail(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  hint?: string,
) {
  return c.json({ error: { code, message, ...(hint === undefined ? {} : { hint }) } }, status);
}

/** zod validation whose refusal is the API's error body, naming the first bad field (as app.ts). */
function validate<T extends z.ZodType, Target extends 'json' | 'param'>(target: Target, schema: T) {
  return zValidator(target, schema, (r, c) => {
    if (r.success) return;
    const issue = r.error.issues[0];
    const where = issue?.path.join('.') || target;
    return fail(c, 400, 'UPLIFT_USAGE', `${where}: ${issue?.message ?? 'invalid'}`);
  });
}
