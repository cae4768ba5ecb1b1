import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { uplift, upliftAsync } from '../util/apply-skiff.ts';
import {
  isRunning,
  makeSkiffCluster,
  nodeVersion,
  probe,
  SKIFF_ONE_HOP,
  type SkiffCluster,
  writeTopology,
} from '../util/cluster-fixture.ts';
import {
  auditEntries,
  describeEachStore,
  jsonLines,
  rolloutArgs,
  runOnPrivateCli,
  type TestStore,
  testStore,
} from '../util/rollout-e2e.ts';

/**
 * `uplift rollout`, `fleet` and `audit` through the built CLI on real skiff installations on this
 * machine (local nodes: the controller runs each node's uplift from this checkout's bundle), with
 * the SQLite state store in the test's folder, then with a real PostgreSQL: the dry run's order and downtime, a real rollout of
 * a 3-node standard cluster in the guide's order (asserted from the audit log), fleet after it,
 * and the promotion gate refusing prod before preprod passed, then an audited override.
 */
const { from, to } = SKIFF_ONE_HOP;
runOnPrivateCli();
describe('rollout, fleet and audit help', () => {
  it.each([['rollout'], ['fleet'], ['audit']])(
    '%s --help shows its exit codes and an example',
    (cmd) => {
      const r = uplift([cmd, '--help']);

      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Exit codes: 0/);
      expect(r.stdout).toMatch(new RegExp(`Example: uplift ${cmd} `));
    },
  );
});

