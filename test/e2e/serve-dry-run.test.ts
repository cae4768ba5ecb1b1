import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createServeToken, type RunningServer, startServe } from '../../src/serve/index.ts';
import { type OpenedStateStore, openStateStore } from '../../src/state/index.ts';
import { upliftAsync } from '../util/apply-skiff.ts';
import {
  isRunning,
  makeSkiffCluster,
  nodeVersion,
  SKIFF_ONE_HOP,
  type SkiffCluster,
  writeTopology,
} from '../util/cluster-fixture.ts';
import { jsonLines, runOnPrivateCli } from '../util/rollout-e2e.ts';

/**
 * An operator's dry run through `uplift serve` on real skiff installations (local nodes): the
 * same plan `uplift rollout --dry-run --json` prints, nothing changed, the action audited under
 * the token's name. The CLI runs asynchronously: a blocking spawnSync would stall this process's
 * server past its keep-alive timeout, and the next fetch on the kept socket would be reset.
 */
const { from, to } = SKIFF_ONE_HOP;
runOnPrivateCli();
let cluster: SkiffCluster;
let topology: string;
let store: OpenedStateStore;
let server: RunningServer;
let token: string;

beforeAll(async () => {
  cluster = await makeSkiffCluster({ nodes: 2, from, to, running: true });
  topology = await writeTopology(join(cluster.root, 'uplift.yaml'), [
    {
      name: 'test',
      deployments: [cluster.deployment({ name: 'cluster', type: 'standard-cluster' })],
    },
  ]);
  store = await openStateStore({ file: join(cluster.root, 'state.db'), env: {} });
  token = (await createServeToken(store, 'olga', 'operator')).token;
  server = await startServe({ store, listen: '127.0.0.1:0', controller: 'serve:e2e', topology });
}, 300_000);
afterAll(async () => {
  await server?.close();
  await store?.close();
  await cluster?.dispose();
});

it('plans the rollout as the CLI does, changes nothing and audits it; shows the live fleet as uplift fleet does', async () => {
  const login = await fetch(`${server.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const { csrfToken } = (await login.json()) as { csrfToken: string };

  const res = await fetch(`${server.url}/api/rollouts/dry-run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
    body: JSON.stringify({ env: 'test' }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  const cli = await upliftAsync([
    'rollout',
    '--env',
    'test',
    '--topology',
    topology,
    '--state',
    join(cluster.root, 'cli.db'),
    '--dry-run',
    '--json',
  ]);

  expect(res.status, JSON.stringify(body)).toBe(200);
  expect(cli.code, cli.stderr).toBe(0);
  const expected = jsonLines(cli.stdout).at(-1) as Record<string, unknown>;
  expect(body).toMatchObject({ dryRun: true, env: 'test', gate: { pass: true } });
  expect(body.deployments).toEqual(expected.deployments);
  for (const n of cluster.nodes) {
    expect(nodeVersion(n)).toBe(from);
    expect(isRunning(n)).toBe(true);
  }
  expect((await store.listAudit()).filter((e) => e.action === 'serve.dry-run')).toMatchObject([
    { actor: 'olga', env: 'test', outcome: 'ok' },
  ]);
  expect(await store.listRuns()).toEqual([]);

  const live = (await (
    await fetch(`${server.url}/api/fleet?live=true`, { headers: { cookie } })
  ).json()) as {
    environments: {
      deployments: { versions: string[]; nodes: { name: string; reachable: boolean }[] }[];
    }[];
  };
  const fleet = await upliftAsync([
    'fleet',
    '--topology',
    topology,
    '--state',
    join(cluster.root, 'cli.db'),
    '--json',
  ]);
  const cliFleet = JSON.parse(fleet.stdout) as { environments: { deployments: unknown[] }[] };

  expect(live.environments[0]?.deployments[0]).toMatchObject({ versions: [from], drift: false });
  expect(live.environments[0]?.deployments[0]?.nodes.map((n) => [n.name, n.reachable])).toEqual([
    ['n1', true],
    ['n2', true],
  ]);
  expect(live.environments[0]?.deployments).toEqual(cliFleet.environments[0]?.deployments);
});
