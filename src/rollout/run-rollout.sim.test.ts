/**
 * SIMULATION tests of the executor: the nodes, the balancer and the state store are small in-memory
 * models defined here, not uplift on real nodes (the end-to-end tests with real agents, sshd,
 * HAProxy and PostgreSQL come with the wiring). The models record every call and enforce the
 * invariants the orders exist for; a broken invariant is recorded and fails the test.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { everyType, testEnvironment } from '../../test/util/rollout-topology.ts';
import type { Balancer, ServerState } from '../balancer/types.ts';
import type { AuditEntry, Claim, NodeStateRecord, RunRecord, StateStore } from '../state/types.ts';
import type { Deployment, Environment } from '../topology/types.ts';
import { nodeKey, planRollout } from './plan-rollout.ts';
import { resumeRollout } from './resume-rollout.ts';
import { runRollout } from './run-rollout.ts';
import type {
  AgentResult,
  NodeEstimate,
  NodeStatus,
  RolloutAgent,
  RolloutContext,
  RolloutEvent,
} from './types.ts';

interface SimNode {
  deployment: Deployment;
  name: string;
  version: string;
  running: boolean;
  /** The version before the node's last committed apply (what `rollback --whole-run` restores). */
  previous?: string;
  /** An apply cut short: its journal says from/to. */
  interrupted?: { from: string; to: string; leaveStopped: boolean };
  /** A dead controller's apply still runs here: it holds the lock for this many status reads, then commits (left stopped). */
  orphanApply?: { reads: number; to: string };
}

interface Faults {
  /** apply fails on these nodes (the node rolls itself back, as apply does). */
  failApply?: Set<string>;
  /** apply reports success but the version does not change (a node that lies). */
  staleApply?: Set<string>;
  /** apply never answers on these nodes (the agent's timeout kills it: the journal is interrupted). */
  hangApply?: Set<string>;
  /** the controller dies while apply runs on this node (its journal stays interrupted). */
  crashDuringApply?: string;
  /** service status says not ready. */
  notReady?: Set<string>;
  /**
   * The connection to this node is cut during its apply, which goes on out of sight: the node
   * runs the new version (validating it) and every later call fails.
   */
  cutDuringApply?: string;
}

/** A fleet of simulated nodes, a balancer per active/passive deployment, and the invariants. */
class SimFleet {
  readonly nodes = new Map<string, SimNode>();
  readonly calls: string[] = [];
  readonly violations: string[] = [];
  readonly balancers = new Map<string, SimBalancer>();
  faults: Faults = {};
  crash = new AbortController();
  /** Nodes whose connection is cut: every call fails. */
  readonly cut = new Set<string>();

  constructor(env: Environment, version = '1.0.0') {
    for (const d of env.deployments) {
      for (const n of d.nodes)
        this.nodes.set(nodeKey(d.name, n.name), {
          deployment: d,
          name: n.name,
          version,
          running: true,
        });
      if (d.type === 'active-passive') {
        const admin = new Map(
          d.nodes.map((n) => [n.name, n.side === 'b' ? 'drain' : 'ready'] as const),
        );
        this.balancers.set(d.name, new SimBalancer(this, d, new Map(admin)));
      }
    }
  }

  node(d: string, n: string): SimNode {
    return this.nodes.get(nodeKey(d, n)) as SimNode;
  }

