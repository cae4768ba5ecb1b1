import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join, posix } from 'node:path';
import { type Balancer, openBalancer } from '../balancer/index.ts';
import { UpliftError } from '../errors/index.ts';
import { findProfileDir } from '../profile/index.ts';
import type { RolloutAgent } from '../rollout/index.ts';
import type { Deployment, Environment, Topology, TopologyNode } from '../topology/index.ts';
import {
  type AgentKit,
  installAgent,
  type NodeAgent,
  type NodeTransport,
  nativeKitPackages,
  openTransport,
  type PacksSent,
  putPacks,
} from '../transport/index.ts';
import { nativePackages, packageRoot } from '../util/index.ts';

/** `host:pid:random`: one controller process, as claims and the audit name it. */
export function controllerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** Who runs the rollout, as the audit records it: `--actor`, else `$USER@host`. */
export function actorName(given?: string): string {
  if (given !== undefined && given.trim() !== '') return given.trim();
  let user = process.env.USER || process.env.LOGNAME || '';
  if (user === '') {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname()}`;
}

/** The environment of a topology a command names, or the coded refusal listing the others. */
export function environmentOf(topology: Topology, name: string): Environment {
  const env = topology.environments.find((e) => e.name === name);
  if (env === undefined)
    throw new UpliftError(
      'UPLIFT_ROLLOUT_ENV_UNKNOWN',
      `no environment "${name}" in ${topology.file}`,
      {
        hint: `use one of: ${topology.environments.map((e) => e.name).join(', ')}`,
        location: { file: topology.file, path: 'environments' },
        unchanged: true,
      },
    );
  return env;
}

/** The deployments `--deployment` names (all when none), each checked to exist in the environment. */
export function deploymentsOf(env: Environment, names: string[] | undefined): Deployment[] {
  if (names === undefined || names.length === 0) return env.deployments;
  return names.map((n) => {
    const d = env.deployments.find((x) => x.name === n);
    if (d === undefined)
      throw new UpliftError(
        'UPLIFT_ROLLOUT_DEPLOYMENT_UNKNOWN',
        `no deployment "${n}" in environment ${env.name} (${env.at})`,
        {
          hint: `use one of: ${env.deployments.map((x) => x.name).join(', ')}`,
          unchanged: true,
        },
      );
    return d;
  });
}

/**
 * The values of a deployment's `passEnv`, read from this controller's environment, or the coded
 * refusal naming the variables that are not set (names only: a value is never put in an error).
 */
export function passedEnv(d: Deployment): Record<string, string> | undefined {
  if (d.passEnv === undefined || d.passEnv.length === 0) return undefined;
  const unset = d.passEnv.filter((name) => process.env[name] === undefined);
  if (unset.length > 0)
    throw new UpliftError(
      'UPLIFT_ROLLOUT_PASS_ENV_UNSET',
      `deployment ${d.name} (${d.at}) passes ${unset.join(', ')} to its nodes, but this controller's environment does not set ${unset.length === 1 ? 'it' : 'them'}`,
      {
        hint: `set ${unset.join(', ')} in the environment uplift runs in, or take ${unset.length === 1 ? 'it' : 'them'} out of passEnv`,
        unchanged: true,
      },
    );
  return Object.fromEntries(d.passEnv.map((name) => [name, process.env[name] as string]));
}

/** One node reached: its transport, its agent, and the agent as the executor drives it. */
interface Reached {
  transport: NodeTransport;
  agent: NodeAgent;
  rollout: RolloutAgent;
}

export interface Connection {
  /** The agent of a node, installed on first use (one per node for the whole command). */
  agentFor(deployment: string, node: string): Promise<RolloutAgent>;
  /** The node agent itself (for the survey's `plan`), installed on first use. */
  nodeAgentFor(deployment: string, node: string): Promise<NodeAgent>;
  /**
   * Puts the packs a deployment's plan needs on an SSH node (local nodes read them in place): only
   * those it lacks; packs no rollout sent there for a day are removed.
   */
  sendPacks(deployment: string, node: string, files: string[]): Promise<PacksSent | undefined>;
  balancerFor(deployment: string): Promise<Balancer>;
  /** Closes every transport and balancer opened; never rejects. */
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** The single-file CLI the nodes run (default: this checkout's dist/bundle/cli.cjs). */
  bundle?: string;
  /** Progress lines of the transports (connected, copied); never a secret. */
  onLog?: (line: string) => void;
}

/** The bundle a node agent runs: this package's dist/bundle/cli.cjs. */
export function defaultBundle(): string {
  const file = join(packageRoot(), 'dist/bundle/cli.cjs');
  if (!existsSync(file))
    throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `the node bundle ${file} is missing`, {
      hint: 'run npm run build: a rollout runs uplift on each node from its single-file bundle',
      unchanged: true,
    });
  return file;
}

