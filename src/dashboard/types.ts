import type { z } from 'zod';
import type { ReportModel } from '../report/index.ts';
import type {
  AuditEntry as AuditEntrySchema,
  FleetResponse as FleetResponseSchema,
  RunRecord as RunRecordSchema,
  RunResponse as RunResponseSchema,
  SessionResponse as SessionResponseSchema,
} from '../serve/schema.ts';

/** The API's bodies, typed from the zod schemas the server validates with (src/serve/schema.ts). */
export type SessionInfo = z.infer<typeof SessionResponseSchema>;
export type FleetResponse = z.infer<typeof FleetResponseSchema>;
export type FleetEnvironment = FleetResponse['environments'][number];
export type FleetDeployment = FleetEnvironment['deployments'][number];
export type FleetNode = FleetDeployment['nodes'][number];
export type RunRecord = z.infer<typeof RunRecordSchema>;
export type RunResponse = z.infer<typeof RunResponseSchema>;
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** GET /api/plan: the report model of one deployment's plan, made on its first node. */
export interface PlanResponse {
  env: string;
  deployment: string;
  node: string;
  report: ReportModel;
}

/** A rollout job of the server (POST /api/rollouts and the actions on it). */
export interface Job {
  env: string;
  action: 'start' | 'approve' | 'resume' | 'abort';
  state: 'running' | 'stopping' | 'passed' | 'failed' | 'rolled-back' | 'paused';
  actor: string;
  startedAt: string;
  endedAt?: string;
  runId?: string;
  exitCode?: number;
  log: string[];
}

export type { ReportModel };