  versions(d: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const n of this.nodes.values())
      if (n.deployment.name === d) out[n.name] = `${n.version}${n.running ? '' : ' (stopped)'}`;
    return out;
  }

  /** The invariants each type's order keeps, checked after every change. */
  check(why: string): void {
    const byDeployment = new Map<string, SimNode[]>();
    for (const n of this.nodes.values())
      byDeployment.set(n.deployment.name, [...(byDeployment.get(n.deployment.name) ?? []), n]);
    for (const [name, nodes] of byDeployment) {
      const d = (nodes[0] as SimNode).deployment;
      const running = nodes.filter((n) => n.running);
      if (d.type === 'standard-cluster' && new Set(running.map((n) => n.version)).size > 1)
        this.violations.push(
          `${why}: ${name} runs mixed versions ${JSON.stringify(this.versions(name))}`,
        );
      if (d.type === 'streaming') {
        const role = (n: SimNode) => d.nodes.find((x) => x.name === n.name)?.role;
        for (const e of running.filter((n) => role(n) !== 'backend'))
          for (const b of running.filter((n) => role(n) === 'backend'))
            if (b.version !== e.version)
              this.violations.push(
                `${why}: edge ${e.name} ${e.version} runs beside backend ${b.version}`,
              );
      }
      if (d.type === 'enterprise-cluster' && running.length === 0)
        this.violations.push(`${why}: ${name} has no node serving`);
      if (d.type === 'active-passive') {
        const b = this.balancers.get(name) as SimBalancer;
        const serving = nodes.filter((n) => n.running && b.admin.get(n.name) === 'ready');
        if (serving.length === 0)
          this.violations.push(`${why}: ${name} has no server taking connections`);
      }
    }
  }

  agent(d: Deployment, name: string): RolloutAgent {
    const node = this.node(d.name, name);
    const ok = (json: unknown = {}): AgentResult => ({
      code: 0,
      json,
      stdout: JSON.stringify(json),
      stderr: '',
    });
    const err = (code: string, exit = 1): AgentResult => ({
      code: exit,
      json: { error: { code, message: code } },
      stdout: '',
      stderr: code,
    });
    return {
      label: `sim:${d.name}/${name}`,
      profilePath: 'demo',
      packsPath: '/packs',
      trustPath: '/trust.json',
      exec: async (argv) => {
        this.calls.push(`${d.name}/${name} exec ${argv.join(' ')}`);
        return { code: 0, stdout: '', stderr: '' };
      },
      run: async (args, o) => {
        const verb = args[0] === 'service' ? `service ${args[1]}` : (args[0] as string);
        if (this.cut.has(name))
          throw Object.assign(new Error('connection ended'), { code: 'UPLIFT_SSH_CONNECT' });
        if (verb !== 'service status')
          this.calls.push(`${d.name}/${name} ${verb}${args.includes('--abort') ? ' --abort' : ''}`);
        const flag = (f: string) => args[args.indexOf(f) + 1] as string;
        switch (verb) {
          case 'service status':
            if (node.orphanApply !== undefined && node.orphanApply.reads-- <= 0) {
              node.previous = node.version;
              node.version = node.orphanApply.to;
              node.orphanApply = undefined;
            }
            return ok({
              version: node.version,
              running: node.running,
              ready: node.running && !this.faults.notReady?.has(name),
              interrupted: node.interrupted !== undefined,
              lock: node.orphanApply ? { pid: 4242, command: 'apply' } : null,
            });
          case 'service stop':
            node.running = false;
            this.check(`stop ${name}`);
            return ok();
          case 'service start':
            if (node.interrupted) return err('UPLIFT_APPLY_INCOMPLETE', 5);
            node.running = true;
            this.check(`start ${name}`);
            return ok();
          case 'apply': {
            if (node.interrupted) return err('UPLIFT_APPLY_INCOMPLETE', 5);
            if (node.orphanApply) return err('UPLIFT_APPLY_LOCKED', 4);
            const to = flag('--to');
            const leaveStopped = args.includes('--leave-stopped');
            const wasRunning = node.running;
            if (this.faults.cutDuringApply === name) {
              node.interrupted = { from: node.version, to, leaveStopped };
              node.version = to;
              node.running = true;
              this.check(`apply ${name} validates out of sight`);
              this.cut.add(name);
              throw Object.assign(new Error('connection ended'), { code: 'UPLIFT_SSH_CONNECT' });
            }
            if (this.faults.crashDuringApply === name) {
              node.interrupted = { from: node.version, to, leaveStopped };
              node.running = false;
              this.crash.abort();
              throw new Error('controller killed');
            }
            if (this.faults.hangApply?.has(name)) {
              node.interrupted = { from: node.version, to, leaveStopped };
              node.running = false;
              await new Promise((r) => setTimeout(r, o?.timeoutMs ?? 0));
              throw Object.assign(new Error('timed out'), { code: 'UPLIFT_TRANSPORT_TIMEOUT' });
            }
            if (this.faults.failApply?.has(name)) {
              node.running = wasRunning || !leaveStopped;
              this.check(`failed apply ${name}`);
              return err('UPLIFT_APPLY_SMOKE_FAILED');
            }
            if (!this.faults.staleApply?.has(name)) {
              node.previous = node.version;
              node.version = to;
              // apply starts the new version to probe and smoke-test it, --leave-stopped or not.
              node.running = true;
              this.check(`apply ${name} validates`);
            }
            node.running = leaveStopped ? wasRunning : true;
            this.check(`apply ${name}`);
            return ok({ from: node.previous, to, outcome: 'upgraded' });
          }
          case 'rollback':
            if (node.previous === undefined) return err('UPLIFT_APPLY_NOTHING_TO_ROLL_BACK', 2);
            node.version = node.previous;
            node.previous = undefined;
            this.check(`rollback ${name}`);
            return ok();
          case 'resume': {
            const j = node.interrupted;
            if (j === undefined) return ok({ outcome: 'nothing to resume' });
            node.interrupted = undefined;
            if (args.includes('--abort')) node.version = j.from;
            else {
              node.previous = j.from;
              node.version = j.to;
              // Finishing runs the hop again: the new version starts to be validated.
              node.running = true;
              this.check(`resume ${name} validates`);
            }
            // Forward or back, the node ends as apply would have left it: stopped with --leave-stopped.
            node.running = !j.leaveStopped;
            this.check(`resume ${name}`);
            return ok();
          }
        }
        return err('UPLIFT_USAGE', 2);
      },
    };
  }
}

