import type { Deployment, Environment } from '../topology/types.ts';
import type {
  DeploymentRolloutPlan,
  NodeEstimate,
  NodeKey,
  NodeStatus,
  PlanRolloutOptions,
  RolloutPlan,
  RolloutStep,
} from './types.ts';

/** How facts about a node are keyed across an environment. */
export function nodeKey(deployment: string, node: string): NodeKey {
  return `${deployment}/${node}`;
}

interface Facts {
  status: Map<NodeKey, NodeStatus>;
  estimates: Map<NodeKey, NodeEstimate>;
}

/** A type's order: its steps and the index of its point of no return. */
interface Order {
  steps: RolloutStep[];
  pointOfNoReturn: number | null;
  pointOfNoReturnReason: string;
}

/**
 * The rollout of an environment, deployment by deployment, from what its nodes report now. Pure
 * and deterministic: the same inputs give the same plan. Nodes already at the target are not
 * upgraded again, so a plan made from the nodes after an interrupted run continues it.
 */
export function planRollout(
  env: Environment,
  nodeStatus: Map<NodeKey, NodeStatus>,
  estimates: Map<NodeKey, NodeEstimate>,
  opts: PlanRolloutOptions,
): RolloutPlan {
  const facts: Facts = { status: nodeStatus, estimates };
  const wanted = opts.deployments ? new Set(opts.deployments) : undefined;
  const deployments = env.deployments
    .filter((d) => wanted === undefined || wanted.has(d.name))
    .map((d) => planDeployment(d, facts, opts.targets[d.name] ?? d.to));
  return { env: env.name, deployments };
}

function planDeployment(d: Deployment, facts: Facts, to: string): DeploymentRolloutPlan {
  const before: Record<string, NodeStatus> = {};
  for (const n of d.nodes) before[n.name] = statusOf(facts, d.name, n.name);
  const at = (n: string) => before[n]?.version === to;
  const skipped = d.nodes.filter((n) => at(n.name)).map((n) => n.name);
  const order = orderFor(d, before, at);
  const upgrades = order.steps.filter((s) => s.kind === 'upgrade').flatMap((s) => s.nodes);
  const timeline = simulate(d, order.steps, before, facts);
  return {
    deployment: d.name,
    type: d.type,
    to,
    steps: order.steps,
    pointOfNoReturn: order.pointOfNoReturn,
    pointOfNoReturnReason: order.pointOfNoReturnReason,
    skipped,
    upgrades,
    before,
    downtime: serviceDowntime(d, timeline),
    expectedSeconds: timeline.end,
  };
}

function statusOf(facts: Facts, deployment: string, node: string): NodeStatus {
  const s = facts.status.get(nodeKey(deployment, node));
  // A node that reported nothing is planned as if it runs an unknown version: it is upgraded.
  return s ?? { version: '', running: true };
}

function orderFor(
  d: Deployment,
  before: Record<string, NodeStatus>,
  at: (n: string) => boolean,
): Order {
  switch (d.type) {
    case 'standalone':
      return standaloneOrder(d, before, at);
    case 'standard-cluster':
      return standardClusterOrder(d, before, at);
    case 'streaming':
      return streamingOrder(d, before, at);
    case 'enterprise-cluster':
      return oneAtATimeOrder(d, before, at);
    case 'active-passive':
      return activePassiveOrder(d, before, at);
    case 'rolling':
      return rollingOrder(d, before, at);
  }
}

const names = (d: Deployment) => d.nodes.map((n) => n.name);
const running = (before: Record<string, NodeStatus>, n: string) => before[n]?.running === true;

/** A step per node of `nodes`; none when `nodes` is empty. */
function each(kind: RolloutStep['kind'], nodes: string[], extra: Partial<RolloutStep> = {}) {
  return nodes.map((n): RolloutStep => ({ kind, nodes: [n], ...extra }));
}

/** One step over `nodes`; none when `nodes` is empty. */
function all(
  kind: RolloutStep['kind'],
  nodes: string[],
  extra: Partial<RolloutStep> = {},
): RolloutStep[] {
  return nodes.length === 0 ? [] : [{ kind, nodes, ...extra }];
}

