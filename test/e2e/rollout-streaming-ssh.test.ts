import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { uplift, upliftAsync } from '../util/apply-skiff.ts';
import {
  type FixtureNode,
  isRunning,
  makeSkiffCluster,
  nodeVersion,
  probe,
  SKIFF_ONE_HOP,
  type SkiffCluster,
  type TopologyNodeSpec,
  writeTopology,
} from '../util/cluster-fixture.ts';
import {
  auditEntries,
  describeEachStore,
  jsonLines,
  rolloutArgs,
  rolloutEnd,
  runOnPrivateCli,
  sshNode,
  stepTimes,
  type TestStore,
  testStore,
} from '../util/rollout-e2e.ts';
import { type SshdSet, sshdMissing, startSshd } from '../util/sshd.ts';

/**
 * A streaming deployment (a backend and two edges, real skiff installations) rolled out through
 * the built CLI with every node reached over SSH: one real sshd per node on loopback, host keys
 * pinned in the topology. The order of stops, upgrades and starts is read from the audit log,
 * the final state from what a client gets (GET /health on each node). A node whose host key
 * changed refuses the rollout before anything changes. The same with the SQLite store and with a
 * real PostgreSQL.
 */
const missing = sshdMissing();
if (missing && process.env.CI === 'true') throw new Error(`real sshd needed under CI: ${missing}`);

const { from, to } = SKIFF_ONE_HOP;
const roles = { n1: 'backend', n2: 'edge', n3: 'edge' } as const;

const skip = missing !== undefined && process.env.CI !== 'true';
const cli = runOnPrivateCli({ skip });
let cluster: SkiffCluster;
let sshd: SshdSet;
let topology: string;
let changedKey: string;
let store: TestStore;

/**
 * skiff's release builder for the nodes' copy of the profile (its release-tree.mjs makes the
 * merge base of a first upgrade): the topology passes SKIFF_BUILD to the nodes (passEnv).
 */
const skiffBuild = () => ({ SKIFF_BUILD: join(cli.root, 'products/skiff/dist') });