class SimBalancer implements Balancer {
  readonly label = 'sim balancer';
  readonly ops: string[] = [];
  readonly fleet: SimFleet;
  readonly d: Deployment;
  readonly admin: Map<string, 'ready' | 'drain' | 'maint'>;
  constructor(fleet: SimFleet, d: Deployment, admin: Map<string, 'ready' | 'drain' | 'maint'>) {
    this.fleet = fleet;
    this.d = d;
    this.admin = admin;
  }
  async drain(server: string): Promise<void> {
    this.ops.push(`drain ${server}`);
    this.admin.set(server, 'drain');
    this.fleet.check(`drain ${server}`);
  }
  async enable(server: string): Promise<void> {
    this.ops.push(`enable ${server}`);
    this.admin.set(server, 'ready');
    this.fleet.check(`enable ${server}`);
  }
  async state(server: string): Promise<ServerState> {
    return { server, admin: this.admin.get(server) ?? 'maint', sessions: 0 };
  }
  async waitDrained(server: string): Promise<void> {
    this.ops.push(`wait ${server}`);
  }
  async close(): Promise<void> {}
}

/** An in-memory state store with claims another controller can hold. */
class SimStore implements StateStore {
  readonly kind = 'sqlite' as const;
  readonly label = 'sim store';
  runs: RunRecord[] = [];
  states: NodeStateRecord[] = [];
  steps: { node: string; step: string }[] = [];
  entries: AuditEntry[] = [];
  plans: { deployment: string; outcome: string }[] = [];
  heldByOther = new Set<string>();
  down = false;
  private guard() {
    if (this.down) throw new Error('connection refused');
  }
  async startRun(r: Omit<RunRecord, 'startedAt' | 'outcome'>): Promise<RunRecord> {
    this.guard();
    const rec = { ...r, startedAt: new Date().toISOString(), outcome: 'running' as const };
    this.runs.push(rec);
    return rec;
  }
  async finishRun(id: string, outcome: RunRecord['outcome']): Promise<void> {
    this.guard();
    const r = this.runs.find((x) => x.id === id);
    if (r) r.outcome = outcome;
  }
  async getRun(id: string) {
    return this.runs.find((x) => x.id === id);
  }
  async unfinishedRun(env: string) {
    this.guard();
    return [...this.runs]
      .reverse()
      .find((r) => r.env === env && (r.outcome === 'running' || r.outcome === 'interrupted'));
  }
  async setNodeState(s: Omit<NodeStateRecord, 'updatedAt'>) {
    this.guard();
    this.states.push({ ...s, updatedAt: '' });
  }
  async nodeStates(runId: string) {
    this.guard();
    return this.states.filter((s) => s.runId === runId);
  }
  async recordStep(t: { node: string; step: string }) {
    this.guard();
    this.steps.push({ node: t.node, step: t.step });
  }
  async recordFacts() {}
  async recordDeploymentPlan(p: { deployment: string; outcome: string }) {
    this.guard();
    this.plans.push({ deployment: p.deployment, outcome: p.outcome });
  }
  async passedPlanKeys() {
    return [];
  }
  async audit(e: AuditEntry) {
    this.guard();
    const entry = { ...e, id: this.entries.length + 1 };
    this.entries.push(entry);
    return entry;
  }
  async listAudit() {
    return this.entries;
  }
  async claim(key: string, controller: string): Promise<Claim | undefined> {
    this.guard();
    if (this.heldByOther.has(key)) return undefined;
    return { deploymentKey: key, controller, release: async () => {} };
  }
  async close() {}
}

const estimate: NodeEstimate = { stopSeconds: 1, upgradeSeconds: 5, startSeconds: 2 };