function standaloneOrder(
  d: Deployment,
  before: Record<string, NodeStatus>,
  at: (n: string) => boolean,
): Order {
  const steps = [
    ...all(
      'start',
      names(d).filter((n) => at(n) && !running(before, n)),
    ),
    ...each(
      'upgrade',
      names(d).filter((n) => !at(n)),
    ),
  ];
  return {
    steps,
    pointOfNoReturn: lastIndex(steps, 'upgrade'),
    pointOfNoReturnReason:
      'apply commits the node and rolls it back itself when it fails before; once it has committed there is nothing left to undo',
  };
}

/**
 * Guide, "Standard Cluster", option 1: stop all nodes; upgrade one at a time, each left stopped;
 * start all only when every node is upgraded; then the manual sync (the afterStart hook).
 */
function standardClusterOrder(
  d: Deployment,
  before: Record<string, NodeStatus>,
  at: (n: string) => boolean,
): Order {
  const todo = names(d).filter((n) => !at(n));
  const parallel = d.concurrency;
  const stop = todo.length === 0 ? [] : names(d).filter((n) => running(before, n));
  const start = todo.length === 0 ? names(d).filter((n) => !running(before, n)) : names(d).slice();
  const steps: RolloutStep[] = [
    ...all('stop', stop, { parallel }),
    ...each('upgrade', todo, { leaveStopped: true }),
    ...all('start', start, { parallel, note: 'only when every node is upgraded' }),
  ];
  const ponr = lastIndex(steps, 'start');
  if (start.length > 0 && d.afterStart !== undefined && d.afterStart.length > 0)
    steps.push({ kind: 'after-start', nodes: names(d), note: 'the manual sync' });
  if (start.length > 0) steps.push({ kind: 'probe', nodes: names(d), parallel });
  return {
    steps,
    pointOfNoReturn: ponr,
    pointOfNoReturnReason:
      'once every node started on the new version the cluster serves and writes in it; rolling back after that could lose what clients wrote, so a later failure stops for the operator',
  };
}

/**
 * Guide, "Streaming": stop the edges, then the backend; upgrade the backend first, then the edges;
 * start the backend, then the edges. An edge and a backend of different versions never run
 * together (the executor checks before each edge start).
 */
function streamingOrder(
  d: Deployment,
  before: Record<string, NodeStatus>,
  at: (n: string) => boolean,
): Order {
  const backends = d.nodes.filter((n) => n.role === 'backend').map((n) => n.name);
  const edges = d.nodes.filter((n) => n.role !== 'backend').map((n) => n.name);
  const work = names(d).some((n) => !at(n));
  const parallel = d.concurrency;
  const stopped = (ns: string[]) => (work ? ns.filter((n) => running(before, n)) : []);
  const started = (ns: string[]) => (work ? ns : ns.filter((n) => !running(before, n)));
  const steps: RolloutStep[] = [
    ...all('stop', stopped(edges), { parallel, note: 'edges first' }),
    ...all('stop', stopped(backends), { parallel }),
    ...each(
      'upgrade',
      backends.filter((n) => !at(n)),
      { leaveStopped: true },
    ),
    ...each(
      'upgrade',
      edges.filter((n) => !at(n)),
      { leaveStopped: true },
    ),
    ...all('start', started(backends), { parallel, note: 'the backend before its edges' }),
    ...all('start', started(edges), { parallel }),
  ];
  const ponr = lastIndex(steps, 'start');
  if (steps.some((s) => s.kind === 'start'))
    steps.push({ kind: 'probe', nodes: [...backends, ...edges], parallel });
  return {
    steps,
    pointOfNoReturn: ponr,
    pointOfNoReturnReason:
      'once the edges started on the new version clients transfer through it; a later failure stops for the operator',
  };
}

