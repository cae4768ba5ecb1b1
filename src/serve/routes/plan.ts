import { zValidator } from '@hono/zod-validator';
import type { Env, Hono } from 'hono';
import { connect, deploymentsOf, environmentOf, nodeTargetArgs } from '../../controller/index.ts';
import { shellWord } from '../../errors/index.ts';
import type { Plan } from '../../plan/index.ts';
import { reportModel } from '../../report/index.ts';
import type { Topology } from '../../topology/index.ts';
import { PlanQuery } from '../schema.ts';

export interface PlanRouteDeps {
  /** Reads the topology the server was started with (on each request). */
  topology: () => Promise<Topology>;
}

/** How long the node may take to plan (it reads its catalog and facts). */
const planTimeoutMs = 120_000;

/**
 * GET /api/plan?env=&deployment=: the report model of the deployment's plan, the content of
 * `uplift plan --format html`. As a rollout's survey does, the plan is made on the node itself
 * (`uplift plan --install … --profile … --to <deployment's target> --json` through its agent, its
 * facts are there), on the deployment's first node; its report model is what the HTML report
 * renders, so the dashboard draws it with the same components. Nothing is changed or recorded.
 */
export function registerPlanRoutes<E extends Env>(app: Hono<E>, deps: PlanRouteDeps): void {
  app.get(
    '/api/plan',
    zValidator('query', PlanQuery, (r, c) => {
      if (r.success) return;
      const issue = r.error.issues[0];
      return c.json(
        {
          error: {
            code: 'UPLIFT_USAGE',
            message: `${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'invalid'}`,
          },
        },
        400,
      );
    }),
    async (c) => {
      const q = c.req.valid('query');
      const t = await deps.topology();
      const env = environmentOf(t, q.env);
      const [d] = deploymentsOf(env, [q.deployment]);
      const node = d?.nodes[0];
      if (d === undefined || node === undefined)
        return c.json(
          {
            error: {
              code: 'UPLIFT_SERVE_NOT_FOUND',
              message: `deployment ${q.deployment} of ${env.name} has no node to plan on`,
            },
          },
          404,
        );
      const conn = connect(env);
      try {
        const agent = await conn.nodeAgentFor(d.name, node.name);
        const r = await agent.run(
          [...nodeTargetArgs('plan', d, node.address.path, agent.profileArg), '--json'],
          { timeoutMs: planTimeoutMs },
        );
        const plan = r.json as Plan | { error?: { code?: string; message?: string } } | undefined;
        // A blocked plan exits non-zero and is still a plan: the report says why it is blocked.
        if (plan === undefined || !('steps' in plan) || !('verdict' in plan)) {
          const e = (plan as { error?: { code?: string; message?: string } } | undefined)?.error;
          return c.json(
            {
              error: {
                code: e?.code ?? 'UPLIFT_ROLLOUT_NODE_FAILED',
                message: `planning on ${d.name}/${node.name} failed: ${e?.message ?? `exit ${r.code}`}`,
                hint: 'see why with uplift plan on that node, or uplift fleet --live',
              },
            },
            502,
          );
        }
        return c.json({
          env: env.name,
          deployment: d.name,
          node: node.name,
          report: reportModel(plan, { install: shellWord(node.address.path) }),
        });
      } finally {
        await conn.close();
      }
    },
  );
}