/**
 * The composition root of a rollout, fleet or resume: per node a transport and an agent (a local
 * node runs this checkout's bundle in place; an SSH node gets the kit: bundle, native modules,
 * the deployment's profile folder and its trust file, and the plan's packs beside it), per
 * active/passive deployment its balancer. Everything opens lazily and `close` ends it all.
 */
export function connect(env: Environment, o: ConnectOptions = {}): Connection {
  const reached = new Map<string, Promise<Reached>>();
  const balancers = new Map<string, Balancer>();
  let natives: string[] | undefined;

  const deploymentOf = (name: string) => {
    const d = env.deployments.find((x) => x.name === name);
    /* v8 ignore next -- unreachable: callers name the environment's deployments */
    if (d === undefined) throw new Error(`no deployment ${name} in ${env.name}`);
    return d;
  };
  const nodeOf = (d: Deployment, name: string) => {
    const n = d.nodes.find((x) => x.name === name);
    /* v8 ignore next -- unreachable: callers name the deployment's nodes */
    if (n === undefined) throw new Error(`no node ${name} in ${d.name}`);
    return n;
  };

  const reach = async (d: Deployment, node: TopologyNode): Promise<Reached> => {
    const bundle = o.bundle ?? defaultBundle();
    const profileDir = await findProfileDir(d.profile);
    const local = node.address.kind === 'local';
    // Read once, for the first SSH node: a local node reached first must not leave them empty.
    if (!local) natives ??= nativeKitPackages(nativePackages, packageRoot());
    const kit: AgentKit = {
      bundle,
      natives: local ? [] : (natives ?? []),
      profileDir,
      files: d.trust === undefined ? [] : [{ local: d.trust, as: 'trust.pub' }],
    };
    const transport = await openTransport(node, o.onLog ? { onLog: o.onLog } : {});
    try {
      const installed = await installAgent(transport, node, kit);
      const env = passedEnv(d);
      const agent: NodeAgent =
        env === undefined
          ? installed
          : { ...installed, run: (args, ro) => installed.run(args, { ...ro, env }) };
      const packsPath = local ? d.packs : packsDirOf(agent);
      const rollout: RolloutAgent = {
        label: `${d.name}/${node.name} (${agent.label})`,
        profilePath: agent.profileArg,
        ...(packsPath === undefined || d.packs === undefined ? {} : { packsPath }),
        ...(d.trust === undefined ? {} : { trustPath: agent.filePath('trust.pub') }),
        run: (args, ro) => agent.run(args, ro),
        exec: (argv, eo) => transport.exec(argv, eo),
      };
      return { transport, agent, rollout };
    } catch (e) {
      await transport.close().catch(() => {});
      throw e;
    }
  };

  const reachedFor = (deployment: string, node: string): Promise<Reached> => {
    const key = `${deployment}/${node}`;
    let r = reached.get(key);
    if (r === undefined) {
      const d = deploymentOf(deployment);
      r = reach(d, nodeOf(d, node));
      reached.set(key, r);
    }
    return r;
  };

  return {
    agentFor: async (deployment, node) => (await reachedFor(deployment, node)).rollout,
    nodeAgentFor: async (deployment, node) => (await reachedFor(deployment, node)).agent,
    async sendPacks(deployment, node, files) {
      const d = deploymentOf(deployment);
      if (nodeOf(d, node).address.kind === 'local' || d.packs === undefined) return undefined;
      const { transport, agent } = await reachedFor(deployment, node);
      const { hashFile } = await import('./survey.ts');
      const packs = await Promise.all(
        files.map(async (name) => {
          const local = join(d.packs as string, name);
          return { name, local, sha256: await hashFile(local) };
        }),
      );
      return putPacks(transport, nodeOf(d, node), packsDirOf(agent), packs);
    },
    async balancerFor(deployment) {
      const d = deploymentOf(deployment);
      let b = balancers.get(deployment);
      if (b === undefined) {
        if (d.balancer === undefined)
          throw new UpliftError(
            'UPLIFT_TOPOLOGY_INVALID',
            `deployment ${d.name} (${d.at}) has no balancer`,
            { hint: 'an active-passive deployment names its balancer (docs/topology.md)' },
          );
        b = openBalancer(d.balancer);
        balancers.set(deployment, b);
      }
      return b;
    },
    async close() {
      const all = await Promise.allSettled(reached.values());
      await Promise.allSettled([
        ...all.flatMap((r) => (r.status === 'fulfilled' ? [r.value.transport.close()] : [])),
        ...[...balancers.values()].map((b) => b.close()),
      ]);
    },
  };
}

/** The packs folder beside the node's kits (`<agentDir>/packs`): shared by the kits of every build. */
function packsDirOf(agent: NodeAgent): string {
  return posix.join(posix.dirname(agent.kitDir), 'packs');
}