/** Enterprise cluster: one node at a time (apply stops, switches, starts, probes it), the others serving. */
function oneAtATimeOrder(
  d: Deployment,
  before: Record<string, NodeStatus>,
  at: (n: string) => boolean,
): Order {
  const steps: RolloutStep[] = [
    ...all(
      'start',
      names(d).filter((n) => at(n) && !running(before, n)),
    ),
    ...each(
      'upgrade',
      names(d).filter((n) => !at(n)),
    ),
  ];
  if (steps.length > 0) steps.push({ kind: 'probe', nodes: names(d), parallel: d.concurrency });
  return {
    steps,
    pointOfNoReturn: steps.length === 0 ? null : steps.length - 1,
    pointOfNoReturnReason:
      'every node serves while the others upgrade: until the last probe passed any failure rolls the upgraded nodes back, one at a time',
  };
}

/**
 * Active/passive behind a balancer (zero-downtime-lec.md): drain the passive side b, upgrade it,
 * enable it; drain the active side a (its open sessions end), upgrade it, enable it; then b goes
 * back to passive (drained).
 */
function activePassiveOrder(
  d: Deployment,
  before: Record<string, NodeStatus>,
  at: (n: string) => boolean,
): Order {
  const side = (s: 'a' | 'b') => d.nodes.filter((n) => (n.side ?? 'a') === s).map((n) => n.name);
  const a = side('a');
  const b = side('b');
  const todoA = a.filter((n) => !at(n));
  const todoB = b.filter((n) => !at(n));
  const parallel = d.concurrency;
  const steps: RolloutStep[] = [];
  const startIdle = (ns: string[]) =>
    all(
      'start',
      ns.filter((n) => at(n) && !running(before, n)),
    );
  if (todoB.length > 0)
    steps.push(
      ...all('drain', b, { note: 'the passive side takes no new connection' }),
      ...all('wait-drained', b),
      ...all('upgrade', todoB, { parallel }),
      ...startIdle(b),
      ...all('enable', b, { note: 'the upgraded side takes traffic' }),
    );
  if (todoA.length > 0) {
    if (todoB.length === 0) steps.push(...startIdle(b), ...all('enable', b));
    steps.push(
      ...all('drain', a, { note: 'open sessions on the active side end' }),
      ...all('wait-drained', a),
      ...all('upgrade', todoA, { parallel }),
      ...startIdle(a),
      ...all('enable', a),
    );
  }
  const ponr = todoA.length > 0 ? lastIndex(steps, 'enable') : null;
  if (steps.length > 0) steps.push(...all('drain', b, { note: 'b back to passive' }));
  else steps.push(...startIdle(a), ...startIdle(b));
  return {
    steps,
    pointOfNoReturn: ponr ?? (steps.length === 0 ? null : steps.length - 1),
    pointOfNoReturnReason:
      'once side a is enabled on the new version both sides serve it; until then side a runs the old version and everything upgraded can be taken back',
  };
}

/** Rolling: batches of maxUnavailable, a health gate after each, a pause between them. */
function rollingOrder(
  d: Deployment,
  before: Record<string, NodeStatus>,
  at: (n: string) => boolean,
): Order {
  const size = Math.max(1, d.rolling?.maxUnavailable ?? 1);
  const pause = d.rolling?.pauseSeconds ?? 0;
  const todo = names(d).filter((n) => !at(n));
  const steps: RolloutStep[] = [
    ...all(
      'start',
      names(d).filter((n) => at(n) && !running(before, n)),
    ),
  ];
  for (let i = 0; i < todo.length; i += size) {
    const batch = todo.slice(i, i + size);
    steps.push({ kind: 'upgrade', nodes: batch, parallel: batch.length });
    steps.push({ kind: 'gate', nodes: batch, parallel: batch.length });
    if (pause > 0 && i + size < todo.length)
      steps.push({ kind: 'pause', nodes: [], seconds: pause });
  }
  return {
    steps,
    pointOfNoReturn: steps.length === 0 ? null : steps.length - 1,
    pointOfNoReturnReason:
      'mixed versions are allowed while batches pass their gates; a failure over the ratio rolls every upgraded node back, until the last gate passed',
  };
}

