import { z } from 'zod';

/*
 * The JSON API of `uplift serve` (docs/api.md): requests are validated with these schemas and
 * schemas/api.schema.json is generated from them (tools/schemas.ts), so the document, the
 * validation and the published schema are one thing.
 */

export const TokenRole = z.enum(['viewer', 'operator']);
export type TokenRole = z.infer<typeof TokenRole>;

/** POST /api/session */
export const LoginRequest = z.strictObject({ token: z.string().min(1).max(200) });
export type LoginRequest = z.infer<typeof LoginRequest>;

/** POST /api/session and GET /api/session: who is signed in, and the token state-changing requests carry. */
export const SessionResponse = z.object({
  name: z.string(),
  role: TokenRole,
  /** Send it back as the X-CSRF-Token header on every POST and DELETE of this session. */
  csrfToken: z.string(),
  expiresAt: z.string(),
});

/** The error body of every refused request. */
export const ErrorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }),
});

const Name = z.string().min(1).max(200);

/** GET /api/fleet */
export const FleetQuery = z.strictObject({
  env: Name.optional(),
  /** `true`: ask every node through its agent now (slow); default: the store's view only. */
  live: z.enum(['true', 'false']).optional(),
});

/** GET /api/runs */
export const RunsQuery = z.strictObject({
  env: Name.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** GET /api/runs/:id and its events */
export const RunParams = z.strictObject({ id: Name });

/** GET /api/audit */
export const AuditQuery = z.strictObject({
  env: Name.optional(),
  run: Name.optional(),
  /** Case-insensitive text to find in the actor, action, outcome, deployment, node or detail. */
  q: z.string().max(200).optional(),
  format: z.enum(['json', 'csv']).optional(),
  limit: z.coerce.number().int().min(1).max(100_000).optional(),
});

/** POST /api/rollouts/dry-run */
export const DryRunRequest = z.strictObject({
  env: Name,
  /** Only these deployments of the environment; default all. */
  deployments: z.array(Name).optional(),
});

/** POST /api/rollouts */
export const RolloutStartRequest = z.strictObject({
  env: Name,
  /** Only these deployments of the environment; default all. */
  deployments: z.array(Name).optional(),
});

/** POST /api/rollouts/:env/approve: start although the promotion gate refuses, for this reason. */
export const RolloutApproveRequest = z.strictObject({
  reason: z.string().trim().min(1).max(2000),
  deployments: z.array(Name).optional(),
});

/** POST /api/rollouts/:env/abort */
export const RolloutAbortRequest = z.strictObject({ reason: z.string().max(2000).optional() });

/** POST /api/rollouts/:env/… and GET /api/rollouts/jobs/:env */
export const RolloutEnvParams = z.strictObject({ env: Name });

/**
 * A rollout job of the server: one `uplift rollout` process it runs for an environment, at most
 * one at a time per environment.
 */
export const RolloutJob = z.object({
  env: z.string(),
  /** What started it: `approve` is a start past the promotion gate with a reason. */
  action: z.enum(['start', 'approve', 'resume', 'abort']),
  /**
   * `running`; `stopping` (a pause or an abort asked it to stop between node actions);
   * then `passed`, `failed`, `rolled-back`, or `paused` (the run stopped unfinished: resume or abort it).
   */
  state: z.enum(['running', 'stopping', 'passed', 'failed', 'rolled-back', 'paused']),
  /** The token name of the operator who started it. */
  actor: z.string(),
  /** The reason given with an approval or an abort. */
  reason: z.string().optional(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  runId: z.string().optional(),
  /** The rollout process's exit code (docs/rollout.md), once it exited. */
  exitCode: z.number().int().nullable().optional(),
  /** Why it failed, when the rollout process ended with an error. */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** The last 200 lines of its progress (one line per node step and deployment). */
  log: z.array(z.string()),
});
export type RolloutJob = z.infer<typeof RolloutJob>;

/** POST /api/rollouts and the actions, GET /api/rollouts/jobs/:env */
export const RolloutJobResponse = z.object({ job: RolloutJob });

/** GET /api/rollouts/jobs */
export const RolloutJobsResponse = z.object({ jobs: z.array(RolloutJob) });

/** 409 UPLIFT_ROLLOUT_GATE_REFUSED from POST /api/rollouts: the gate's verdict. */
export const GateRefusedResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }),
  gate: z.object({
    /** One line per earlier environment and deployment that did not prove the plan. */
    verdict: z.string(),
    gaps: z.array(
      z.object({
        env: z.string(),
        deployment: z.string(),
        profile: z.string(),
        reason: z.enum(['no-deployment', 'not-passed', 'different']),
        differences: z.array(
          z.object({
            field: z.string(),
            want: z.union([z.string(), z.array(z.string())]),
            got: z.union([z.string(), z.array(z.string())]),
          }),
        ),
      }),
    ),
  }),
});

