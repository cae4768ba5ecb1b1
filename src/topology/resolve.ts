import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import {
  type SourceLocation,
  type UpliftCode,
  UpliftError,
  type UpliftErrorDetail,
} from '../errors/index.ts';
import { canonicalJson } from '../util/index.ts';
import {
  controllerPath,
  installationKey,
  parseAt,
  parseHostKey,
  profileRef,
  type ValueProblem,
} from './address.ts';
import type { DeploymentEntry, NodeEntry, TopologyFile } from './schema.ts';
import type {
  BalancerSettings,
  Deployment,
  Environment,
  HostKeyPolicy,
  Topology,
  TopologyNode,
} from './types.ts';

/** Where a field of the topology is written, and how to name it to the operator who wrote it. */
export type Locate = (path: readonly (string | number)[]) => {
  location: SourceLocation;
  field: string;
};

const docsHint = 'correct the field named above; docs/topology.md describes every field';

/** Throws the topology error for a list of problems, the first one leading. */
export function failTopology(
  code: UpliftCode,
  file: string,
  details: readonly UpliftErrorDetail[],
): never {
  // In file order, so the first one reported is the first one an operator reaches.
  details = [...details].sort(
    (a, b) =>
      (a.location?.line ?? 0) - (b.location?.line ?? 0) ||
      (a.location?.col ?? 0) - (b.location?.col ?? 0),
  );
  const first = details[0];
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  throw new UpliftError(code, `${first?.message ?? 'invalid topology'}${more}`, {
    location: first?.location ?? { file },
    details,
    hint: first?.hint ?? docsHint,
  });
}

/**
 * The `Topology` of a schema-valid file: defaults filled in, addresses parsed, paths resolved from
 * the file's folder, and the rules the schema cannot say checked (uniqueness, what each type needs,
 * a host key policy for every SSH node). Collects every problem, then throws them as one `code`.
 */
