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
} as const;