/** GET /api/plan: the report model of a deployment's plan (made on its first node). */
export const PlanQuery = z.strictObject({ env: Name, deployment: Name });

export const RunRecord = z.object({
  id: z.string(),
  env: z.string(),
  deployments: z.array(z.string()),
  topologyDigest: z.string(),
  controller: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  outcome: z.enum(['running', 'passed', 'failed', 'rolled-back', 'interrupted']),
  dryRun: z.boolean(),
});

export const AuditEntry = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  controller: z.string(),
  runId: z.string().optional(),
  env: z.string().optional(),
  deployment: z.string().optional(),
  node: z.string().optional(),
  action: z.string(),
  outcome: z.enum(['ok', 'failed', 'refused', 'started']),
  detail: z.record(z.string(), z.unknown()).optional(),
});

/** GET /api/runs */
export const RunsResponse = z.object({ runs: z.array(RunRecord) });

/** GET /api/runs/:id */
export const RunResponse = z.object({
  run: RunRecord,
  nodes: z.array(
    z.object({
      deployment: z.string(),
      node: z.string(),
      state: z.string(),
      fromVersion: z.string().optional(),
      toVersion: z.string().optional(),
      updatedAt: z.string(),
    }),
  ),
  steps: z.array(
    z.object({
      deployment: z.string(),
      node: z.string(),
      step: z.string(),
      seconds: z.number(),
      at: z.string(),
    }),
  ),
});

/** GET /api/audit (format=json) */
export const AuditResponse = z.object({ entries: z.array(AuditEntry) });

const FleetNode = z.object({
  name: z.string(),
  address: z.string(),
  reachable: z.boolean().nullable(),
  version: z.string().nullable(),
  running: z.boolean().nullable(),
  ready: z.boolean().nullable(),
  interrupted: z.boolean().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  lastSurvey: z.string().nullable(),
  lastCheck: z
    .object({
      at: z.string(),
      status: z.enum(['pass', 'warn', 'fail']),
      pass: z.number(),
      warn: z.number(),
      fail: z.number(),
      failed: z.array(z.string()),
      code: z.string().optional(),
    })
    .nullable(),
});

/** GET /api/fleet: what `uplift fleet --json` prints, per environment. */
export const FleetResponse = z.object({
  topology: z.string(),
  environments: z.array(
    z.object({
      name: z.string(),
      lastRun: z
        .object({ runId: z.string(), at: z.string(), outcome: z.string(), actor: z.string() })
        .nullable(),
      deployments: z.array(
        z.object({
          name: z.string(),
          type: z.string(),
          profile: z.string(),
          to: z.string(),
          versions: z.array(z.string()),
          drift: z.boolean(),
          nodes: z.array(FleetNode),
        }),
      ),
    }),
  ),
});

/** Every request and response schema of the API, by name: the source of schemas/api.schema.json. */
export const apiSchemas = {
  LoginRequest,
  SessionResponse,
  ErrorResponse,
  FleetQuery,
  FleetResponse,
  RunsQuery,
  RunsResponse,
  RunParams,
  RunResponse,
  AuditQuery,
  AuditResponse,
  AuditEntry,
  DryRunRequest,
  RolloutStartRequest,
  RolloutApproveRequest,
  RolloutAbortRequest,
  RolloutEnvParams,
  RolloutJob,
  RolloutJobResponse,
  RolloutJobsResponse,
  GateRefusedResponse,
  PlanQuery,
} as const;