export function resolveTopology(
  file: string,
  raw: TopologyFile,
  locate: Locate,
  code: UpliftCode,
): Topology {
  const base = dirname(file);
  const problems: UpliftErrorDetail[] = [];
  const problem = (path: (string | number)[], message: string, hint?: string) => {
    const { location, field } = locate(path);
    problems.push({ message: `${field}: ${message}`, location, hint: hint ?? docsHint });
  };
  const d = raw.defaults ?? {};

  const environments: Environment[] = [];
  const envNames = new Set<string>();
  raw.environments.forEach((env, e) => {
    const envPath = ['environments', e];
    if (envNames.has(env.name))
      problem(
        [...envPath, 'name'],
        `the environment "${env.name}" is listed twice`,
        'give each environment its own name',
      );
    envNames.add(env.name);
    const installs = new Map<string, string>();
    const depNames = new Set<string>();
    const deployments: Deployment[] = [];
    env.deployments.forEach((dep, k) => {
      const depPath = [...envPath, 'deployments', k];
      if (depNames.has(dep.name))
        problem(
          [...depPath, 'name'],
          `the deployment "${dep.name}" is listed twice in the environment "${env.name}"`,
          'give each deployment of an environment its own name',
        );
      depNames.add(dep.name);
      const nodes: TopologyNode[] = [];
      const nodeNames = new Set<string>();
      dep.nodes.forEach((n, i) => {
        const nodePath = [...depPath, 'nodes', i];
        if (nodeNames.has(n.name))
          problem(
            [...nodePath, 'name'],
            `the node "${n.name}" is listed twice in the deployment "${dep.name}"`,
            'give each node of a deployment its own name',
          );
        nodeNames.add(n.name);
        const node = resolveNode(n, nodePath);
        if (node === undefined) return;
        const key = installationKey(node.address);
        const seen = installs.get(key);
        if (seen !== undefined)
          problem(
            [...nodePath, 'at'],
            `the same installation is already listed as ${seen} in the environment "${env.name}"`,
            'list each installation once per environment; remove this node or correct its address',
          );
        else installs.set(key, `${dep.name}/${n.name}`);
        nodes.push(node);
      });
      checkType(dep, depPath);
      deployments.push(resolveDeployment(dep, depPath, nodes));
    });
    environments.push({ name: env.name, deployments, at: at(envPath) });
  });

  if (problems.length > 0) failTopology(code, file, problems);
  return { file, digest: topologyDigest(environments), environments };

  function at(path: (string | number)[]): string {
    const { location } = locate(path);
    return `${location.file}:${location.line ?? 1}:${location.col ?? 1}`;
  }

  function report(path: (string | number)[], p: ValueProblem): void {
    problem(path, p.message, p.hint);
  }

  function resolveNode(n: NodeEntry, path: (string | number)[]): TopologyNode | undefined {
    const address = parseAt(n.at, base);
    if ('message' in address) {
      report([...path, 'at'], address);
      return undefined;
    }
    const node: TopologyNode = {
      name: n.name,
      address,
      nodeRuntime: n.nodeRuntime ?? d.nodeRuntime ?? 'node',
      ...((n.agentDir ?? d.agentDir) ? { agentDir: n.agentDir ?? d.agentDir } : {}),
      ...(n.role ? { role: n.role } : {}),
      ...(n.side ? { side: n.side } : {}),
      ...(n.balancerServer ? { balancerServer: n.balancerServer } : {}),
    };
    if (address.kind === 'local') {
      for (const f of ['hostKey', 'knownHosts', 'identity', 'connectTimeoutSeconds'] as const)
        if (n[f] !== undefined)
          problem(
            [...path, f],
            `only an ssh:// node takes ${f}`,
            `remove ${f}: this node is a local folder`,
          );
      return node;
    }
    if (n.hostKey !== undefined && n.knownHosts !== undefined) {
      problem(
        [...path, 'hostKey'],
        'both hostKey and knownHosts are set',
        'keep one: a pinned hostKey, or a knownHosts file',
      );
      return undefined;
    }
    let hostKey: HostKeyPolicy;
    if (n.hostKey !== undefined) {
      const parsed = parseHostKey(n.hostKey);
      if ('message' in parsed) {
        report([...path, 'hostKey'], parsed);
        return undefined;
      }
      hostKey = { kind: 'pinned', key: parsed.key };
    } else if ((n.knownHosts ?? d.knownHosts) !== undefined) {
      hostKey = {
        kind: 'known-hosts',
        file: controllerPath(base, (n.knownHosts ?? d.knownHosts) as string),
      };
    } else {
      problem(
        [...path, 'at'],
        `the ssh node "${n.name}" has no host key policy: uplift refuses hosts it cannot verify`,
        'add hostKey: "ssh-ed25519 AAAA…" (ssh-keyscan -t ed25519 HOST prints it) or knownHosts: FILE to the node, or knownHosts to defaults',
      );
      return undefined;
    }
    const identity = n.identity ?? d.identity;
    node.ssh = {
      hostKey,
      ...(identity !== undefined ? { identity: controllerPath(base, identity) } : {}),
      connectTimeoutSeconds: n.connectTimeoutSeconds ?? d.connectTimeoutSeconds ?? 20,
    };
    return node;
  }

  function resolveDeployment(
    dep: DeploymentEntry,
    path: (string | number)[],
    nodes: TopologyNode[],
  ): Deployment {
    const packs = dep.packs ?? d.packs;
    const trust = dep.trust ?? d.trust;
    const channel = dep.channel ?? d.channel;
    return {
      name: dep.name,
      type: dep.type,
      profile: profileRef(base, dep.profile),
      to: dep.to ?? d.to ?? 'latest',
      ...(channel !== undefined ? { channel } : {}),
      ...(packs !== undefined ? { packs: controllerPath(base, packs) } : {}),
      ...(trust !== undefined ? { trust: controllerPath(base, trust) } : {}),
      concurrency: dep.concurrency ?? d.concurrency ?? 1,
      nodeTimeoutSeconds: dep.nodeTimeoutSeconds ?? d.nodeTimeoutSeconds ?? 3600,
      nodes,
      ...(dep.balancer ? { balancer: balancerOf(dep.balancer) } : {}),
      ...(dep.type === 'rolling'
        ? {
            rolling: {
              maxUnavailable: dep.rolling?.maxUnavailable ?? 1,
              pauseSeconds: dep.rolling?.pauseSeconds ?? 0,
              maxFailureRatio: dep.rolling?.maxFailureRatio ?? 0,
            },
          }
        : {}),
      ...(dep.afterStart ? { afterStart: dep.afterStart } : {}),
      ...(dep.passEnv && dep.passEnv.length > 0 ? { passEnv: [...new Set(dep.passEnv)] } : {}),
      at: at(path),
    };
  }

  /** What each type needs of its nodes and sections, and the sections it would silently ignore. */
  function checkType(dep: DeploymentEntry, path: (string | number)[]): void {
    const t = dep.type;
    const only = (field: 'balancer' | 'rolling' | 'afterStart', type: string) => {
      if (dep[field] !== undefined && t !== type)
        problem(
          [...path, field],
          `only a ${type} deployment takes ${field}`,
          `remove ${field}, or make the type ${type}`,
        );
    };
    only('balancer', 'active-passive');
    only('rolling', 'rolling');
    only('afterStart', 'standard-cluster');
    dep.nodes.forEach((n, i) => {
      if (n.role !== undefined && t !== 'streaming')
        problem(
          [...path, 'nodes', i, 'role'],
          'only the nodes of a streaming deployment take a role',
          'remove role',
        );
      for (const f of ['side', 'balancerServer'] as const)
        if (n[f] !== undefined && t !== 'active-passive')
          problem(
            [...path, 'nodes', i, f],
            `only the nodes of an active-passive deployment take ${f}`,
            `remove ${f}`,
          );
    });
    if (t === 'standalone' && dep.nodes.length !== 1)
      problem(
        [...path, 'nodes'],
        `a standalone deployment has exactly one node, this one lists ${dep.nodes.length}`,
        'list one node, or choose the cluster type these nodes form',
      );
    if (t === 'streaming') {
      dep.nodes.forEach((n, i) => {
        if (n.role === undefined)
          problem(
            [...path, 'nodes', i],
            `the streaming node "${n.name}" has no role`,
            'add role: backend or role: edge',
          );
      });
      const backends = dep.nodes.filter((n) => n.role === 'backend');
      if (backends.length !== 1)
        problem(
          [...path, 'nodes'],
          `a streaming deployment has exactly one backend, this one has ${backends.length}`,
          'give one node role: backend and the others role: edge',
        );
    }
    if (t === 'active-passive') {
      dep.nodes.forEach((n, i) => {
        if (n.side === undefined)
          problem(
            [...path, 'nodes', i],
            `the active-passive node "${n.name}" has no side`,
            'add side: a (active) or side: b (passive)',
          );
      });
      for (const side of ['a', 'b'] as const)
        if (dep.nodes.every((n) => n.side !== undefined) && !dep.nodes.some((n) => n.side === side))
          problem(
            [...path, 'nodes'],
            `side ${side} has no node`,
            'put at least one node on each side, a and b',
          );
      const servers = new Map<string, number>();
      dep.nodes.forEach((n, i) => {
        const server = n.balancerServer ?? n.name;
        if (servers.has(server))
          problem(
            [...path, 'nodes', i, n.balancerServer ? 'balancerServer' : 'name'],
            `the balancer server "${server}" is used by two nodes`,
            'give each node its own balancerServer (the server name in the balancer backend)',
          );
        servers.set(server, i);
      });
      if (dep.balancer === undefined)
        problem(
          path,
          `the active-passive deployment "${dep.name}" has no balancer`,
          'add balancer: { kind: haproxy, socket, backend } or balancer: { kind: command, drain, enable }',
        );
    }
  }
}

function balancerOf(b: NonNullable<DeploymentEntry['balancer']>): BalancerSettings {
  return { ...b, drainTimeoutSeconds: b.drainTimeoutSeconds ?? 120 };
}

/**
 * `sha256:<hex>` of the topology's canonical JSON without positions: reformatting the file or
 * adding a comment keeps the digest; any change to what a rollout does changes it.
 */
function topologyDigest(environments: readonly Environment[]): string {
  const bare = environments.map(({ at: _e, ...env }) => ({
    ...env,
    deployments: env.deployments.map(({ at: _d, ...dep }) => dep),
  }));
  return `sha256:${createHash('sha256')
    .update(canonicalJson({ environments: bare }))
    .digest('hex')}`;
}
