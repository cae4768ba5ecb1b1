/**
 * Every command line the executor runs on a node, and how their answers are read: the one place
 * to change when the node CLI changes (docs/rollout.md "Node commands").
 */
import type { AgentResult, NodeStatus, RolloutAgent } from './types.ts';

export interface NodeTarget {
  /** The installation folder on the node. */
  install: string;
  agent: RolloutAgent;
}

const profileArgs = (t: NodeTarget) =>
  t.agent.profilePath === undefined ? [] : ['--profile', t.agent.profilePath];

export const nodeCommands = {
  status: (t: NodeTarget) => [
    'service',
    'status',
    '--install',
    t.install,
    ...profileArgs(t),
    '--json',
  ],
  stop: (t: NodeTarget) => ['service', 'stop', '--install', t.install, ...profileArgs(t), '--json'],
  start: (t: NodeTarget) => [
    'service',
    'start',
    '--install',
    t.install,
    ...profileArgs(t),
    '--json',
  ],
  upgrade: (t: NodeTarget, to: string, leaveStopped: boolean) => [
    'apply',
    '--install',
    t.install,
    ...profileArgs(t),
    '--to',
    to,
    ...(t.agent.packsPath === undefined ? [] : ['--packs', t.agent.packsPath]),
    ...(t.agent.trustPath === undefined ? [] : ['--trust', t.agent.trustPath]),
    '--yes',
    '--json',
    ...(leaveStopped ? ['--leave-stopped'] : []),
  ],
  rollback: (t: NodeTarget) => [
    'rollback',
    '--install',
    t.install,
    ...profileArgs(t),
    '--whole-run',
    '--yes',
    '--json',
  ],
  resume: (t: NodeTarget, abort: boolean) => [
    'resume',
    '--install',
    t.install,
    ...profileArgs(t),
    ...(abort ? ['--abort'] : []),
    '--json',
  ],
} as const;

/** The error a node command reported in its `--json` output (`{ error: { code, message } }`). */
export function nodeError(r: AgentResult): { code: string; message: string } | undefined {
  if (r.code === 0) return undefined;
  const e = (r.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof e?.code === 'string' ? e.code : 'UPLIFT_ROLLOUT_NODE_FAILED';
  const message =
    typeof e?.message === 'string'
      ? e.message
      : `exit ${r.code ?? 'by signal'}${r.stderr.trim() ? `: ${lastLine(r.stderr)}` : ''}`;
  return { code, message };
}

function lastLine(s: string): string {
  return s.trim().split('\n').at(-1) ?? '';
}

/**
 * Reads `service status --json` (docs/apply.md): `running` is the list of live service processes
 * (a boolean is taken too), `version` null when it cannot be read, and exit 5 when the node's
 * apply is interrupted (the document is printed all the same). Undefined when the answer is not one.
 */
export function parseStatus(r: AgentResult): NodeStatus | undefined {
  if (r.code !== 0 && r.code !== 5) return undefined;
  const j = r.json as Record<string, unknown> | undefined;
  if (j === undefined || j === null || typeof j !== 'object') return undefined;
  const version = j.version === null ? '' : j.version;
  const running = Array.isArray(j.running) ? j.running.length > 0 : j.running;
  if (typeof version !== 'string' || typeof running !== 'boolean') return undefined;
  return {
    version,
    running,
    ready: j.ready === true,
    interrupted: j.interrupted === true || r.code === 5,
    // A lock whose holder is gone (`stale`) is not held: the next command takes it over.
    lock: isHeld(j.lock),
  };
}

function isHeld(lock: unknown): boolean {
  if (lock === undefined || lock === null || lock === false) return false;
  return typeof lock !== 'object' || (lock as { stale?: unknown }).stale === undefined;
}