describeEachStore('streaming rollout over SSH, with the %s store', (kind) => {
  if (skip) {
    it.skip(`needs a real sshd (${missing})`, () => {});
    return;
  }
  beforeAll(async () => {
    [cluster, sshd] = await Promise.all([
      makeSkiffCluster({ nodes: 3, from, to, running: true }),
      startSshd(3),
    ]);
    store = await testStore(kind, cluster.root);
    const nodeOf = (n: FixtureNode, k: number, hostKey: string): TopologyNodeSpec => {
      const s = sshd.instances[k];
      if (s === undefined) throw new Error('no sshd');
      const agentDir = join(cluster.root, n.name, 'agent');
      return {
        ...sshNode(s, n, { agentDir, hostKey }),
        role: roles[n.name as keyof typeof roles],
      };
    };
    /** The topology in `file`, each node's host key pinned to `keys[k]`. */
    const topologyWith = (file: string, keys: string[]) =>
      writeTopology(join(cluster.root, file), [
        {
          name: 'test',
          deployments: [
            cluster.deployment({
              name: 'stream',
              type: 'streaming',
              passEnv: ['SKIFF_BUILD'],
              nodes: cluster.nodes.map((n, k) => nodeOf(n, k, keys[k] ?? '')),
            }),
          ],
        },
      ]);
    const pinned = sshd.instances.map((s) => s.hostKeyLine);
    topology = await topologyWith('uplift.yaml', pinned);
    // Edge n3 pinned to the key of another host: to this controller, its key changed.
    changedKey = await topologyWith('changed.yaml', [pinned[0], pinned[1], pinned[0]] as string[]);
  }, 600_000);

  afterAll(async () => {
    await sshd?.stopAll();
  });

  it('refuses the rollout when a node’s host key changed, before anything changes', () => {
    const r = uplift(rolloutArgs({ topology: changedKey, store }), {
      env: { ...skiffBuild(), ...store.env },
    });

    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
    const last = rolloutEnd(r.stdout);
    expect(last.error?.code).toBe('UPLIFT_SSH_HOST_KEY_CHANGED');
    expect(last.error?.message).toMatch(/127\.0\.0\.1/);
    expect(jsonLines(r.stdout).filter((e) => e.type === 'node')).toEqual([]);
    for (const n of cluster.nodes) {
      expect(nodeVersion(n)).toBe(from);
      expect(isRunning(n)).toBe(true);
    }
  }, 120_000);

  it('upgrades the backend before the edges and never starts an edge beside another backend version', async () => {
    const t0 = performance.now();
    const r = await upliftAsync(rolloutArgs({ topology, store }), {
      env: { ...skiffBuild(), ...store.env },
    });
    const wall = Math.round(performance.now() - t0) / 1000;

    console.log(`streaming rollout of 3 skiff nodes over SSH: ${wall} s (${stepTimes(r.stdout)})`);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const result = rolloutEnd(r.stdout);
    expect(result).toMatchObject({ type: 'result', outcome: 'passed' });

    const entries = auditEntries(
      uplift(['audit', '--run', result.runId, ...store.args, '--json'], { env: store.env }),
    );
    const ops = entries
      .filter((e) => e.outcome === 'ok' && /^node\.(stop|upgrade|start)$/.test(e.action))
      .map((e) => `${e.action} ${e.node}`);
    const at = (op: string) => {
      const k = ops.indexOf(op);
      expect(k, `${op} in ${ops.join(', ')}`).toBeGreaterThanOrEqual(0);
      return k;
    };
    const edges = ['n2', 'n3'];
    for (const e of edges) {
      expect(at(`node.stop ${e}`)).toBeLessThan(at('node.stop n1'));
      expect(at('node.upgrade n1')).toBeLessThan(at(`node.upgrade ${e}`));
      expect(at('node.start n1')).toBeLessThan(at(`node.start ${e}`));
    }
    expect(ops).toHaveLength(9);

    // The timeline: replay the audit, tracking each node's version and whether it runs; at
    // every edge start the backend must run the edge's version.
    const node = new Map(
      cluster.nodes.map((n) => [n.name, { version: from as string, running: true }]),
    );
    for (const e of entries) {
      if (e.outcome !== 'ok' || e.node === undefined) continue;
      const s = node.get(e.node);
      if (s === undefined) continue;
      if (e.action === 'node.stop') s.running = false;
      if (e.action === 'node.upgrade') s.version = String(e.detail?.version ?? to);
      if (e.action === 'node.start') {
        s.running = true;
        if (roles[e.node as keyof typeof roles] === 'edge')
          expect(node.get('n1'), `backend when ${e.node} started`).toEqual({
            version: s.version,
            running: true,
          });
      }
      const backend = node.get('n1');
      for (const edge of edges) {
        const x = node.get(edge);
        if (x?.running && backend?.running)
          expect(x.version, `${edge} ran beside the backend`).toBe(backend.version);
      }
    }

    for (const n of cluster.nodes) {
      expect(nodeVersion(n)).toBe(to);
      expect(await probe(n), n.name).toMatchObject({ status: 'ok', version: to });
      // The plan's pack went to the node's shared packs folder, and the node ran uplift through
      // the kit's loader, which left its code cache in the kit.
      expect(r.stderr).toMatch(new RegExp(`stream/${n.name}: packs: 1 sent \\(`));
      const agentDir = join(cluster.root, n.name, 'agent');
      expect(readdirSync(join(agentDir, 'packs')).filter((f) => f.endsWith('.upk'))).toHaveLength(
        1,
      );
      const kits = readdirSync(agentDir).filter((k) => /^[0-9a-f]{16}$/.test(k));
      expect(kits).toHaveLength(1);
      expect(
        readdirSync(join(agentDir, kits[0] as string)).filter((f) => f.endsWith('.v8cache')),
      ).toHaveLength(1);
    }
  }, 300_000);
});