describeEachStore('uplift rollout, with the %s store', (kind) => {
  const run = (args: string[]) => uplift(args, { env: store.env });
  const runAsync = (args: string[]) => upliftAsync(args, { env: store.env });
  let cluster: SkiffCluster;
  let others: SkiffCluster;
  let topology: string;
  let store: TestStore;

  beforeAll(async () => {
    [cluster, others] = await Promise.all([
      makeSkiffCluster({ nodes: 3, from, to, running: true }),
      makeSkiffCluster({ nodes: 2, from, to, running: false }),
    ]);
    store = await testStore(kind, cluster.root);
    const [p1, p2] = others.nodes;
    const single = (name: string, node: typeof p1) => ({
      ...others.deployment({ name, type: 'standalone' }),
      nodes: [{ name: node?.name as string, at: node?.install as string }],
    });
    topology = await writeTopology(join(cluster.root, 'uplift.yaml'), [
      {
        name: 'test',
        deployments: [cluster.deployment({ name: 'cluster', type: 'standard-cluster' })],
      },
      { name: 'preprod', deployments: [single('pre', p1)] },
      { name: 'prod', deployments: [single('live', p2)] },
    ]);
  }, 600_000);

  it('refuses bad input with exit 2 and changes nothing', () => {
    const noReason = run(
      rolloutArgs({ env: 'prod', topology, store, yes: false }, '--override-gate'),
    );
    const unknown = run(rolloutArgs({ env: 'nope', topology, store, yes: false }));

    expect(noReason.code).toBe(2);
    expect(jsonLines(noReason.stdout).at(-1)).toMatchObject({ error: { code: 'UPLIFT_USAGE' } });
    expect(unknown.code).toBe(2);
    expect(jsonLines(unknown.stdout).at(-1)).toMatchObject({
      error: { code: 'UPLIFT_ROLLOUT_ENV_UNKNOWN' },
    });
  });

  it('--dry-run prints the order, the downtime and the point of no return, and changes nothing', () => {
    const text = run(rolloutArgs({ topology, store, yes: false, json: false }, '--dry-run'));
    const r = run(rolloutArgs({ topology, store, yes: false }, '--dry-run'));

    console.log(text.stdout);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/1\. stop: n1, n2, n3/);
    expect(text.stdout).toMatch(/2\. upgrade, left stopped: n1/);
    expect(text.stdout).toMatch(/point of no return: step \d+/);
    expect(text.stdout).toMatch(/downtime per node: n1 \d+(\.\d+)? s, n2/);
    expect(text.stdout).toMatch(/service downtime in total: \d+/);
    expect(r.code).toBe(0);
    const doc = jsonLines(r.stdout).at(-1) as {
      dryRun: boolean;
      gate: { pass: boolean };
      deployments: { steps: { kind: string; nodes: string[] }[]; upgrades: string[] }[];
    };
    expect(doc.dryRun).toBe(true);
    expect(doc.gate.pass).toBe(true);
    expect(doc.deployments[0]?.steps.map((s) => `${s.kind} ${s.nodes.join(',')}`)).toEqual([
      'stop n1,n2,n3',
      'upgrade n1',
      'upgrade n2',
      'upgrade n3',
      'start n1,n2,n3',
      'probe n1,n2,n3',
    ]);
    for (const n of cluster.nodes) {
      expect(nodeVersion(n)).toBe(from);
      expect(isRunning(n)).toBe(true);
    }
  });

  it('rolls the standard cluster out in the guide’s order: stop all, upgrade one by one, start all', async () => {
    const t0 = performance.now();
    const r = await runAsync(rolloutArgs({ topology, store }));

    console.log(
      `rollout of 3 skiff nodes: ${Math.round(performance.now() - t0) / 1000} s\n${r.stderr}`,
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.at(-1)).toMatchObject({ type: 'result', outcome: 'passed' });
    expect(lines.some((e) => e.type === 'node' && e.step === 'upgrade' && e.state === 'ok')).toBe(
      true,
    );
    for (const n of cluster.nodes) {
      expect(nodeVersion(n)).toBe(to);
      expect((await probe(n))?.status).toBeDefined();
    }
    const entries = auditEntries(run(['audit', '--env', 'test', ...store.args, '--json']));
    const nodeOps = entries
      .filter((e) => e.outcome === 'ok' && /^node\.(stop|upgrade|start)$/.test(e.action))
      .map((e) => `${e.action} ${e.node}`);
    expect(nodeOps).toEqual([
      'node.stop n1',
      'node.stop n2',
      'node.stop n3',
      'node.upgrade n1',
      'node.upgrade n2',
      'node.upgrade n3',
      'node.start n1',
      'node.start n2',
      'node.start n3',
    ]);
    const text = run(['audit', '--env', 'test', ...store.args]);
    expect(text.stdout).toMatch(/rollout\.finish ok/);
  }, 600_000);

  it('fleet shows every node at the target, running, and no drift', () => {
    const r = run(['fleet', '--env', 'test', '--topology', topology, ...store.args, '--json']);

    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      environments: {
        name: string;
        lastRun: { outcome: string } | null;
        deployments: {
          drift: boolean;
          versions: string[];
          nodes: { version: string; running: boolean; ready: boolean }[];
        }[];
      }[];
    };
    const env = doc.environments[0];
    expect(env?.lastRun?.outcome).toBe('passed');
    expect(env?.deployments[0]?.drift).toBe(false);
    expect(env?.deployments[0]?.versions).toEqual([to]);
    expect(env?.deployments[0]?.nodes.map((n) => [n.version, n.running, n.ready])).toEqual(
      cluster.nodes.map(() => [to, true, true]),
    );
  });

  it("the nodes' measured hops went into the store: uplift estimate for preprod learns from test's three runs", () => {
    const pre = others.nodes[0] as (typeof others.nodes)[number];
    const r = run([
      'estimate',
      '--install',
      pre.install,
      '--to',
      to,
      ...store.args,
      '--no-record',
      '--json',
    ]);

    expect(r.code, r.stderr).toBe(0);
    const basis = JSON.parse(r.stdout).estimate.basis as {
      kind: string;
      runs: number;
      from: string[];
    };
    expect(basis).toMatchObject({ kind: 'measured', runs: 3 });
    for (const n of ['n1', 'n2', 'n3'])
      expect(
        basis.from.some((f) => f.endsWith(`(test/cluster on ${n})`)),
        `${n} in ${basis.from}`,
      ).toBe(true);
  });

  it('the gate refuses prod before preprod passed (exit 3, audited), and an override runs it, audited with its reason', async () => {
    const refused = run(rolloutArgs({ env: 'prod', topology, store }));

    expect(refused.code, refused.stderr).toBe(3);
    expect(jsonLines(refused.stdout).at(-1)).toMatchObject({
      error: { code: 'UPLIFT_ROLLOUT_GATE_REFUSED' },
    });
    expect(nodeVersion(others.nodes[1] as never)).toBe(from);

    const over = await runAsync(
      rolloutArgs(
        { env: 'prod', topology, store },
        '--override-gate',
        '--reason',
        'hotfix approved by change board',
      ),
    );

    expect(over.code, `${over.stdout}\n${over.stderr}`).toBe(0);
    expect(nodeVersion(others.nodes[1] as never)).toBe(to);
    expect(nodeVersion(others.nodes[0] as never)).toBe(from);
    const audit = auditEntries(run(['audit', '--env', 'prod', ...store.args, '--json']));
    const actions = audit.map((e) => `${e.action} ${e.outcome}`);
    expect(actions[0]).toBe('gate.refuse refused');
    expect(actions).toContain('gate.override ok');
    expect(audit.find((e) => e.action === 'gate.override')?.detail?.reason).toBe(
      'hotfix approved by change board',
    );
  }, 600_000);
});
