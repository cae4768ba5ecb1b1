/**
 * The fixtures the rollout tests and the bench stand on (test/util/cluster-fixture.ts): real skiff
 * installations that answer at `from`, one upgraded by the built CLI answering at `to`, the
 * topology they are named in, bare copies `facts` and `check` read, and nothing left running.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isAlive } from '../../src/util/index.ts';
import { takePrivateCli, uplift } from '../util/apply-skiff.ts';
import {
  installPids,
  isRunning,
  makeBareNodes,
  makeSkiffCluster,
  makeVerdaccioDeployment,
  nodeVersion,
  probe,
  SKIFF_ONE_HOP,
  type SkiffCluster,
  stopAll,
  writeTopology,
} from '../util/cluster-fixture.ts';

const { from, to } = SKIFF_ONE_HOP;

describe('makeSkiffCluster: real skiff nodes for the rollout tests', () => {
  let cluster: SkiffCluster;
  let dispose: (() => Promise<void>) | undefined;
  /** Every pid seen running, to check none is left after stopAll. */
  const seen = new Set<number>();
  const remember = () => {
    for (const n of cluster.nodes) for (const pid of installPids(n.install)) seen.add(pid);
  };

  beforeAll(async () => {
    ({ dispose } = await takePrivateCli());
    cluster = await makeSkiffCluster({ nodes: 3, from, to, running: true });
  }, 180_000);

  afterAll(async () => {
    await stopAll();
    await dispose?.();
  });

  it(`3 running nodes, each on its own port, all answer /health at ${from}`, async () => {
    const health = await Promise.all(cluster.nodes.map((n) => probe(n)));

    expect(health.map((h) => h?.version)).toEqual([from, from, from]);
    expect(new Set(cluster.nodes.map((n) => n.port)).size).toBe(3);
    expect(cluster.nodes.map((n) => nodeVersion(n))).toEqual([from, from, from]);
    expect(cluster.nodes.every((n) => isRunning(n))).toBe(true);
    expect(cluster.hops).toEqual([{ from, to }]);
    remember();
  });

  it('writeTopology names the nodes, packs and trust file in an uplift.yaml', async () => {
    const file = join(cluster.root, 'uplift.yaml');

    await writeTopology(file, [
      {
        name: 'test',
        deployments: [cluster.deployment({ name: 'mft', type: 'standard-cluster' })],
      },
    ]);

    const doc = parse(await readFile(file, 'utf8'));
    expect(doc).toEqual({
      topology: 1,
      environments: [
        {
          name: 'test',
          deployments: [
            {
              name: 'mft',
              type: 'standard-cluster',
              profile: 'skiff',
              to,
              packs: cluster.packs,
              trust: cluster.trust,
              nodes: cluster.nodes.map((n) => ({ name: n.name, at: n.install })),
            },
          ],
        },
      ],
    });
  });

  it(`one node upgraded by the built CLI answers at ${to} on the same port; the others still at ${from}`, async () => {
    const [n1, n2, n3] = cluster.nodes as [never, never, never];

    const r = uplift([
      'apply',
      '--install',
      cluster.nodes[0]?.install as string,
      '--to',
      to,
      '--packs',
      cluster.packs,
      '--trust',
      cluster.trust,
      '--yes',
      '--json',
    ]);

    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'committed', from, to, version: to });
    expect((await probe(n1))?.version).toBe(to);
    expect(nodeVersion(n1)).toBe(to);
    expect((await probe(n2))?.version).toBe(from);
    expect((await probe(n3))?.version).toBe(from);
    remember();
  }, 120_000);

  it('stopAll leaves no process of any node and removes the folders', async () => {
    remember();
    // One server per node at 5.3.0 GA, and the upgraded node's new one.
    expect(seen.size).toBeGreaterThanOrEqual(cluster.nodes.length + 1);

    await stopAll();

    expect([...seen].filter(isAlive)).toEqual([]);
    expect(await Promise.all(cluster.nodes.map((n) => probe(n)))).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    await expect(readFile(join(cluster.root, 'uplift.yaml'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});

describe('makeBareNodes: stopped copies for the bench', () => {
  afterAll(() => stopAll());

  it('50 stopped copies that uplift facts and uplift check read', async () => {
    const bare = await makeBareNodes(50);

    const facts = uplift(['facts', '--install', bare.nodes[49]?.install as string, '--json']);
    const check = uplift(['check', '--install', bare.nodes[0]?.install as string, '--json']);

    expect(bare.nodes).toHaveLength(50);
    expect(bare.nodes.some((n) => isRunning(n))).toBe(false);
    expect(facts.code, facts.stderr).toBe(0);
    expect(JSON.parse(facts.stdout)).toMatchObject({ product: 'skiff', version: from });
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(JSON.parse(check.stdout).summary.fail).toBe(0);
  }, 120_000);
});

describe('makeVerdaccioDeployment: real Verdaccio nodes of the second product', () => {
  afterAll(() => stopAll());

  it('2 running nodes at the older version, one account, the pack and profile that upgrade them; stopAll stops them', async () => {
    const d = await makeVerdaccioDeployment({ nodes: 2, publish: false });
    const pids = d.nodes.flatMap((n) => installPids(n.install));

    const pings = await Promise.all(
      d.nodes.map((n) => fetch(`${n.url}/-/ping`).then((r) => r.status)),
    );
    const verify = uplift([
      'pack',
      'verify',
      join(d.packs, (await readdir(d.packs))[0] as string),
      '--trust',
      d.trust,
      '--install',
      d.nodes[0]?.install as string,
      '--profile',
      d.profile,
      '--json',
    ]);
    const versions = d.nodes.map((n) => nodeVersion(n));
    await stopAll();

    expect(pings).toEqual([200, 200]);
    expect(versions).toEqual([d.from, d.from]);
    expect(d.env).toEqual({ VERDACCIO_SMOKE_USER: d.user, VERDACCIO_SMOKE_PASSWORD: d.password });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(pids).toHaveLength(2);
    expect(pids.filter(isAlive)).toEqual([]);
  }, 300_000);
});