function statusOf(fleet: SimFleet): Map<string, NodeStatus> {
  return new Map([...fleet.nodes].map(([k, n]) => [k, { version: n.version, running: n.running }]));
}

function estimates(env: Environment) {
  return new Map(
    env.deployments.flatMap((d) =>
      d.nodes.map((n) => [nodeKey(d.name, n.name), estimate] as const),
    ),
  );
}

function setup(deployments: Deployment[]) {
  const env = testEnvironment('test', deployments);
  const fleet = new SimFleet(env);
  const store = new SimStore();
  const events: RolloutEvent[] = [];
  const pendingAuditFile = join(
    mkdtempSync(join(tmpdir(), 'uplift-rollout-')),
    'audit-pending.jsonl',
  );
  const targets = Object.fromEntries(deployments.map((d) => [d.name, '2.0.0']));
  const base = {
    env,
    topologyDigest: 'digest',
    agentFor: async (d: string, n: string) =>
      fleet.agent(env.deployments.find((x) => x.name === d) as Deployment, n),
    balancerFor: async (d: string) => fleet.balancers.get(d) as Balancer,
    controller: 'c1',
    actor: 'ops@host',
    onEvent: (e: RolloutEvent) => events.push(e),
    signal: fleet.crash.signal,
    pendingAuditFile,
    sleep: async () => {},
  };
  const run = (extra: Partial<RolloutContext> = {}) =>
    runRollout({
      ...base,
      store,
      plans: planRollout(env, statusOf(fleet), estimates(env), { targets }).deployments,
      ...extra,
    });
  const resume = (abort: boolean, s: StateStore | undefined = store) =>
    resumeRollout(
      { ...base, signal: undefined, store: s, targets, estimates: estimates(env) },
      { abort },
    );
  /** `action node outcome` for the node and balancer entries of the audit. */
  const trail = (filter: (e: AuditEntry) => boolean = () => true) =>
    store.entries
      .filter((e) => e.node !== undefined && e.outcome !== 'started' && filter(e))
      .map((e) => `${e.action} ${e.node} ${e.outcome}`);
  return { env, fleet, store, events, run, resume, trail, pendingAuditFile };
}

