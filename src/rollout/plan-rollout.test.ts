import { describe, expect, it } from 'vitest';
import {
  everyType,
  testDeployment,
  testEnvironment,
  testNode,
} from '../../test/util/rollout-topology.ts';
import type { Deployment } from '../topology/types.ts';
import { nodeKey, planRollout } from './plan-rollout.ts';
import type { NodeEstimate, NodeStatus, RolloutStep } from './types.ts';

const est: NodeEstimate = { stopSeconds: 10, upgradeSeconds: 60, startSeconds: 20 };

/** Plans one deployment whose nodes all run `from`, except those given in `nodes`. */
function plan(d: Deployment, nodes: Record<string, Partial<NodeStatus>> = {}, from = '1.0.0') {
  const status = new Map<string, NodeStatus>();
  const estimates = new Map<string, NodeEstimate>();
  for (const n of d.nodes) {
    status.set(nodeKey(d.name, n.name), { version: from, running: true, ...nodes[n.name] });
    estimates.set(nodeKey(d.name, n.name), est);
  }
  const p = planRollout(testEnvironment('test', [d]), status, estimates, {
    targets: { [d.name]: '2.0.0' },
  });
  return p.deployments[0] as NonNullable<(typeof p.deployments)[0]>;
}

/** Steps as short strings: `stop n1,n2`, `upgrade- n1` (left stopped). */
const show = (steps: RolloutStep[]) =>
  steps.map((s) => `${s.kind}${s.leaveStopped ? '-' : ''} ${s.nodes.join(',')}`.trim());

