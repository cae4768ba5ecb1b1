import {
  environmentOf,
  type FleetEnvironment,
  type FleetNode,
  readFleetEnvironment,
} from '../../controller/index.ts';
import { ExitCode, UpliftError } from '../../errors/index.ts';
import { openStateStore } from '../../state/index.ts';
import { openTopology } from '../../topology/index.ts';
import type { CommandResult } from '../types.ts';

export interface FleetOptions {
  env?: string;
  topology?: string;
  inventory?: string;
  state?: string;
}

/** `uplift fleet`: what runs where across the topology, read from each node now. */
export async function handler(o: FleetOptions): Promise<CommandResult> {
  const topology = await openTopology({
    ...(o.topology === undefined ? {} : { topology: o.topology }),
    ...(o.inventory === undefined ? {} : { inventory: o.inventory }),
  });
  const envs = o.env === undefined ? topology.environments : [environmentOf(topology, o.env)];
  const warnings: string[] = [];
  const store = await openStateStore({
    ...(o.state === undefined ? {} : { file: o.state }),
    readOnly: true,
  }).catch((e: unknown) => {
    // A UPLIFT_DATABASE_URL that is not one is the operator's to correct, not a store that is down.
    if (e instanceof UpliftError && e.code === 'UPLIFT_USAGE') throw e;
    warnings.push(
      `the state store cannot be read, so the last runs are not shown: ${e instanceof Error ? e.message : String(e)}`,
    );
    return undefined;
  });
  try {
    const out: FleetEnvironment[] = [];
    for (const env of envs) out.push(await readFleetEnvironment(env, store));
    return {
      data: { topology: topology.file, environments: out, warnings },
      text: render(out),
      exitCode: ExitCode.ok,
      warnings,
    };
  } finally {
    await store?.close().catch(() => {});
  }
}

function render(envs: FleetEnvironment[]): string {
  const lines: string[] = [];
  for (const e of envs) {
    lines.push(
      `${e.name}${e.lastRun ? `  last rollout ${e.lastRun.runId}: ${e.lastRun.outcome} at ${e.lastRun.at} by ${e.lastRun.actor}` : '  no rollout yet'}`,
    );
    for (const d of e.deployments) {
      lines.push(
        `  ${d.name} (${d.type}, ${d.profile} → ${d.to}): ${d.versions.join(', ') || 'version unknown'}${d.drift ? '  DRIFT: nodes on different versions' : ''}`,
      );
      for (const n of d.nodes)
        lines.push(
          n.reachable
            ? `    ${n.name}  ${n.version ?? '(version unreadable)'}  ${n.running ? 'running' : 'stopped'}, ${n.ready ? 'ready' : 'not ready'}${n.interrupted ? ', interrupted: uplift resume needed' : ''}${lastCheckText(n)}  ${n.address}`
            : `    ${n.name}  unreachable: ${n.error?.code} ${n.error?.message ?? ''}${lastCheckText(n)}  ${n.address}`,
        );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `  last check <when>: passed|warned|failed (ids, code)`, or nothing when the node was never checked. */
function lastCheckText(n: FleetNode): string {
  const c = n.lastCheck;
  if (c === null) return '';
  const outcome = { pass: 'passed', warn: 'warned', fail: 'failed' }[c.status];
  const why =
    c.status === 'fail' ? ` (${[...c.failed, ...(c.code ? [c.code] : [])].join(', ')})` : '';
  return `  last check ${c.at}: ${outcome}${why}`;
}
