import type {
  Deployment,
  DeploymentType,
  Environment,
  TopologyNode,
} from '../../src/topology/types.ts';

/** A node of a test topology: a local path named after it, with an optional role or side. */
export function testNode(name: string, extra: Partial<TopologyNode> = {}): TopologyNode {
  return {
    name,
    address: { kind: 'local', path: `/srv/${name}` },
    nodeRuntime: 'node',
    ...extra,
  };
}

/** A deployment of a test topology with the topology's defaults. */
export function testDeployment(
  name: string,
  type: DeploymentType,
  nodes: TopologyNode[],
  extra: Partial<Deployment> = {},
): Deployment {
  return {
    name,
    type,
    profile: 'demo',
    to: '2.0.0',
    concurrency: 1,
    nodeTimeoutSeconds: 3600,
    nodes,
    at: `uplift.yaml:1:1`,
    ...extra,
  };
}

export function testEnvironment(name: string, deployments: Deployment[]): Environment {
  return { name, deployments, at: 'uplift.yaml:1:1' };
}

/** The six types, each a deployment of a few nodes. */
export const everyType = {
  standalone: () => testDeployment('solo', 'standalone', [testNode('s1')]),
  standard: () =>
    testDeployment(
      'std',
      'standard-cluster',
      ['n1', 'n2', 'n3'].map((n) => testNode(n)),
      {
        concurrency: 3,
        afterStart: ['sync-cluster'],
      },
    ),
  streaming: () =>
    testDeployment(
      'stream',
      'streaming',
      [
        testNode('edge1', { role: 'edge' }),
        testNode('backend', { role: 'backend' }),
        testNode('edge2', { role: 'edge' }),
      ],
      { concurrency: 2 },
    ),
  enterprise: () =>
    testDeployment(
      'ec',
      'enterprise-cluster',
      ['e1', 'e2', 'e3'].map((n) => testNode(n)),
    ),
  activePassive: () =>
    testDeployment(
      'ap',
      'active-passive',
      [testNode('a1', { side: 'a' }), testNode('b1', { side: 'b' })],
      {
        balancer: { kind: 'command', drain: ['d'], enable: ['e'], drainTimeoutSeconds: 30 },
      },
    ),
  rolling: () =>
    testDeployment(
      'roll',
      'rolling',
      ['r1', 'r2', 'r3', 'r4', 'r5'].map((n) => testNode(n)),
      {
        rolling: { maxUnavailable: 2, pauseSeconds: 5, maxFailureRatio: 0 },
      },
    ),
};