describe('planRollout', () => {
  it('standalone: apply, with the node down for its stop, upgrade and start', () => {
    const p = plan(everyType.standalone());

    expect(show(p.steps)).toEqual(['upgrade s1']);
    expect(p.pointOfNoReturn).toBe(0);
    expect(p.downtime.perNode).toEqual({ s1: 90 });
    expect(p.downtime.serviceSeconds).toBe(90);
  });

  it('standard cluster: stop all, upgrade one at a time left stopped, start all, sync, probe', () => {
    const p = plan(everyType.standard());

    expect(show(p.steps)).toEqual([
      'stop n1,n2,n3',
      'upgrade- n1',
      'upgrade- n2',
      'upgrade- n3',
      'start n1,n2,n3',
      'after-start n1,n2,n3',
      'probe n1,n2,n3',
    ]);
    expect(p.steps[0]?.parallel).toBe(3);
    expect(p.pointOfNoReturn).toBe(4);
    // 10 (stop, all at once) + 3 × 60 (one at a time) + 20 (start, all at once).
    expect(p.downtime.serviceSeconds).toBe(210);
    expect(p.downtime.perNode).toEqual({ n1: 210, n2: 210, n3: 210 });
    expect(p.upgrades).toEqual(['n1', 'n2', 'n3']);
  });

  it('streaming: edges stop first, backend upgrades first, backend starts before its edges', () => {
    const p = plan(everyType.streaming());

    expect(show(p.steps)).toEqual([
      'stop edge1,edge2',
      'stop backend',
      'upgrade- backend',
      'upgrade- edge1',
      'upgrade- edge2',
      'start backend',
      'start edge1,edge2',
      'probe backend,edge1,edge2',
    ]);
    expect(p.pointOfNoReturn).toBe(6);
    // stop edges 10, stop backend 10, 3 upgrades 180, start backend 20, start edges 20.
    expect(p.downtime.serviceSeconds).toBe(240);
    // The backend is down from its stop (at 10 s) to its start (at 220 s).
    expect(p.downtime.perNode.backend).toBe(210);
  });

  it('enterprise cluster: one node at a time, no service downtime, each node down for its own apply', () => {
    const p = plan(everyType.enterprise());

    expect(show(p.steps)).toEqual(['upgrade e1', 'upgrade e2', 'upgrade e3', 'probe e1,e2,e3']);
    expect(p.downtime.serviceSeconds).toBe(0);
    expect(p.downtime.perNode).toEqual({ e1: 90, e2: 90, e3: 90 });
    expect(p.pointOfNoReturn).toBe(3);
    expect(p.expectedSeconds).toBe(270);
  });

  it('enterprise cluster of one node: its downtime is the service downtime', () => {
    const p = plan(testDeployment('ec1', 'enterprise-cluster', [testNode('only')]));

    expect(p.downtime.serviceSeconds).toBe(90);
  });

  it('active/passive: drain b, upgrade b, enable b, drain a, upgrade a, enable a, b back to passive', () => {
    const p = plan(everyType.activePassive());

    expect(show(p.steps)).toEqual([
      'drain b1',
      'wait-drained b1',
      'upgrade b1',
      'enable b1',
      'drain a1',
      'wait-drained a1',
      'upgrade a1',
      'enable a1',
      'drain b1',
    ]);
    expect(p.pointOfNoReturn).toBe(7);
    expect(p.downtime.serviceSeconds).toBe(0);
    expect(p.downtime.perNode).toEqual({ a1: 90, b1: 90 });
  });

  it('rolling: batches of maxUnavailable, a gate after each, a pause between them', () => {
    const p = plan(everyType.rolling());

    expect(show(p.steps)).toEqual([
      'upgrade r1,r2',
      'gate r1,r2',
      'pause',
      'upgrade r3,r4',
      'gate r3,r4',
      'pause',
      'upgrade r5',
      'gate r5',
    ]);
    expect(p.steps[0]?.parallel).toBe(2);
    expect(p.downtime.serviceSeconds).toBe(0);
    expect(p.pointOfNoReturn).toBe(7);
    // 3 batches of 90 s and two pauses of 5 s.
    expect(p.expectedSeconds).toBe(280);
  });

  it('rolling with maxUnavailable covering every node has service downtime', () => {
    const d = testDeployment('r', 'rolling', [testNode('x'), testNode('y')], {
      rolling: { maxUnavailable: 2, pauseSeconds: 0, maxFailureRatio: 0 },
    });

    expect(plan(d).downtime.serviceSeconds).toBe(90);
  });

  it('is deterministic', () => {
    expect(plan(everyType.streaming())).toEqual(plan(everyType.streaming()));
  });

  it('plans only the deployments asked for, with their target', () => {
    const env = testEnvironment('test', [everyType.standalone(), everyType.enterprise()]);

    const p = planRollout(env, new Map(), new Map(), { targets: {}, deployments: ['ec'] });

    expect(p.deployments.map((d) => [d.deployment, d.to])).toEqual([['ec', '2.0.0']]);
    // A node that reported nothing is upgraded.
    expect(p.deployments[0]?.upgrades).toEqual(['e1', 'e2', 'e3']);
  });

  describe('from the nodes after an interrupted run', () => {
    it('standard cluster: nodes at the target are not upgraded again, and the stopped ones are not stopped', () => {
      const p = plan(everyType.standard(), {
        n1: { version: '2.0.0', running: false },
        n2: { running: false },
      });

      expect(show(p.steps)).toEqual([
        'stop n3',
        'upgrade- n2',
        'upgrade- n3',
        'start n1,n2,n3',
        'after-start n1,n2,n3',
        'probe n1,n2,n3',
      ]);
      expect(p.skipped).toEqual(['n1']);
      expect(p.pointOfNoReturn).toBe(3);
    });

    it('standard cluster: every node upgraded but stopped: start them all, sync, probe', () => {
      const p = plan(everyType.standard(), {
        n1: { version: '2.0.0', running: false },
        n2: { version: '2.0.0', running: true },
        n3: { version: '2.0.0', running: false },
      });

      expect(show(p.steps)).toEqual(['start n1,n3', 'after-start n1,n2,n3', 'probe n1,n2,n3']);
    });

    it('every type at the target and running: nothing to do', () => {
      for (const make of Object.values(everyType)) {
        const d = make();
        const p = plan(d, {}, '2.0.0');

        expect(p.steps).toEqual([]);
        expect(p.pointOfNoReturn).toBeNull();
        expect(p.skipped).toEqual(d.nodes.map((n) => n.name));
        expect(p.downtime.serviceSeconds).toBe(0);
      }
    });

    it('streaming: backend upgraded and stopped, edges stopped: upgrade the edges, start backend then edges', () => {
      const p = plan(everyType.streaming(), {
        backend: { version: '2.0.0', running: false },
        edge1: { running: false },
        edge2: { running: false },
      });

      expect(show(p.steps)).toEqual([
        'upgrade- edge1',
        'upgrade- edge2',
        'start backend',
        'start edge1,edge2',
        'probe backend,edge1,edge2',
      ]);
    });

    it('streaming: everything upgraded, backend running, one edge stopped: start that edge', () => {
      const p = plan(everyType.streaming(), { edge2: { running: false } }, '2.0.0');

      expect(show(p.steps)).toEqual(['start edge2', 'probe backend,edge1,edge2']);
    });

    it('enterprise cluster: an upgraded node left stopped is started, the rest go on one at a time', () => {
      const p = plan(everyType.enterprise(), { e1: { version: '2.0.0', running: false } });

      expect(show(p.steps)).toEqual(['start e1', 'upgrade e2', 'upgrade e3', 'probe e1,e2,e3']);
      expect(p.skipped).toEqual(['e1']);
    });

    it('active/passive: b already upgraded: b takes traffic before a is drained', () => {
      const p = plan(everyType.activePassive(), { b1: { version: '2.0.0' } });

      expect(show(p.steps)).toEqual([
        'enable b1',
        'drain a1',
        'wait-drained a1',
        'upgrade a1',
        'enable a1',
        'drain b1',
      ]);
      expect(p.pointOfNoReturn).toBe(4);
    });

    it('rolling: batches are made of the nodes left', () => {
      const p = plan(everyType.rolling(), {
        r1: { version: '2.0.0' },
        r2: { version: '2.0.0' },
        r3: { version: '2.0.0', running: false },
      });

      expect(show(p.steps)).toEqual(['start r3', 'upgrade r4,r5', 'gate r4,r5']);
    });

    it('a node that was stopped before counts as down from the start', () => {
      const p = plan(everyType.enterprise(), { e2: { running: false } });

      // e2 is stopped until its apply (after e1's 90 s) ends: 90 + 60 + 20.
      expect(p.downtime.perNode.e2).toBe(170);
    });
  });
});