describe('runRollout (simulation)', () => {
  it('standard cluster: stops all, upgrades one at a time, starts all, syncs, probes; the audit says so', async () => {
    const s = setup([everyType.standard()]);

    const r = await s.run();

    expect(r.outcome).toBe('passed');
    expect(s.fleet.violations).toEqual([]);
    expect(s.trail()).toEqual([
      'node.stop n1 ok',
      'node.stop n2 ok',
      'node.stop n3 ok',
      'node.upgrade n1 ok',
      'node.upgrade n2 ok',
      'node.upgrade n3 ok',
      'node.start n1 ok',
      'node.start n2 ok',
      'node.start n3 ok',
      'node.after-start n1 ok',
      'node.after-start n2 ok',
      'node.after-start n3 ok',
      'node.probe n1 ok',
      'node.probe n2 ok',
      'node.probe n3 ok',
    ]);
    expect(s.fleet.calls.filter((c) => c.includes('apply'))).toEqual([
      'std/n1 apply',
      'std/n2 apply',
      'std/n3 apply',
    ]);
    expect(s.fleet.versions('std')).toEqual({ n1: '2.0.0', n2: '2.0.0', n3: '2.0.0' });
    const actions = s.store.entries
      .filter((e) => e.node === undefined)
      .map((e) => `${e.action} ${e.outcome}`);
    expect(actions).toEqual([
      'rollout.start started',
      'deployment.claim ok',
      'deployment.start started',
      'deployment.finish ok',
      'rollout.finish ok',
    ]);
    // Every action is recorded before (started) and after.
    expect(s.store.entries.filter((e) => e.node && e.outcome === 'started')).toHaveLength(15);
    expect(s.store.states.filter((x) => x.node === 'n2').map((x) => x.state)).toEqual([
      'stopped',
      'upgrading',
      'upgraded',
      'started',
      'validated',
    ]);
    expect(s.store.steps).toHaveLength(15);
    expect(s.store.runs[0]?.outcome).toBe('passed');
    expect(s.events.at(-1)).toMatchObject({ type: 'run', outcome: 'passed' });
    expect(s.events).toContainEqual(
      expect.objectContaining({
        type: 'node',
        node: 'n1',
        step: 'upgrade',
        state: 'ok',
        version: '2.0.0',
      }),
    );
  });

  it('standard cluster: a failed apply rolls back the nodes upgraded before it, in reverse order, and restarts the cluster on the old version', async () => {
    const s = setup([everyType.standard(), everyType.enterprise()]);
    s.fleet.faults.failApply = new Set(['n3']);

    const r = await s.run();

    expect(r.outcome).toBe('rolled-back');
    expect(r.deployments.map((d) => d.outcome)).toEqual(['rolled-back', 'not-started']);
    expect(s.fleet.violations).toEqual([]);
    expect(s.trail((e) => e.action !== 'node.stop' && e.deployment === 'std')).toEqual([
      'node.upgrade n1 ok',
      'node.upgrade n2 ok',
      'node.upgrade n3 failed',
      'node.rollback n2 ok',
      'node.rollback n1 ok',
      'node.start n1 ok',
      'node.start n2 ok',
      'node.start n3 ok',
    ]);
    expect(s.fleet.versions('std')).toEqual({ n1: '1.0.0', n2: '1.0.0', n3: '1.0.0' });
    expect(s.fleet.calls.some((c) => c.startsWith('ec/'))).toBe(false);
    expect(s.store.runs[0]?.outcome).toBe('rolled-back');
  });

  it('standard cluster: past the point of no return (all started) a failed probe stops without rolling back', async () => {
    const s = setup([everyType.standard()]);
    s.fleet.faults.notReady = new Set(['n2']);

    const r = await s.run();

    expect(r.outcome).toBe('failed');
    expect(r.deployments[0]).toMatchObject({
      outcome: 'failed',
      code: 'UPLIFT_APPLY_PROBE_FAILED',
    });
    expect(s.trail((e) => e.action === 'node.rollback')).toEqual([]);
    expect(s.fleet.versions('std')).toEqual({ n1: '2.0.0', n2: '2.0.0', n3: '2.0.0' });
  });

  it('streaming: edges stop first, the backend upgrades and starts first; all ends on the new version', async () => {
    const s = setup([everyType.streaming()]);

    const r = await s.run();

    expect(r.outcome).toBe('passed');
    expect(s.fleet.violations).toEqual([]);
    expect(s.trail((e) => e.action !== 'node.probe')).toEqual([
      'node.stop edge1 ok',
      'node.stop edge2 ok',
      'node.stop backend ok',
      'node.upgrade backend ok',
      'node.upgrade edge1 ok',
      'node.upgrade edge2 ok',
      'node.start backend ok',
      'node.start edge1 ok',
      'node.start edge2 ok',
    ]);
  });

  it('streaming: an edge is never started beside a backend of another version; the deployment goes back', async () => {
    const s = setup([everyType.streaming()]);
    // The backend says it upgraded but still runs 1.0.0.
    s.fleet.faults.staleApply = new Set(['backend']);

    const r = await s.run();

    expect(r.deployments[0]).toMatchObject({
      outcome: 'rolled-back',
      code: 'UPLIFT_ROLLOUT_MIXED_VERSIONS',
    });
    expect(s.fleet.violations).toEqual([]);
    expect(s.fleet.versions('stream')).toEqual({
      edge1: '1.0.0',
      backend: '1.0.0',
      edge2: '1.0.0',
    });
    expect(s.trail((e) => e.action === 'node.rollback')).toEqual([
      'node.rollback edge2 ok',
      'node.rollback edge1 ok',
    ]);
  });

  it('enterprise cluster: one node at a time with the others serving; a failure rolls back in reverse order', async () => {
    const s = setup([everyType.enterprise()]);
    s.fleet.faults.failApply = new Set(['e3']);

    const r = await s.run();

    expect(r.outcome).toBe('rolled-back');
    expect(s.fleet.violations).toEqual([]);
    expect(s.trail()).toEqual([
      'node.upgrade e1 ok',
      'node.upgrade e2 ok',
      'node.upgrade e3 failed',
      'node.rollback e2 ok',
      'node.rollback e1 ok',
    ]);
    expect(s.fleet.versions('ec')).toEqual({ e1: '1.0.0', e2: '1.0.0', e3: '1.0.0' });
  });

  it('active/passive: drains and upgrades b, moves traffic, drains and upgrades a; a server always takes connections', async () => {
    const s = setup([everyType.activePassive()]);

    const r = await s.run();

    expect(r.outcome).toBe('passed');
    expect(s.fleet.violations).toEqual([]);
    const b = s.fleet.balancers.get('ap') as SimBalancer;
    expect(b.ops).toEqual([
      'drain b1',
      'wait b1',
      'enable b1',
      'drain a1',
      'wait a1',
      'enable a1',
      'drain b1',
    ]);
    expect(Object.fromEntries(b.admin)).toEqual({ a1: 'ready', b1: 'drain' });
    expect(s.fleet.versions('ap')).toEqual({ a1: '2.0.0', b1: '2.0.0' });
  });

  it('active/passive: a failure on side a takes b back while a serves, and restores the balancer', async () => {
    const s = setup([everyType.activePassive()]);
    s.fleet.faults.failApply = new Set(['a1']);

    const r = await s.run();

    expect(r.outcome).toBe('rolled-back');
    expect(s.fleet.violations).toEqual([]);
    expect(s.fleet.versions('ap')).toEqual({ a1: '1.0.0', b1: '1.0.0' });
    const b = s.fleet.balancers.get('ap') as SimBalancer;
    expect(Object.fromEntries(b.admin)).toEqual({ a1: 'ready', b1: 'drain' });
    expect(b.ops.slice(5)).toEqual(['enable a1', 'drain b1', 'wait b1', 'enable a1', 'drain b1']);
  });

  it('rolling: a failure within the ratio leaves that node old and goes on; over the ratio rolls back', async () => {
    const tolerant = everyType.rolling();
    tolerant.rolling = { maxUnavailable: 2, pauseSeconds: 5, maxFailureRatio: 0.5 };
    const s = setup([tolerant]);
    s.fleet.faults.failApply = new Set(['r3']);

    const r = await s.run();

    expect(r.deployments[0]).toMatchObject({ outcome: 'failed', failedNodes: ['r3'] });
    expect(s.fleet.versions('roll')).toEqual({
      r1: '2.0.0',
      r2: '2.0.0',
      r3: '1.0.0',
      r4: '2.0.0',
      r5: '2.0.0',
    });

    const strict = setup([everyType.rolling()]);
    strict.fleet.faults.failApply = new Set(['r3']);

    const r2 = await strict.run();

    expect(r2.deployments[0]).toMatchObject({
      outcome: 'rolled-back',
      code: 'UPLIFT_ROLLOUT_FAILURE_RATIO',
    });
    expect(strict.trail((e) => e.action === 'node.rollback')).toEqual([
      'node.rollback r4 ok',
      'node.rollback r2 ok',
      'node.rollback r1 ok',
    ]);
    expect(Object.values(strict.fleet.versions('roll'))).toEqual(Array(5).fill('1.0.0'));
  });

  it('a node that does not answer within its timeout is failed; its interrupted apply is taken back', async () => {
    const d = everyType.enterprise();
    d.nodeTimeoutSeconds = 0.05;
    const s = setup([d]);
    s.fleet.faults.hangApply = new Set(['e2']);

    const r = await s.run();

    expect(r.deployments[0]).toMatchObject({
      outcome: 'rolled-back',
      code: 'UPLIFT_TRANSPORT_TIMEOUT',
    });
    expect(s.trail((e) => e.action === 'node.resume' || e.action === 'node.rollback')).toEqual([
      'node.resume e2 ok',
      'node.rollback e1 ok',
    ]);
    expect(s.fleet.versions('ec')).toEqual({ e1: '1.0.0', e2: '1.0.0', e3: '1.0.0' });
  });

  it('standard cluster: with a node cut off mid-apply, rolls the others back but starts none beside it (it may run the new version)', async () => {
    const s = setup([everyType.standard()]);
    s.fleet.faults.cutDuringApply = 'n2';

    const r = await s.run();

    expect(s.fleet.violations).toEqual([]);
    expect(r.deployments[0]).toMatchObject({
      outcome: 'failed',
      code: 'UPLIFT_ROLLOUT_NOT_RESTORED',
      notRestored: ['n1', 'n2', 'n3'],
    });
    expect(s.fleet.versions('std')).toEqual({
      n1: '1.0.0 (stopped)',
      n2: '2.0.0',
      n3: '1.0.0 (stopped)',
    });

    // Once it answers again, resume takes it from there without two versions running.
    s.fleet.cut.clear();
    s.fleet.faults = {};
    const again = await s.resume(false);

    expect(s.fleet.violations).toEqual([]);
    expect(again.outcome).toBe('passed');
    expect(s.fleet.versions('std')).toEqual({ n1: '2.0.0', n2: '2.0.0', n3: '2.0.0' });
  });

  it("reads a deployment's nodes again once claimed: what another controller upgraded meanwhile is not upgraded again", async () => {
    const s = setup([everyType.standalone(), everyType.enterprise()]);
    const targets = { solo: '2.0.0', ec: '2.0.0' };
    const stale = planRollout(s.env, statusOf(s.fleet), estimates(s.env), { targets }).deployments;
    // Another controller upgraded s1 and e1 between this one's plan and its claims.
    s.fleet.node('solo', 's1').version = '2.0.0';
    s.fleet.node('ec', 'e1').version = '2.0.0';

    const r = await s.run({ plans: stale });

    expect(r.outcome).toBe('passed');
    expect(s.fleet.calls.filter((c) => c.includes(' apply'))).toEqual([
      'ec/e2 apply',
      'ec/e3 apply',
    ]);
    expect(s.fleet.versions('solo')).toEqual({ s1: '2.0.0' });
  });

  it('skips a deployment another controller holds and reports it', async () => {
    const s = setup([everyType.standalone(), everyType.enterprise()]);
    s.store.heldByOther.add('test/solo');

    const r = await s.run();

    expect(r.deployments.map((d) => d.outcome)).toEqual(['claimed', 'passed']);
    expect(s.fleet.calls.some((c) => c.startsWith('solo/'))).toBe(false);
    expect(s.store.entries.find((e) => e.action === 'deployment.claim')?.outcome).toBe('refused');
    expect(s.events).toContainEqual(
      expect.objectContaining({ type: 'deployment', deployment: 'solo', state: 'claimed' }),
    );
  });

  it('refuses a run the gate refused, audited; an override runs and is audited with its reason', async () => {
    const s = setup([everyType.standalone()]);

    await expect(s.run({ gate: { pass: false } })).rejects.toMatchObject({
      code: 'UPLIFT_ROLLOUT_GATE_REFUSED',
    });
    expect(s.fleet.calls).toEqual([]);
    const r = await s.run({ gate: { pass: false, overrideReason: 'hotfix' } });

    expect(r.outcome).toBe('passed');
    expect(s.store.entries.map((e) => e.action).slice(0, 3)).toEqual([
      'gate.refuse',
      'rollout.start',
      'gate.override',
    ]);
    expect(s.store.entries[2]?.detail).toMatchObject({ reason: 'hotfix' });
  });

  it('records the plan key of each deployment, passed once it validated', async () => {
    const s = setup([everyType.standalone()]);
    const key = {
      profile: 'demo',
      profileDigest: 'p',
      path: ['1.0.0', '2.0.0'],
      packDigests: ['x'],
    };

    await s.run({ planKeys: { solo: key } });

    expect(s.store.plans).toEqual([
      { deployment: 'solo', outcome: 'running' },
      { deployment: 'solo', outcome: 'passed' },
    ]);
  });
});