function lastIndex(steps: RolloutStep[], kind: RolloutStep['kind']): number | null {
  for (let i = steps.length - 1; i >= 0; i--) if (steps[i]?.kind === kind) return i;
  return null;
}

interface Timeline {
  /** Intervals a node is out of service, in seconds from the plan's start. */
  down: Map<string, [number, number][]>;
  end: number;
}

/**
 * Runs the steps on the estimates: each step after the previous, its nodes in waves of
 * `parallel`, a wave as long as its slowest node.
 */
function simulate(
  d: Deployment,
  steps: RolloutStep[],
  before: Record<string, NodeStatus>,
  facts: Facts,
): Timeline {
  const est = (n: string): NodeEstimate =>
    facts.estimates.get(nodeKey(d.name, n)) ?? {
      stopSeconds: 0,
      upgradeSeconds: 0,
      startSeconds: 0,
    };
  const up = new Map<string, boolean>();
  const since = new Map<string, number>();
  const down = new Map<string, [number, number][]>();
  for (const n of names(d)) {
    up.set(n, running(before, n));
    down.set(n, []);
    if (!running(before, n)) since.set(n, 0);
  }
  const goDown = (n: string, t: number) => {
    if (up.get(n) === false) return;
    up.set(n, false);
    since.set(n, t);
  };
  const goUp = (n: string, t: number) => {
    if (up.get(n) === true) return;
    up.set(n, true);
    down.get(n)?.push([since.get(n) ?? 0, t]);
  };
  let t = 0;
  for (const step of steps) {
    if (step.kind === 'pause') {
      t += step.seconds ?? 0;
      continue;
    }
    const parallel = Math.max(1, step.parallel ?? 1);
    for (let i = 0; i < step.nodes.length; i += parallel) {
      let wave = 0;
      for (const n of step.nodes.slice(i, i + parallel)) {
        const e = est(n);
        let s = 0;
        if (step.kind === 'stop') {
          goDown(n, t);
          s = e.stopSeconds;
        } else if (step.kind === 'start') {
          s = e.startSeconds;
          goUp(n, t + s);
        } else if (step.kind === 'upgrade') {
          const wasUp = up.get(n) === true;
          goDown(n, t);
          s = (wasUp ? e.stopSeconds : 0) + e.upgradeSeconds;
          if (!step.leaveStopped) {
            s += e.startSeconds;
            goUp(n, t + s);
          }
        } else if (step.kind === 'probe' || step.kind === 'gate') s = e.probeSeconds ?? 0;
        wave = Math.max(wave, s);
      }
      t += wave;
    }
  }
  for (const n of names(d)) if (up.get(n) === false) down.get(n)?.push([since.get(n) ?? 0, t]);
  return { down, end: t };
}

/** Zero when the type keeps serving while it upgrades; else from the first stop to the last start. */
function serviceDowntime(d: Deployment, tl: Timeline): DeploymentRolloutPlan['downtime'] {
  const perNode: Record<string, number> = {};
  for (const [n, spans] of tl.down) perNode[n] = spans.reduce((s, [a, b]) => s + (b - a), 0);
  const spans = [...tl.down.values()].flat();
  const span =
    spans.length === 0
      ? 0
      : Math.max(...spans.map(([, b]) => b)) - Math.min(...spans.map(([a]) => a));
  const n = d.nodes.length;
  const zero =
    (d.type === 'enterprise-cluster' && n > 1) ||
    d.type === 'active-passive' ||
    (d.type === 'rolling' && (d.rolling?.maxUnavailable ?? 1) < n);
  if (zero)
    return {
      perNode,
      serviceSeconds: 0,
      basis:
        d.type === 'active-passive'
          ? 'one side serves while the other upgrades'
          : 'the other nodes serve while a node upgrades',
    };
  return {
    perNode,
    serviceSeconds: span,
    basis:
      n === 1
        ? 'the node is the service: from its stop to its start'
        : 'no node serves from the first stop to the last start',
  };
}
