import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { uplift, upliftAsync } from '../util/apply-skiff.ts';
import {
  makeSkiffCluster,
  nodeVersion,
  probe,
  SKIFF_ONE_HOP,
  type SkiffCluster,
  writeTopology,
} from '../util/cluster-fixture.ts';
import {
  type AuditEntry,
  auditEntries,
  describeEachStore,
  rolloutArgs,
  rolloutEnd,
  runOnPrivateCli,
  stepTimes,
  type TestStore,
  testStore,
} from '../util/rollout-e2e.ts';

/**
 * A 3-node enterprise cluster of real skiff installations (local nodes) rolled out through the
 * built CLI: one node at a time while the others serve. A poller asks every node's GET /health
 * every 100 ms during the rollout: at no moment does no node serve, and never are two down at
 * once. The audit log shows each node's whole apply (stop, switch, start, probe on the node)
 * before the next node's begins, and each node's time out of service falls inside its own. The
 * same with the SQLite store and with a real PostgreSQL.
 */
const { from, to } = SKIFF_ONE_HOP;

runOnPrivateCli();
describeEachStore('enterprise cluster rollout, with the %s store', (kind) => {
  let cluster: SkiffCluster;
  let topology: string;
  let store: TestStore;

  beforeAll(async () => {
    cluster = await makeSkiffCluster({ nodes: 3, from, to, running: true });
    store = await testStore(kind, cluster.root);
    topology = await writeTopology(join(cluster.root, 'uplift.yaml'), [
      {
        name: 'test',
        deployments: [cluster.deployment({ name: 'ec', type: 'enterprise-cluster' })],
      },
    ]);
  }, 600_000);

  it('upgrades one node at a time while the others serve', async () => {
    const ticks: { at: number; serving: string[] }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const t = Date.now();
        const answers = await Promise.all(cluster.nodes.map((n) => probe(n, 1_000)));
        ticks.push({
          at: t,
          serving: cluster.nodes.filter((_, k) => answers[k]?.status === 'ok').map((n) => n.name),
        });
        await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - t))));
      }
    })();

    const t0 = performance.now();
    const r = await upliftAsync(rolloutArgs({ topology, store }), { env: store.env });
    polling = false;
    await poller;
    const wall = Math.round(performance.now() - t0) / 1000;

    const gaps = ticks.filter((t) => t.serving.length === 0).length;
    const twoDown = ticks.filter((t) => t.serving.length < cluster.nodes.length - 1).length;
    const downTicks = Object.fromEntries(
      cluster.nodes.map((n) => [n.name, ticks.filter((t) => !t.serving.includes(n.name)).length]),
    );
    console.log(
      `enterprise rollout of 3 skiff nodes: ${wall} s (${stepTimes(r.stdout)}); ${ticks.length} polls, ${gaps} with no node serving, ${twoDown} with two or more down; polls each node was down: ${JSON.stringify(downTicks)}`,
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const result = rolloutEnd(r.stdout);
    expect(result.outcome).toBe('passed');
    expect(gaps).toBe(0);
    expect(twoDown).toBe(0);
    // The poller saw each node go down: it watched the service, not only the ones that stayed up.
    for (const n of cluster.nodes) expect(downTicks[n.name], n.name).toBeGreaterThan(0);

    const entries = auditEntries(
      uplift(['audit', '--run', result.runId, ...store.args, '--json'], { env: store.env }),
    );
    const upgrades = entries.filter((e) => e.action === 'node.upgrade');
    expect(upgrades.map((e) => `${e.node} ${e.outcome}`)).toEqual([
      'n1 started',
      'n1 ok',
      'n2 started',
      'n2 ok',
      'n3 started',
      'n3 ok',
    ]);
    expect(entries.filter((e) => /^node\.(stop|start)$/.test(e.action))).toEqual([]);
    const lastUpgrade = entries.indexOf(upgrades.at(-1) as AuditEntry);
    expect(
      entries.slice(lastUpgrade).filter((e) => e.action === 'node.probe' && e.outcome === 'ok'),
    ).toHaveLength(3);

    // Each node was out of service only inside its own apply, as the audit times it.
    for (const n of cluster.nodes) {
      const [begin, end] = upgrades
        .filter((e) => e.node === n.name)
        .map((e) => Date.parse(e.at)) as [number, number];
      const down = ticks.filter((t) => !t.serving.includes(n.name)).map((t) => t.at);
      expect(Math.min(...down), n.name).toBeGreaterThanOrEqual(begin - 50);
      expect(Math.max(...down), n.name).toBeLessThanOrEqual(end + 50);
    }

    for (const n of cluster.nodes) {
      expect(nodeVersion(n)).toBe(to);
      expect(await probe(n), n.name).toMatchObject({ status: 'ok', version: to });
    }
  }, 300_000);
});