describe('resumeRollout (simulation)', () => {
  it('after the controller died mid-apply: resumes the node, re-plans from the nodes, finishes', async () => {
    const s = setup([everyType.standard()]);
    s.fleet.faults.crashDuringApply = 'n2';

    const first = await s.run();
    s.fleet.faults = {};

    expect(first.outcome).toBe('interrupted');
    expect(s.fleet.node('std', 'n2').interrupted).toBeDefined();
    expect(s.fleet.violations).toEqual([]);

    const r = await s.resume(false);

    expect(r.outcome).toBe('passed');
    expect(r.runId).toBe(first.runId);
    expect(s.fleet.violations).toEqual([]);
    expect(s.fleet.versions('std')).toEqual({ n1: '2.0.0', n2: '2.0.0', n3: '2.0.0' });
    // n1 and n2 are not upgraded again.
    expect(s.fleet.calls.filter((c) => c.includes(' apply'))).toEqual([
      'std/n1 apply',
      'std/n2 apply',
      'std/n3 apply',
    ]);
    expect(s.fleet.calls).toContain('std/n2 resume');
  });

  it("waits while the dead controller's apply still holds a node's lock, then plans from where it ended", async () => {
    const s = setup([everyType.standard()]);
    s.fleet.faults.crashDuringApply = 'n2';
    await s.run();
    s.fleet.faults = {};
    // The apply on n2 was not cut: it still runs (lock held) and commits after a few reads.
    const n2 = s.fleet.node('std', 'n2');
    n2.interrupted = undefined;
    n2.orphanApply = { reads: 3, to: '2.0.0' };

    const r = await s.resume(false);

    expect(r.outcome).toBe('passed');
    expect(s.fleet.violations).toEqual([]);
    expect(s.fleet.versions('std')).toEqual({ n1: '2.0.0', n2: '2.0.0', n3: '2.0.0' });
    expect(s.fleet.calls.filter((c) => c.includes(' apply'))).toEqual([
      'std/n1 apply',
      'std/n2 apply',
      'std/n3 apply',
    ]);
  });

  it('stops the nodes running the old version before finishing an interrupted apply (which starts the new one to validate it)', async () => {
    const s = setup([everyType.standard()]);
    // What the failure policy leaves when n2's connection was cut mid-apply: n1 back on 1.0.0
    // and running, n3 running 1.0.0, n2's apply interrupted.
    for (const n of ['n1', 'n3']) s.fleet.node('std', n).running = true;
    Object.assign(s.fleet.node('std', 'n2'), {
      running: false,
      interrupted: { from: '1.0.0', to: '2.0.0', leaveStopped: true },
    });

    const r = await s.resume(false);

    expect(s.fleet.violations).toEqual([]);
    expect(r.outcome).toBe('passed');
    expect(s.fleet.versions('std')).toEqual({ n1: '2.0.0', n2: '2.0.0', n3: '2.0.0' });
    expect(s.fleet.calls.slice(0, 3)).toEqual([
      'std/n1 service stop',
      'std/n3 service stop',
      'std/n2 resume',
    ]);
  });

  it('with abort: takes the interrupted node back, rolls back the nodes the run upgraded, restarts the cluster', async () => {
    const s = setup([everyType.standard()]);
    s.fleet.faults.crashDuringApply = 'n3';
    await s.run();
    s.fleet.faults = {};

    const r = await s.resume(true);

    expect(r.outcome).toBe('rolled-back');
    expect(s.fleet.violations).toEqual([]);
    expect(s.fleet.versions('std')).toEqual({ n1: '1.0.0', n2: '1.0.0', n3: '1.0.0' });
    expect(s.fleet.calls.slice(-6)).toEqual([
      'std/n3 resume --abort',
      'std/n2 rollback',
      'std/n1 rollback',
      'std/n1 service start',
      'std/n2 service start',
      'std/n3 service start',
    ]);
  });

  it('with abort after the run had finished (the controller died after closing it): nothing is taken back, and it says so', async () => {
    const s = setup([everyType.standard()]);
    const first = await s.run();
    expect(first.outcome).toBe('passed');
    const calls = s.fleet.calls.length;

    const r = await s.resume(true);

    expect(r.outcome).toBe('passed');
    expect(r.deployments[0]?.message).toMatch(/nothing to take back/);
    expect(s.fleet.versions('std')).toEqual({ n1: '2.0.0', n2: '2.0.0', n3: '2.0.0' });
    // Only reads: no stop, rollback or start.
    expect(s.fleet.calls.slice(calls).filter((c) => !c.includes('status'))).toEqual([]);
  });

  it('with abort before the run touched a node: nothing changes, the deployment is as before the run (rolled-back)', async () => {
    const s = setup([everyType.standard()]);

    const r = await s.resume(true);

    expect(r.outcome).toBe('rolled-back');
    expect(s.fleet.versions('std')).toEqual({ n1: '1.0.0', n2: '1.0.0', n3: '1.0.0' });
  });

  it('works without the state store: the audit goes to the pending file and into the store next time', async () => {
    const s = setup([everyType.enterprise()]);
    s.fleet.faults.crashDuringApply = 'e2';
    await s.run();
    s.fleet.faults = {};
    const before = s.store.entries.length;
    s.store.down = true;

    const r = await s.resume(false);

    expect(r).toMatchObject({ outcome: 'passed', storeReachable: false });
    expect(s.fleet.versions('ec')).toEqual({ e1: '2.0.0', e2: '2.0.0', e3: '2.0.0' });
    const pending = readFileSync(s.pendingAuditFile, 'utf8').trim().split('\n');
    expect(pending.map((l) => JSON.parse(l).action)).toContain('node.resume');
    expect(s.store.entries).toHaveLength(before);

    s.store.down = false;
    await s.run();

    expect(s.store.entries.slice(before, before + pending.length).map((e) => e.action)).toEqual(
      pending.map((l) => JSON.parse(l).action),
    );
    expect(() => readFileSync(s.pendingAuditFile)).toThrow();
  });

  it('a fresh run needs the store', async () => {
    const s = setup([everyType.standalone()]);

    await expect(s.run({ store: undefined })).rejects.toMatchObject({
      code: 'UPLIFT_ROLLOUT_STATE_UNREACHABLE',
    });
    expect(s.fleet.calls).toEqual([]);
  });
});
